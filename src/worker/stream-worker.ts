import { clusterIdsOf } from '../model/cluster-ids.js';
import { clusterProfiles } from '../model/cluster-profile.js';
import { FeatureExtractor } from '../model/features.js';
import { leftOutColumnNames } from '../model/left-out-columns.js';
import type { ModelSnapshot, TrainingProgress } from '../model/types.js';
import type { ModelStore } from '../store/model-store.js';
import { BootstrapWindow } from './bootstrap-window.js';
import type { RecordLimits } from './record-limits.js';
import { applyRecordLimits } from './record-limits.js';
import type { Logger } from '../runtime/logger.js';
import { silentLogger } from '../runtime/logger.js';
import type { HealthSource, WorkerObserver } from './observer.js';
import { Phase, silentObserver } from './observer.js';
import { InProcessLabeller } from './labeller/in-process-labeller.js';
import { chooseOnlinePipeline } from './online/choose-pipeline.js';
import type { OnlinePipeline, PreparedUnit } from './online/unit-pipeline.js';
import { chunks } from './online/unit-pipeline.js';
import type {
  ClusterProfileSink,
  Labeller,
  ModelFeed,
  ModelRefiner,
  OutputSink,
  PartitionBatch,
  RecordCodec,
  RecordStream,
  SourceRecord,
} from './ports.js';

/** Trains the first model version on decoded bootstrap records. */
export type BootstrapTrainer = (
  records: readonly Record<string, unknown>[],
  hooks: {
    onProgress: (progress: TrainingProgress) => void;
    signal: AbortSignal;
    /** `<partition>:<offset>` of each record, for the sample of members the version keeps. */
    recordIds: readonly string[];
  },
) => Promise<ModelSnapshot>;

export interface StreamWorkerSettings {
  readonly inputTopic: string;
  readonly features: readonly string[];
  /** Most records labelled and published as one unit (one produce, one commit or transaction). */
  readonly batchMaxRecords: number;
  /**
   * 1: label, publish, label, publish. 2 or more: the next chunk is labelled while the previous one
   * is being published (publishing itself stays one unit at a time, in offset order). Default 1.
   */
  readonly maxInFlightBatches?: number;
  /**
   * Publish every chunk of one fetched partition batch as a single unit (one transaction), still
   * labelled chunk by chunk. Default: on for exactly-once sinks, where each unit costs a
   * transaction's round trips (add partitions, add offsets, find the group coordinator, commit
   * offsets, end); off for at-least-once, where chunks publish while the next one is labelled.
   */
  readonly unitPerBatch?: boolean;
  readonly bootstrap: {
    readonly records: number;
    readonly minRecords: number;
    readonly maxWaitMs: number;
  };
  /** Half-life, in records, of the cluster shares reported to the observer. */
  readonly shareHalfLifeRecords?: number;
  /**
   * Not ready once the brokers have not answered (heartbeat or fetch) for this long: the group's
   * session timeout, after which the coordinator hands this member's partitions to others.
   * Unchecked when absent or when the stream reports no contact.
   */
  readonly contactTimeoutMs?: number;
  /**
   * The largest record the output and dead-letter topics take: a larger labelled record is
   * dead-lettered (too-large), a larger dead letter truncated. Unchecked when absent.
   */
  readonly recordLimits?: RecordLimits;
  /**
   * Batches of different partitions handled at once where that is safe: with two or more batches
   * in flight and a sink that queues units in order (whose units then interleave across
   * partitions, each partition's in offset order). Otherwise one at a time. Default 4.
   */
  readonly concurrentBatches?: number;
}

/**
 * Partitions handled at once by default. A fetch brings every assigned partition's batch; handled
 * one after another, each batch begins with the publishing thread waiting while its first chunk
 * is labelled. Several at once keep it fed: about 5 % more records/s for the tabular benchmark's
 * worker on 4 partitions (docs/benchmarks.md), for about 40 MiB more resident memory.
 */
const DefaultConcurrentBatches = 4;

