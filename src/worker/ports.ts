/**
 * The edges of the worker. The lifecycle in stream-worker.ts is written against these interfaces
 * only; src/kafka implements them with kafkajs, and tests can drive them directly.
 */
import type { PoisonReason } from '../errors.js';
import type { ClusterProfile } from '../model/cluster-profile.js';
import type { AssignmentBatch, Matrix, ModelSnapshot } from '../model/types.js';

export type { FeatureScanner, RecordCodec } from '../codec/record-codec.js';

/** Header values as Kafka clients carry them. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type Headers = Readonly<Record<string, HeaderValue>>;

/** One record read from the input topic, bytes untouched. */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit: kept as decimal text. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  /** Record timestamp (producer or log-append time), epoch milliseconds. */
  readonly timestampMs: number;
}

/** One record to write (labelled output or dead letter). */
export interface OutboundMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | (Buffer | string)[]>>;
}

/** Records of one input partition, as fetched, with the controls that belong to them. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly SourceRecord[];
  /** Offset of the next record the broker will write to this partition (decimal text). */
  readonly highWatermark: string;
  /** Marks every record up to and including `offset` as handled: fetching moves past it. */
  resolve(offset: string): void;
  heartbeat(): Promise<void>;
  /** False once the stream is stopping: finish the unit in hand and return. */
  isRunning(): boolean;
  /** True when the partition was reassigned or sought: the rest of the batch must be dropped. */
  isStale(): boolean;
}

export type BatchHandler = (batch: PartitionBatch) => Promise<void>;

/** The input side: a consumer-group subscription. */
export interface RecordStreamOptions {
  /**
   * Batches of different partitions handled at once (default 1). The next fetch still waits for
   * every batch of the last one, and one partition's batches never overlap.
   */
  readonly concurrentBatches?: number;
}

export interface RecordStream {
  /** Joins the group and starts calling `handler` per partition batch; resolves once running. */
  start(handler: BatchHandler, options?: RecordStreamOptions): Promise<void>;
  /** Stops fetching new records of every assigned partition (they stay assigned). */
  pauseAll(): void;
  resumeAll(): void;
  /** Stops fetching and waits for the batch in flight to return. */
  stop(): Promise<void>;
  /** Leaves the group and closes connections. */
  close(): Promise<void>;
  /** Called once when the stream fails for good (the consumer crashed and will not restart). */
  onFailure(listener: (error: unknown) => void): void;
  /** Called after every (re)assignment with the input partitions this member now owns. */
  onAssignment(listener: (partitions: readonly number[]) => void): void;
  /**
   * Called whenever the brokers answered this member: a heartbeat or a fetch came back. A member
   * that has not heard from them for a session timeout has been (or is about to be) evicted.
   */
  onContact?(listener: () => void): void;
}

/** Everything one step writes for one input partition, with the offset to commit. */
export interface PublishUnit {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the next record to read: the commit position after this unit. */
  readonly nextOffset: string;
  readonly labelled: readonly OutboundMessage[];
  readonly deadLetters: readonly OutboundMessage[];
}

/**
 * The output side. At-least-once: produce with acks=all, then commit. Exactly-once: produce, dead
 * letters and the offset commit in one Kafka transaction.
 */
