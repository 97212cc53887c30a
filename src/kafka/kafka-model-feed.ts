import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { SnapshotError } from '../errors.js';
import { decodeSnapshot } from '../model/snapshot-codec.js';
import type { ModelSnapshot } from '../model/types.js';
import type { Logger } from '../runtime/logger.js';
import type { ModelFeed, ModelSkipReason } from '../worker/ports.js';
import type { AssembledVersion, ModelManifest } from './model-messages.js';
import { ModelAssembler, parseModelKey } from './model-messages.js';

export interface KafkaModelFeedOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** The worker's group id: the reader's own group is named after it, unique per process. */
  readonly groupId: string;
  readonly logger: Logger;
  /** A version read from the topic that could not be used; the previous one keeps serving. */
  readonly onSkip?: (reason: ModelSkipReason, version: number) => void;
  /** A newer version arrived whole and verified. */
  readonly onVersion?: (snapshot: ModelSnapshot) => void;
  /** How long `caughtUp` waits for transactions still open at start (default 5 s). */
  readonly openTransactionGraceMs?: number;
}

/** A fetch may hold a whole chunk of the largest message a topic can be configured to take. */
const ReaderFetchBytes = 16 * 1024 * 1024;

/**
 * A committed transaction's markers reach the partition within milliseconds; a transaction still
 * open after this long is a trainer's that stopped mid-publish (its successor aborts it at once,
 * the broker after the transaction timeout), and waiting for it would hold every starting replica.
 */
const OpenTransactionGraceMs = 5_000;

/**
 * Reads the models topic whole, as a table: from its first record, in a group of its own that
 * never commits, so every process sees every version still on the topic. Keeps the newest version
 * that arrived whole, matched its checksum and decoded; a corrupted or truncated one is logged,
 * counted and skipped, and the version before it stays the newest.
 */
export class KafkaModelFeed implements ModelFeed {
  readonly caughtUp: Promise<void>;
  private readonly options: KafkaModelFeedOptions;
  private readonly consumer: Consumer;
  private readonly assembler = new ModelAssembler();
  private newest: ModelSnapshot | undefined;
  /** Manifests of the whole versions on the topic that no tombstone has removed yet. */
  private readonly live = new Map<number, ModelManifest>();
  private markCaughtUp!: () => void;
  private graceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: KafkaModelFeedOptions) {
    this.options = options;
    this.consumer = options.kafka.consumer({
      groupId: `${options.groupId}.models-reader-${randomUUID()}`,
      readUncommitted: false,
      maxBytesPerPartition: ReaderFetchBytes,
      maxBytes: ReaderFetchBytes,
      maxWaitTimeInMs: 250,
    });
    this.caughtUp = new Promise<void>((resolve) => {
      this.markCaughtUp = resolve;
    });
  }

  latest(): ModelSnapshot | undefined {
    return this.newest;
  }

  /**
   * Starts reading; `caughtUp` settles once the offsets written before now have been read and
   * every transaction among them has ended, so a version whose commit returned just before is
   * read before it settles. Past the last stable offset, it waits at most the grace for a
   * transaction still open; what commits later arrives as any newer version does.
   */
  async start(): Promise<void> {
    const { topic } = this.options;
    const { stable, high } = await this.currentEnds();
    if (high === 0n) this.caughtUpNow();
    let position = 0n;
    const { END_BATCH_PROCESS, FETCH } = this.consumer.events;
    // Control records (transaction markers) count too: kafkajs reports them in lastOffset.
    this.consumer.on(END_BATCH_PROCESS, (event) => {
      position = BigInt(event.payload.lastOffset) + 1n;
      if (position >= high) this.caughtUpNow();
    });
    // The grace runs from a fetch made at the stable offset, not from now: joining the reader's
    // group takes seconds, and markers that land meanwhile must not be missed.
    this.consumer.on(FETCH, () => {
      if (position >= stable && position < high) this.caughtUpAfterGrace({ stable, high });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ message }) => {
        if (message.key !== null) this.read(message.key.toString(), message.value);
        return Promise.resolve();
      },
    });
  }

  /** The whole versions still on the topic, oldest first: the trainer retires them in order. */
  liveManifests(): ModelManifest[] {
    return [...this.live.values()].sort((a, b) => a.version - b.version);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.graceTimer);
    await this.consumer.disconnect();
  }

  private caughtUpNow(): void {
    clearTimeout(this.graceTimer);
    this.markCaughtUp();
  }

  private caughtUpAfterGrace(offsets: { stable: bigint; high: bigint }): void {
    const graceMs = this.options.openTransactionGraceMs ?? OpenTransactionGraceMs;
    this.graceTimer ??= setTimeout(() => {
      this.options.logger.warn(
        'models topic: a transaction is still open after the grace; serving what was committed before it',
        {
          graceMs,
          lastStableOffset: offsets.stable,
          highWatermark: offsets.high,
          servingVersion: this.newest?.version ?? null,
        },
      );
      this.markCaughtUp();
    }, graceMs);
  }

  /**
   * The partition's last stable offset and high watermark. The feed reads to the high watermark:
   * a transaction's commit returns before its markers reach the partition, and until they do the
   * stable offset (what a read_committed reader is told) stays before the committed version, so
   * a feed that stopped there would call itself caught up without it. The reader itself stays
   * read_committed and passes the markers (they count in a batch's lastOffset).
   */
  private async currentEnds(): Promise<{ stable: bigint; high: bigint }> {
    const end = async (readUncommitted: boolean): Promise<bigint> => {
      const admin = this.options.kafka.admin({ readUncommitted });
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(this.options.topic);
        return BigInt(offsets.find((o) => o.partition === 0)?.high ?? '0');
      } finally {
        await admin.disconnect();
      }
    };
    // The stable offset first: it is never past the high watermark read after it.
    const stable = await end(false);
    return { stable, high: await end(true) };
  }

  private read(key: string, value: Buffer | null): void {
    const named = parseModelKey(key);
    if (named?.kind === 'manifest' && value === null) this.live.delete(named.version);
    this.take(this.assembler.add({ key, value }));
  }

  private take(assembled: AssembledVersion | undefined): void {
    if (assembled === undefined) return;
    if (!assembled.ok) {
      this.skip(assembled.reason, assembled.version);
      return;
    }
    const { manifest, bytes } = assembled;
    this.live.set(manifest.version, manifest);
    let snapshot: ModelSnapshot;
    try {
      snapshot = decodeSnapshot(bytes);
      if (snapshot.version !== manifest.version) {
        throw new SnapshotError(`holds version ${snapshot.version}, not ${manifest.version}`);
      }
    } catch (error) {
      if (!(error instanceof SnapshotError)) throw error;
      this.skip('undecodable', manifest.version);
      return;
    }
    if (this.newest !== undefined && snapshot.version <= this.newest.version) return;
    this.newest = snapshot;
    this.assembler.forgetUpTo(snapshot.version);
    this.options.logger.info('model version read from the models topic', {
      modelVersion: snapshot.version,
      bytes: manifest.bytes,
      chunks: manifest.chunks,
    });
    this.options.onVersion?.(snapshot);
  }

  private skip(reason: ModelSkipReason, version: number): void {
    this.options.logger.warn('model version on the models topic skipped', {
      modelVersion: version,
      reason,
      servingVersion: this.newest?.version ?? null,
    });
    this.options.onSkip?.(reason, version);
  }
}