/** How long a failed snapshot write waits before the next try: the error repeats no faster. */
const SnapshotRetryMs = 30_000;

/** How often a labeller without a model looks for the trainer's first version. */
const FeedPollMs = 200;

export interface StreamWorkerOptions {
  readonly stream: RecordStream;
  readonly sink: OutputSink;
  readonly store: ModelStore;
  /** Decodes the bootstrap window; also labels records unless `labeller` is given. */
  readonly codec: RecordCodec;
  /**
   * Labels records with the served model version; default: in this thread with `codec`. The
   * worker serves every version through it and closes it.
   */
  readonly labeller?: Labeller;
  readonly train: BootstrapTrainer;
  readonly settings: StreamWorkerSettings;
  readonly observer?: WorkerObserver;
  readonly logger?: Logger;
  readonly refiner?: ModelRefiner;
  /** Receives the cluster profiles of every version that starts serving. */
  readonly profiles?: ClusterProfileSink;
  /**
   * Versions trained by another member (scale-out: the elected trainer). The worker then never
   * bootstraps: it serves the feed's newest version, swaps to newer ones between batches, and
   * until the first one exists it holds its partitions without fetching or committing (not
   * ready). `store` only caches what it serves.
   */
  readonly feed?: ModelFeed;
}

/**
 * The worker's lifecycle: starting → bootstrapping (collect a window, train, save, label the
 * window) or straight to online when a snapshot exists → online (label each fetched batch, publish,
 * commit) → draining → stopped; `failed` when something it cannot recover from happens.
 *
 * Offsets move only after the records they cover were published (at-least-once) or inside the
 * same transaction (exactly-once), so no record is ever skipped, bootstrap records included.
 */
/** The guard's scores for the serving log line, when the snapshot's training ran the guard. */
function guardSummary(snapshot: ModelSnapshot): Record<string, number> {
  const candidates = snapshot.metrics.selection?.candidates;
  if (candidates === undefined) return {};
  return Object.fromEntries(candidates.map((c) => [`${c.kind}Cut`, Number(c.score.toFixed(4))]));
}

export class StreamWorker implements HealthSource {
  /** Settles with the final phase (`stopped` or `failed`) once everything is closed. */
  readonly done: Promise<Phase>;
  private readonly options: StreamWorkerOptions;
  private readonly observer: WorkerObserver;
  private readonly log: Logger;
  private state: Phase = Phase.Starting;
  private readonly labeller: Labeller;
  /**
   * Beside a labelling thread: labels every other chunk of a batch published as one unit, in this
   * thread, which would otherwise wait for the thread before it can publish.
   */
  private readonly helper: Labeller | undefined;
  /** What a fetched batch goes through once online: one pipeline per publishing discipline. */
  private readonly pipeline: OnlinePipeline;
  /** The swap to a refined version under way, which batches asking meanwhile share. */
  private swapping: Promise<void> | undefined;
  /** The snapshot of the version now serving. */
  private serving: ModelSnapshot | undefined;
  private savedVersion: number | undefined;
  private nextSaveAttemptMs = 0;
  private lastContactMs: number | undefined;
  private window: BootstrapWindow | undefined;
  private bootstrapTask: Promise<void> | undefined;
  private connected = false;
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private failure: unknown;
  private finish!: (phase: Phase) => void;
  /** Next offset to publish per input partition; records below it were already published. */
  private readonly positions = new Map<number, bigint>();
  /** Partitions whose committed offset was read since they were last assigned. */
  private readonly claimed = new Set<number>();
  private owned = new Set<number>();
  private shares: Float64Array = new Float64Array(0);
  /** The cluster profiles being written, version after version; never rejects. */
  private profilesPublished: Promise<void> = Promise.resolve();