export interface OutputSink {
  readonly delivery: 'at-least-once' | 'exactly-once';
  start(): Promise<void>;
  /**
   * Makes the partition ready to publish (exactly-once: fences older producers of the partition)
   * and returns the committed offset as seen after that point, or undefined if none. Records below
   * it were already published by an earlier owner and must be skipped.
   */
  claim(topic: string, partition: number): Promise<string | undefined>;
  /** Forgets partitions this member no longer owns. */
  release(topic: string, partitions: readonly number[]): Promise<void>;
  publish(unit: PublishUnit): Promise<void>;
  /**
   * True when the sink writes units strictly in the order `publish` was called, and a failed
   * unit fails every later one without writing it. The worker may then hand over the next unit of
   * a partition before the previous one is acknowledged, so the sink never waits for the worker
   * between two units. Offsets are still committed in order, each after its records.
   */
  readonly queuesInOrder?: boolean;
  /**
   * Waits for what a publish left running and fails if it failed: a sink may commit a unit's
   * offset while the next unit is produced. The worker settles before a batch handler returns,
   * so no commit outlives the group generation that fetched its records.
   */
  settle?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A source of newer model versions while online, e.g. the mini-batch refinement thread. The worker
 * calls `poll` between batches only, so a swap never splits a batch across two model versions.
 */
export interface ModelRefiner {
  /** The worker serves `snapshot` from now on (after the bootstrap or a restart). */
  start(snapshot: ModelSnapshot): void | Promise<void>;
  /**
   * Standardised feature vectors of records just labelled, with their assignments under the model
   * that served them. The refiner owns `x` and `assignment` from here (they are not reused).
   * `seen.trainedOn`: the serving model trained on these records (the bootstrap window).
   */
  observe(
    x: Matrix,
    assignment: AssignmentBatch,
    modelVersion: number,
    seen?: { readonly trainedOn?: boolean },
  ): void;
  /** A newer snapshot to serve from the next batch on, or undefined. */
  poll(): ModelSnapshot | undefined;
  close(): Promise<void>;
}

/**
 * Where the profile of every cluster of each serving version goes (a compacted topic keyed by
 * cluster id), so that downstream users can join labelled records to what their cluster means.
 */
export interface ClusterProfileSink {
  /**
   * Writes one record per profile, all of one model version, and deletes the records of the
   * `retired` ids (clusters no longer published under them: cluster-ids.ts).
   */
  publish(profiles: readonly ClusterProfile[], retired?: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

/** The result of labelling one chunk of records. */
export interface LabelledChunk {
  /** One per labelled record, in input order. */
  readonly labelled: OutboundMessage[];
  readonly deadLetters: OutboundMessage[];
  readonly deadReasons: ReadonlyMap<PoisonReason, number>;
  /** Standardised features of the labelled records, a fresh matrix the caller may hand on. */
  readonly x: Matrix;
  /** Undefined when no record of the chunk could be labelled. */
  readonly assignment: AssignmentBatch | undefined;
  /** Record timestamps of the labelled records (for end-to-end latency). */
  readonly timestampsMs: readonly number[];
  /** The model version that labelled every record of the chunk. */
  readonly modelVersion: number;
}

/**
 * Turns chunks of source records into labelled output and dead letters with one model version
 * at a time, in this thread or another one.
 */
export interface Labeller {
  /** 'in-process' or 'thread', for logs. */
  readonly kind: string;
  /**
   * True when labelling runs beside the caller's thread: asking for the next chunk before the
   * previous one is published then overlaps the two.
   */
  readonly concurrent: boolean;
  /** The version `serve` last installed, if any. */
  readonly version: number | undefined;
  /**
   * Serves `snapshot` from the next `label` call on. Chunks asked for earlier are labelled by the
   * version serving when they were asked for: a chunk never mixes two versions.
   */
  serve(snapshot: ModelSnapshot): Promise<void>;
  /**
   * Labels one chunk. Poison records become dead letters; rejects only for what stops the worker
   * (a retriable registry failure, a labelling thread that died, no model served yet).
   */
  label(records: readonly SourceRecord[]): Promise<LabelledChunk>;
  /** Releases the model and stops the thread, if any; idempotent. */
  close(): Promise<void>;
}

/** Why a model version read from where the trainer publishes was not served. */
export const ModelSkipReasons = [
  'bad-manifest',
  'missing-chunk',
  'checksum',
  'undecodable',
] as const;
export type ModelSkipReason = (typeof ModelSkipReasons)[number];

/**
 * Model versions trained by another member of the group (the elected trainer), read from where
 * it publishes them. Every replica follows the same feed, so the same record at the same version
 * gets the same cluster whichever replica labels it.
 */
export interface ModelFeed {
  /** Settles once every version published before the feed started has been read. */
  readonly caughtUp: Promise<void>;
  /** The newest version that arrived whole and verified, if any. */
  latest(): ModelSnapshot | undefined;
}

/** Where the trainer publishes each version it serves, for every replica to follow. */
export interface ModelPublisher {
  /**
   * Publishes one version whole or not at all. Rejects once another trainer took over (this one
   * is fenced): a member that lost the trainer's role can never publish a stale model.
   */
  publish(snapshot: ModelSnapshot): Promise<void>;
  close(): Promise<void>;
}

/** Chooses the one member of the group that trains; the others only label. */
export interface TrainerElection {
  /**
   * Joins the election; `onChange` hears true once this member holds the trainer's role in a
   * stable group, and false when it lost it.
   */
  start(onChange: (trainer: boolean) => void): Promise<void>;
  /** Leaves the election (another member takes over within a rebalance). */
  close(): Promise<void>;
}
