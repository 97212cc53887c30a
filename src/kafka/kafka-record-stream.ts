import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';
import { lostMembership } from './group-membership.js';
import type {
  BatchHandler,
  PartitionBatch,
  RecordStream,
  RecordStreamOptions,
  SourceRecord,
} from '../worker/ports.js';

export interface KafkaRecordStreamOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topic: string;
  readonly logger: Logger;
  /**
   * Bounds what one fetch may buffer per partition (back-pressure: nothing else is buffered);
   * default DefaultFetchBytesPerPartition. A fetch holds at most the client's 10 MiB in all.
   */
  readonly maxBytesPerPartition?: number;
  /** Group timing; defaults 15 s, 3 s and 60 s (DEC_SESSION_TIMEOUT_MS and its siblings). */
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
}

/**
 * 2 MiB, the default of DEC_FETCH_MAX_BYTES_PER_PARTITION. Longer batches keep the labelling and
 * publishing threads busier (fewer batch starts and fetch round trips per record); the records of
 * a batch live until it is published, so larger fetches also swing the heap further between
 * collections. 2 MiB is where both stayed within their targets in the benchmarks.
 */
export const DefaultFetchBytesPerPartition = 2 * 1024 * 1024;

function toSourceRecord(topic: string, partition: number, message: KafkaMessage): SourceRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headers ?? {},
    timestampMs: Number(message.timestamp),
  };
}

/**
 * The input topic as a consumer-group subscription (kafkajs). Offsets are never committed by the
 * client itself (autoCommit off): the output sink commits them after publishing. Batches are
 * handled one at a time (or `concurrentBatches` partitions' at once) and the next fetch waits for
 * the handlers, so a slow producer or a long training pauses fetching instead of filling memory.
 * The consumer reads read_committed.
 */
export class KafkaRecordStream implements RecordStream {
  readonly consumer: Consumer;
  private readonly options: KafkaRecordStreamOptions;
  private readonly failureListeners: ((error: unknown) => void)[] = [];
  private readonly assignmentListeners: ((partitions: readonly number[]) => void)[] = [];
  private running = false;
  private closed = false;

  constructor(options: KafkaRecordStreamOptions) {
    this.options = options;
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: options.sessionTimeoutMs ?? 15_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? DefaultFetchBytesPerPartition,
      maxWaitTimeInMs: 500,
      retry: {
        retries: 5,
        // kafkajs asks only about errors it deems retriable (a coordinator still loading on a
        // fresh broker, a broker restarting): rejoin in-process rather than fail the worker.
        // /readyz stays 503 until the brokers answer again; other errors still fail it.
        restartOnFailure: (error) => {
          options.logger.warn('consumer restarting after a retriable error', { error });
          return Promise.resolve(true);
        },
      },
    });
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => {
      const partitions = event.payload.memberAssignment[options.topic] ?? [];
      for (const listener of this.assignmentListeners) listener(partitions);
    });
    this.consumer.on(CRASH, (event) => {
      if (event.payload.restart) return;
      for (const listener of this.failureListeners) listener(event.payload.error);
    });
  }

  onFailure(listener: (error: unknown) => void): void {
    this.failureListeners.push(listener);
  }

  onContact(listener: () => void): void {
    const { HEARTBEAT, FETCH } = this.consumer.events;
    this.consumer.on(HEARTBEAT, () => listener());
    this.consumer.on(FETCH, () => listener());
  }

  onAssignment(listener: (partitions: readonly number[]) => void): void {
    this.assignmentListeners.push(listener);
  }

  /**
   * Called as the consumer sends each fetch request. The next fetch waits for every batch of the
   * last one to be handled, so this is when the last fetch's records have been let go of.
   */
  onFetchStart(listener: () => void): void {
    this.consumer.on(this.consumer.events.FETCH_START, () => listener());
  }

  async start(handler: BatchHandler, options: RecordStreamOptions = {}): Promise<void> {
    const { topic } = this.options;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrentBatches ?? 1,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch } = payload;
        await this.handled(handler, {
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          records: batch.messages.map((m) => toSourceRecord(batch.topic, batch.partition, m)),
          resolve: (offset) => payload.resolveOffset(offset),
          heartbeat: () => payload.heartbeat(),
          isRunning: () => payload.isRunning(),
          isStale: () => payload.isStale(),
        });
      },
    });
    this.running = true;
  }

  /**
   * Runs `handler` on one batch. When the group dropped this member meanwhile, its error goes to
   * kafkajs as the coordinator's own, which makes the consumer rejoin: the batch's uncommitted
   * units are fetched again.
   */
  private async handled(handler: BatchHandler, batch: PartitionBatch): Promise<void> {
    try {
      await handler(batch);
    } catch (error) {
      const lost = lostMembership(error);
      if (lost === undefined) throw error;
      this.options.logger.warn('group membership lost; rejoining', {
        topic: batch.topic,
        partition: batch.partition,
        reason: lost.type,
      });
      throw lost;
    }
  }

  pauseAll(): void {
    if (this.running) this.consumer.pause([{ topic: this.options.topic }]);
  }

  resumeAll(): void {
    if (this.running) this.consumer.resume([{ topic: this.options.topic }]);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.stop();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    await this.consumer.disconnect();
  }
}