  constructor(options: StreamWorkerOptions) {
    this.options = options;
    this.observer = options.observer ?? silentObserver;
    this.log = options.logger ?? silentLogger;
    this.labeller = options.labeller ?? new InProcessLabeller(options.codec);
    this.helper = this.labeller.concurrent ? new InProcessLabeller(options.codec) : undefined;
    this.pipeline = chooseOnlinePipeline(
      {
        batchMaxRecords: options.settings.batchMaxRecords,
        nextVersion: () => this.swapIfRefined(),
        label: (records, labeller) => this.label(records, labeller),
        deliver: (batch, parts) =>
          this.deliver(batch.topic, batch.partition, parts, batch.highWatermark),
      },
      {
        unitPerBatch: options.settings.unitPerBatch,
        maxInFlightBatches: options.settings.maxInFlightBatches,
        sink: options.sink,
        helper: this.helper,
      },
    );
    this.done = new Promise<Phase>((resolve) => {
      this.finish = resolve;
    });
  }

  phase(): Phase {
    return this.state;
  }

  /**
   * /readyz: online with a model, holding input partitions (kafkajs reports the consumer running
   * before it has joined the group, and a replica beyond the partition count holds none), and
   * heard from the brokers within the session timeout (a frozen or unreachable broker).
   */
  isReady(): boolean {
    return (
      this.state === Phase.Online &&
      this.connected &&
      this.serving !== undefined &&
      this.owned.size > 0 &&
      this.inContact()
    );
  }

  private inContact(): boolean {
    const timeoutMs = this.options.settings.contactTimeoutMs;
    if (timeoutMs === undefined || this.lastContactMs === undefined) return true;
    return Date.now() - this.lastContactMs <= timeoutMs;
  }

  /** The model version now serving, if any. */
  get modelVersion(): number | undefined {
    return this.serving?.version;
  }

  /**
   * Loads the newest snapshot (or prepares the bootstrap), joins the consumer group and returns
   * once consuming has started. Failures after that point end in `done` settling with `failed`.
   * Once `signal` is aborted, the steps not yet begun are skipped (consuming is not started) and
   * start() returns; the caller then closes the worker.
   */
  async start(signal?: AbortSignal): Promise<void> {
    this.setPhase(Phase.Starting);
    const { stream, sink, store, settings } = this.options;
    const stopped = (): boolean => signal?.aborted === true;
    try {
      const snapshot = await this.startingVersion(store, signal);
      if (stopped()) return;
      await sink.start();
      if (stopped()) return;
      stream.onFailure((error) => this.fail(error));
      stream.onAssignment((partitions) => this.assigned(partitions));
      stream.onContact?.(() => {
        this.lastContactMs = Date.now();
      });
      if (snapshot !== undefined) {
        this.log.info('model snapshot found, skipping the bootstrap', {
          modelVersion: snapshot.version,
          createdAt: snapshot.createdAt,
        });
        this.savedVersion = snapshot.version;
        await this.serve(snapshot);
        this.setPhase(Phase.Online);
      } else if (this.options.feed === undefined) {
        this.window = new BootstrapWindow(settings.bootstrap);
        this.setPhase(Phase.Bootstrapping);
      } else {
        this.log.info('no model version yet: waiting for the trainer', {});
        this.setPhase(Phase.Bootstrapping);
      }
      if (stopped()) return;
      await stream.start((batch) => this.handle(batch), {
        concurrentBatches: this.pipeline.queuesUnits
          ? (settings.concurrentBatches ?? DefaultConcurrentBatches)
          : 1,
      });
      this.connected = true;
      this.observer.consumerConnected(true);
      const first =
        this.window !== undefined
          ? this.bootstrap(this.window)
          : this.state === Phase.Bootstrapping && this.options.feed !== undefined
            ? this.awaitFirstVersion(this.options.feed)
            : undefined;
      this.bootstrapTask = first?.catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.fail(error);
      });
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /**
   * Graceful stop: no new fetches, the unit in flight is published and committed, the serving
   * model is saved, every resource is closed. Idempotent; every step runs even when one fails.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const failed = this.state === Phase.Failed;
    if (!failed) this.setPhase(Phase.Draining);
    this.abort.abort();
    this.window?.close();
    const errors: unknown[] = [];
    const step = async (name: string, run: () => Promise<void> | void): Promise<void> => {
      try {
        await run();
      } catch (error) {
        errors.push(error);
        this.log.error('shutdown step failed', { step: name, error });
      }
    };
    // The bootstrap sees the abort: training stops, labelling the window stops after its unit.
    await step('finish bootstrap', () => this.bootstrapTask);
    await step('stop consuming', () => this.options.stream.stop());
    await step('close refiner', () => this.options.refiner?.close());
    await step('save model', () => this.saveServing(true));
    await step('close output', () => this.options.sink.close());
    await step('close cluster profiles', async () => {
      await this.profilesPublished;
      await this.options.profiles?.close();
    });
    await step('leave group', () => this.options.stream.close());
    await step('release model', () => this.labeller.close());
    await step('release helper model', () => this.helper?.close());
    this.connected = false;
    this.observer.consumerConnected(false);
    const final =
      failed || this.failure !== undefined || errors.length > 0 ? Phase.Failed : Phase.Stopped;
    this.setPhase(final);
    this.finish(final);
  }

  /**
   * Fails the worker from outside: something beside it that it cannot do without has failed (in
   * scale-out, the trainer of this process). It closes everything, as after its own failures.
   */
  failWith(error: unknown): void {
    this.fail(error);
  }

