import kafkajs from 'kafkajs';
import type { Assigner, Consumer, GroupMember, Kafka, PartitionAssigner } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';
import type { TrainerElection } from '../worker/ports.js';

// Node cannot see this export of kafkajs's CommonJS entry by name; the default import holds it.
const { AssignerProtocol } = kafkajs;

/** The control topic has one partition; the member that owns it trains. */
const TrainerPartition = 0;
const AssignerName = 'dec-stream-trainer';

export interface KafkaTrainerElectionOptions {
  readonly kafka: Kafka;
  /** The single-partition control topic (`<group>.control`). */
  readonly topic: string;
  /** The election's own consumer group (named after the control topic). */
  readonly groupId: string;
  readonly logger: Logger;
  /** The group's timing: a dead trainer is replaced within the session timeout. */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  /** How long an assignment must stand, with no rebalance started, before it is acted on. */
  readonly stableMs: number;
}

/**
 * The member that trains, of those in the group: the one that says it trains already (so a
 * member joining or leaving does not move the role), else the first by member id.
 */
export function chooseTrainer(
  members: readonly { memberId: string; trains: boolean }[],
): string | undefined {
  const sorted = [...members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  return (sorted.find((m) => m.trains) ?? sorted[0])?.memberId;
}

function trainsFlag(member: GroupMember): boolean {
  const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
  return metadata?.userData[0] === 1;
}

/**
 * A kafkajs assigner that gives the control partition to `chooseTrainer`'s member. Exported for
 * tools that hold the role themselves for a while (the scale benchmark starts its replicas
 * together that way).
 */
export function stickyTrainerAssigner(topic: string, trains: () => boolean): PartitionAssigner {
  return (): Assigner => ({
    name: AssignerName,
    version: 1,
    assign: ({ members }) => {
      const trainer = chooseTrainer(
        members.map((m) => ({ memberId: m.memberId, trains: trainsFlag(m) })),
      );
      return Promise.resolve(
        members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: m.memberId === trainer ? { [topic]: [TrainerPartition] } : {},
            userData: Buffer.alloc(0),
          }),
        })),
      );
    },
    protocol: ({ topics }) => ({
      name: AssignerName,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.from([trains() ? 1 : 0]),
      }),
    }),
  });
}

/**
 * Elects the trainer through Kafka: every replica joins one consumer group on a single-partition
 * control topic, and the member that owns partition 0 trains. A member acts on winning only once
 * the assignment has stood for `stableMs` with no rebalance begun, and drops the role as soon as
 * a new assignment leaves it out. A trainer that dies stops heartbeating, and the group hands the
 * partition to another member within the session timeout. Fencing on the models topic (the
 * publisher's fixed transactional id) covers the moment two members might both believe they train.
 */
export class KafkaTrainerElection implements TrainerElection {
  private readonly options: KafkaTrainerElectionOptions;
  private readonly consumer: Consumer;
  private trainer = false;
  private pending: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: KafkaTrainerElectionOptions) {
    this.options = options;
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      maxWaitTimeInMs: options.heartbeatIntervalMs,
      partitionAssigners: [stickyTrainerAssigner(options.topic, () => this.trainer)],
      retry: { retries: 5, restartOnFailure: () => Promise.resolve(true) },
    });
  }

  async start(onChange: (trainer: boolean) => void): Promise<void> {
    const { GROUP_JOIN, REBALANCING } = this.consumer.events;
    this.consumer.on(REBALANCING, () => this.cancelPending());
    this.consumer.on(GROUP_JOIN, (event) => {
      const owned = event.payload.memberAssignment[this.options.topic] ?? [];
      this.assigned(owned.includes(TrainerPartition), onChange);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: false });
    await this.consumer.run({ autoCommit: false, eachMessage: () => Promise.resolve() });
  }

  private assigned(wins: boolean, onChange: (trainer: boolean) => void): void {
    this.cancelPending();
    if (!wins) {
      this.change(false, onChange);
      return;
    }
    if (this.trainer) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (!this.closed) this.change(true, onChange);
    }, this.options.stableMs);
  }

  private change(trainer: boolean, onChange: (trainer: boolean) => void): void {
    if (this.trainer === trainer) return;
    this.trainer = trainer;
    this.options.logger.info(trainer ? 'elected trainer' : 'no longer the trainer', {
      group: this.options.groupId,
    });
    onChange(trainer);
  }

  private cancelPending(): void {
    if (this.pending !== undefined) clearTimeout(this.pending);
    this.pending = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelPending();
    await this.consumer.disconnect();
  }
}