  private fail(error: unknown): void {
    if (this.state === Phase.Failed || this.state === Phase.Stopped) return;
    this.failure ??= error;
    this.log.error('worker failed', { error });
    this.setPhase(Phase.Failed);
    void this.close();
  }

  /** The first unrecoverable error, if the worker failed. */
  get error(): unknown {
    return this.failure;
  }

  private setPhase(phase: Phase): void {
    if (this.state === phase && phase !== Phase.Starting) return;
    this.state = phase;
    this.observer.phase(phase);
    this.log.info('phase', { phase });
  }

  private assigned(partitions: readonly number[]): void {
    const now = new Set(partitions);
    const revoked = [...this.owned].filter((p) => !now.has(p));
    this.owned = now;
    // After any rebalance the committed offsets are the truth again: re-read them before publishing.
    this.claimed.clear();
    for (const p of revoked) this.positions.delete(p);
    this.log.info('partitions assigned', { topic: this.options.settings.inputTopic, partitions });
    this.observer.partitionsAssigned(partitions.length);
    if (revoked.length > 0) {
      this.options.sink
        .release(this.options.settings.inputTopic, revoked)
        .catch((error: unknown) => {
          this.log.warn('releasing revoked partitions failed', { error });
        });
    }
  }

  private async handle(batch: PartitionBatch): Promise<void> {
    const last = batch.records[batch.records.length - 1];
    if (last === undefined) return;
    if (this.state === Phase.Bootstrapping && this.window === undefined) {
      // No model yet (scale-out): leave the batch unresolved, so it is fetched again once one is.
      this.options.stream.pauseAll();
      return;
    }
    if (this.state === Phase.Bootstrapping) {
      const window = this.window;
      // While training, batches are left unresolved: they are fetched again once online.
      const used = window === undefined ? 0 : window.add(batch.records);
      if (window === undefined || used === 0) return;
      this.observer.recordsConsumed(used);
      // Records past the window stay unresolved: they are fetched again once online.
      batch.resolve((batch.records[used - 1] as SourceRecord).offset);
      this.observer.bootstrap({ recordsCollected: window.size });
      if (!window.isCollecting) this.options.stream.pauseAll();
      return;
    }
    if (this.state !== Phase.Online) return;
    await this.handleOnline(batch, last);
    await this.options.sink.settle?.();
  }

  private async handleOnline(batch: PartitionBatch, last: SourceRecord): Promise<void> {
    this.observer.recordsConsumed(batch.records.length);
    const records = await this.unpublished(batch.topic, batch.partition, batch.records);
    if (records.length < batch.records.length) {
      this.log.info('skipping records published before', {
        partition: batch.partition,
        skipped: batch.records.length - records.length,
      });
      // Offsets ascend, so the skipped records are a prefix: the first chunk's resolve covers them.
      if (records.length === 0) {
        batch.resolve(last.offset);
        return;
      }
    }
    await this.pipeline.run(batch, records);
  }

  /** Drops the records of `partition` below the offset already published (read once per claim). */
  private async unpublished(
    topic: string,
    partition: number,
    records: readonly SourceRecord[],
  ): Promise<readonly SourceRecord[]> {
    if (!this.claimed.has(partition)) {
      const committed = await this.options.sink.claim(topic, partition);
      this.claimed.add(partition);
      if (committed !== undefined && BigInt(committed) >= 0n) {
        this.positions.set(partition, BigInt(committed));
      }
    }
    const position = this.positions.get(partition);
    if (position === undefined) return records;
    // Offsets ascend within a batch: when the first is not below the position, none is.
    const first = records[0];
    if (first === undefined || BigInt(first.offset) >= position) return records;
    return records.filter((r) => BigInt(r.offset) >= position);
  }

  /**
   * Labels one chunk of the bootstrap window of one partition, publishes it and moves the offset
   * past it. The model serving trained on these records: the refiner keeps them, but they do not
   * count towards the next retrain.
   */
  private async publishTrainedOn(
    topic: string,
    partition: number,
    records: readonly SourceRecord[],
    highWatermark: string,
  ): Promise<void> {
    const prepared = await this.label(records);
    if (prepared === undefined) return;
    await this.deliver(topic, partition, [{ ...prepared, trainedOn: true }], highWatermark);
  }

  /** Decodes and labels one chunk with the model serving now. */
  private async label(
    records: readonly SourceRecord[],
    labeller: Labeller = this.labeller,
  ): Promise<PreparedUnit | undefined> {
    const last = records[records.length - 1];
    if (this.serving === undefined || last === undefined) return undefined;
    const started = performance.now();
    const labelled = await labeller.label(records);
    const limits = this.options.settings.recordLimits;
    const chunk = limits === undefined ? labelled : applyRecordLimits(labelled, records, limits);
    return {
      chunk,
      records: records.length,
      version: chunk.modelVersion,
      lastOffset: last.offset,
      labelSeconds: (performance.now() - started) / 1000,
    };
  }

  /** Publishes labelled chunks of one partition as one unit (and commits past them), then reports them. */
  private async deliver(
    topic: string,
    partition: number,
    parts: readonly PreparedUnit[],
    highWatermark: string,
  ): Promise<void> {
    const last = parts[parts.length - 1];
    if (last === undefined) return;
    const nextOffset = BigInt(last.lastOffset) + 1n;
    const only = parts.length === 1 ? parts[0] : undefined;
    await this.options.sink.publish({
      topic,
      partition,
      nextOffset: nextOffset.toString(),
      labelled: only?.chunk.labelled ?? parts.flatMap((p) => p.chunk.labelled),
      deadLetters: only?.chunk.deadLetters ?? parts.flatMap((p) => p.chunk.deadLetters),
    });
    this.positions.set(partition, nextOffset);
    for (const prepared of parts)
      this.report(topic, partition, prepared, highWatermark, nextOffset);
  }

  /** Tells the observer (and the refiner) about one published chunk. */
  private report(
    topic: string,
    partition: number,
    prepared: PreparedUnit,
    highWatermark: string,
    nextOffset: bigint,
  ): void {
    const { chunk } = prepared;
    const now = Date.now();
    const observer = this.observer;
    observer.batch(prepared.records, prepared.labelSeconds);
    if (chunk.labelled.length > 0) observer.recordsProcessed('labelled', chunk.labelled.length);
    if (chunk.deadLetters.length > 0) {
      observer.recordsProcessed('dead-lettered', chunk.deadLetters.length);
      for (const [reason, count] of chunk.deadReasons) {
        observer.deadLettered(reason, count);
        this.log.warn('records dead-lettered', {
          reason,
          count,
          partition,
          lastOffset: prepared.lastOffset,
        });
      }
    }
    observer.endToEndLatency(chunk.timestampsMs.map((ts) => Math.max(0, now - ts) / 1000));
    observer.consumerLag(topic, partition, Number(BigInt(highWatermark) - nextOffset));
    const assignment = chunk.assignment;
    if (assignment !== undefined) {
      const counts = new Array<number>(assignment.clusters).fill(0);
      for (const c of assignment.cluster) counts[c] = (counts[c] ?? 0) + 1;
      observer.labelledPerCluster(counts);
      observer.confidence(assignment.confidence);
      // A refiner reports the shares from its own running estimate.
      if (this.options.refiner === undefined) this.updateShares(counts);
      else {
        this.options.refiner.observe(chunk.x, assignment, prepared.version, {
          trainedOn: prepared.trainedOn === true,
        });
      }
    }
  }

  /** Decaying per-cluster share of recent records (half-life in records). */
  private updateShares(counts: readonly number[]): void {
    const halfLife = this.options.settings.shareHalfLifeRecords ?? 1000;
    if (this.shares.length !== counts.length) this.shares = new Float64Array(counts.length);
    const total = counts.reduce((a, b) => a + b, 0);
    const keep = Math.pow(0.5, total / halfLife);
    let sum = 0;
    for (let j = 0; j < counts.length; j++) {
      const value = (this.shares[j] as number) * keep + (counts[j] as number);
      this.shares[j] = value;
      sum += value;
    }
    if (sum > 0) this.observer.clusterShares(Array.from(this.shares, (v) => v / sum));
  }

  private async serve(snapshot: ModelSnapshot): Promise<void> {
    const inputDims = new FeatureExtractor(snapshot.featureSpec).dims;
    await this.labeller.serve(snapshot);
    await this.helper?.serve(snapshot);
    const previous = this.serving;
    this.serving = snapshot;
    this.observer.modelServing({
      version: snapshot.version,
      backend: snapshot.metrics.backend,
      inputDims,
      clusters: snapshot.parameters.clusters,
      clusterIds: clusterIdsOf(snapshot),
      modelKind: snapshot.metrics.modelKind ?? 'dec',
    });
    this.log.info('model serving', {
      modelVersion: snapshot.version,
      modelKind: snapshot.metrics.modelKind ?? 'dec',
      ...guardSummary(snapshot),
      clusters: snapshot.parameters.clusters,
      inputDims,
      labeller: this.labeller.kind,
    });
    this.publishProfiles(snapshot, previous);
    if (previous === undefined) await this.options.refiner?.start(snapshot);
  }

  /**
   * Publishes what each cluster of the new version means, in the background and in version order,
   * so that a slow broker never holds up labelling. A failure is logged, not fatal: the records
   * are still labelled, and the next version publishes its profiles again.
   */
  private publishProfiles(snapshot: ModelSnapshot, previous: ModelSnapshot | undefined): void {
    const sink = this.options.profiles;
    if (sink === undefined) return;
    const profiles = clusterProfiles(snapshot);
    const live = new Set(clusterIdsOf(snapshot));
    const retired =
      previous === undefined ? [] : clusterIdsOf(previous).filter((id) => !live.has(id));
    this.profilesPublished = this.profilesPublished
      .then(() => sink.publish(profiles, retired))
      .catch((error: unknown) => {
        this.log.warn('publishing the cluster profiles failed', {
          modelVersion: snapshot.version,
          error,
        });
      });
  }

  /**
   * Between batches: serve a newer version from the refiner, saved first so restarts resume it.
   * Batches of several partitions may ask at once: they share one swap.
   */
  private swapIfRefined(): Promise<void> {
    if (this.options.refiner === undefined && this.options.feed === undefined) {
      return Promise.resolve();
    }
    this.swapping ??= this.swapToRefined().finally(() => {
      this.swapping = undefined;
    });
    return this.swapping;
  }

  private async swapToRefined(): Promise<void> {
    const next = this.newerVersion();
    if (next === undefined || next.version === this.serving?.version) return;
    await this.serve(next);
    await this.saveServing();
  }

  /** The refiner's next version, or else the feed's newest when it is newer than the serving one. */
  private newerVersion(): ModelSnapshot | undefined {
    const { refiner, feed } = this.options;
    if (refiner !== undefined) return refiner.poll();
    const latest = feed?.latest();
    if (latest === undefined || latest.version <= (this.serving?.version ?? 0)) return undefined;
    return latest;
  }

  /**
   * The version to start with: with a feed, its newest once it has read what was published
   * before (the local store is only its cache); else the newest in the store.
   */
  private async startingVersion(
    store: ModelStore,
    signal: AbortSignal | undefined,
  ): Promise<ModelSnapshot | undefined> {
    const feed = this.options.feed;
    if (feed === undefined) return store.loadLatest();
    await abortable(feed.caughtUp, signal);
    return feed.latest();
  }

  /** Scale-out without a model yet: serves the trainer's first version once it arrives. */
  private async awaitFirstVersion(feed: ModelFeed): Promise<void> {
    const signal = this.abort.signal;
    let snapshot = feed.latest();
    while (snapshot === undefined) {
      await delay(FeedPollMs, signal);
      if (signal.aborted) return;
      snapshot = feed.latest();
    }
    await this.serve(snapshot);
    await this.saveServing();
    this.setPhase(Phase.Online);
    this.options.stream.resumeAll();
  }

  /**
   * Saves the serving version unless it is saved already. A failed write (a read-only or full
   * model directory) must not stop labelling: it is counted and logged as an error, the worker
   * goes on with the serving version, and the write is tried again at the next chance after
   * SnapshotRetryMs (or at once when `force`, as at shutdown). A restart meanwhile resumes from the
   * newest version that did reach the directory.
   */
  private async saveServing(force = false): Promise<void> {
    const snapshot = this.serving;
    if (snapshot === undefined || snapshot.version === this.savedVersion) return;
    if (!force && Date.now() < this.nextSaveAttemptMs) return;
    try {
      await this.options.store.save(snapshot);
      this.savedVersion = snapshot.version;
      this.nextSaveAttemptMs = 0;
      this.observer.snapshotWritten(true);
      this.log.info('model snapshot saved', { modelVersion: snapshot.version });
    } catch (error) {
      this.nextSaveAttemptMs = Date.now() + SnapshotRetryMs;
      this.observer.snapshotWritten(false);
      this.log.error('model snapshot write failed; labelling goes on with the serving version', {
        modelVersion: snapshot.version,
        savedVersion: this.savedVersion ?? null,
        retryInMs: SnapshotRetryMs,
        error,
      });
    }
  }

  /** Collects the window, trains, saves, labels the window itself, then goes online. */
  private async bootstrap(window: BootstrapWindow): Promise<void> {
    const { settings, stream, codec } = this.options;
    const signal = this.abort.signal;
    await window.ready;
    if (signal.aborted) return;
    stream.pauseAll();
    const records = window.take();
    this.log.info('bootstrap window collected', { records: records.length });
    this.observer.bootstrap({ recordsCollected: records.length });

    const training = trainingRecords(records, codec, settings.features);
    this.log.info('bootstrap training', {
      records: training.values.length,
      unusable: records.length - training.values.length,
    });
    const started = Date.now();
    let lastPhase = '';
    const snapshot = await this.options.train(training.values, {
      signal,
      recordIds: training.ids,
      onProgress: (progress) => {
        this.observer.bootstrap({
          trainingPhase: progress.phase,
          epoch: progress.step,
          ...(progress.loss === undefined ? {} : { loss: progress.loss }),
        });
        if (progress.phase !== lastPhase) {
          lastPhase = progress.phase;
          this.log.info('bootstrap training phase', {
            trainingPhase: progress.phase,
            totalSteps: progress.totalSteps,
          });
        }
      },
    });
    if (signal.aborted) return;
    const leftOut = leftOutColumnNames(snapshot.standardisation, snapshot.featureSpec);
    this.log.info('bootstrap trained', {
      modelVersion: snapshot.version,
      wallMs: Date.now() - started,
      // Columns independent of every other column, which the model does not use (DEC_COLUMN_SCREENING).
      ...(leftOut.length === 0 ? {} : { leftOutColumns: leftOut }),
    });
    if (snapshot.metrics.modelKind === 'kmeans') {
      // Say it plainly: the user asked for DEC and gets k-means, because it cut the data better.
      this.log.warn('the guard serves k-means on the inputs: the deep model was not better', {
        modelVersion: snapshot.version,
        ...guardSummary(snapshot),
      });
    }
    await this.serve(snapshot);
    await this.saveServing();
    if (!(await this.publishWindow(records, signal))) return;
    await this.options.sink.settle?.();
    this.window = undefined;
    this.setPhase(Phase.Online);
    stream.resumeAll();
  }

  /**
   * Labels and publishes the bootstrap window itself, partition by partition, in offset order;
   * false when shutdown stopped it part way.
   */
  private async publishWindow(
    records: readonly SourceRecord[],
    signal: AbortSignal,
  ): Promise<boolean> {
    const byPartition = new Map<number, SourceRecord[]>();
    for (const record of records) {
      const list = byPartition.get(record.partition) ?? [];
      list.push(record);
      byPartition.set(record.partition, list);
    }
    for (const [partition, list] of byPartition) {
      if (this.owned.size > 0 && !this.owned.has(partition)) continue;
      const topic = (list[0] as SourceRecord).topic;
      const pending = await this.unpublished(topic, partition, list);
      for (const chunk of chunks(pending, this.options.settings.batchMaxRecords)) {
        if (signal.aborted) return false;
        const last = chunk[chunk.length - 1] as SourceRecord;
        await this.publishTrainedOn(topic, partition, chunk, (BigInt(last.offset) + 1n).toString());
      }
    }
    return true;
  }
}

/**
 * The bootstrap records the model can train on: those that decode and carry the feature widths
 * most of the window agrees on. The others are dead-lettered when the window is labelled.
 */
function trainingRecords(
  records: readonly SourceRecord[],
  codec: RecordCodec,
  features: readonly string[],
): { values: Record<string, unknown>[]; ids: string[] } {
  const decoded: Record<string, unknown>[] = [];
  const decodedIds: string[] = [];
  const votes = new Map<string, { count: number; extractor: FeatureExtractor }>();
  for (const record of records) {
    let value: Record<string, unknown>;
    try {
      value = codec.decode(record.value);
    } catch {
      continue;
    }
    decoded.push(value);
    decodedIds.push(`${record.partition}:${record.offset}`);
    if (decoded.length <= 200) {
      try {
        const extractor = FeatureExtractor.infer(features, value);
        const key = extractor.spec.widths.join(',');
        const vote = votes.get(key) ?? { count: 0, extractor };
        vote.count += 1;
        votes.set(key, vote);
      } catch {
        // A poison record does not vote.
      }
    }
  }
  let best: { count: number; extractor: FeatureExtractor } | undefined;
  for (const vote of votes.values()) if (best === undefined || vote.count > best.count) best = vote;
  const usable = { values: [] as Record<string, unknown>[], ids: [] as string[] };
  if (best === undefined) return usable;
  const extractor = best.extractor;
  const row = new Float32Array(extractor.dims);
  decoded.forEach((value, i) => {
    try {
      extractor.extract(value, row, 0);
    } catch {
      return;
    }
    usable.values.push(value);
    usable.ids.push(decodedIds[i] as string);
  });
  return usable;
}

/** Settles after `ms`, or at once when `signal` is aborted. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `promise`, or undefined as soon as `signal` is aborted. */
async function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  await Promise.race([
    promise,
    new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true }),
    ),
  ]);
}
