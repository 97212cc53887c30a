import { FeatureExtractor } from '../model/features.js';
import type { ModelSnapshot, TrainingProgress } from '../model/types.js';
import type { ModelStore } from '../store/model-store.js';
import { BootstrapWindow } from './bootstrap-window.js';
import type { RecordLimits } from './record-limits.js';
import { applyRecordLimits } from './record-limits.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { HealthSource, WorkerObserver } from './observer.js';
import { Phase, silentObserver } from './observer.js';
import { InProcessLabeller } from './labeller/in-process-labeller.js';
import type {
  LabelledChunk,
  Labeller,
  ModelRefiner,
  OutputSink,
  PartitionBatch,
  RecordCodec,
  RecordStream,
  SourceRecord,
} from './ports.js';

/** A chunk being labelled, and whether its labelling has finished. */
interface LabelSlot {
  readonly labelled: Promise<PreparedUnit | undefined>;
  settled: boolean;
}

function labelSlot(labelled: Promise<PreparedUnit | undefined>): LabelSlot {
  const slot: LabelSlot = { labelled, settled: false };
  const settle = (): void => {
    slot.settled = true;
  };
  // Also marks a failure as handled until the slot is awaited.
  labelled.then(settle, settle);
  return slot;
}

/** A chunk labelled and ready to publish. */
interface PreparedUnit {
  readonly chunk: LabelledChunk;
  readonly records: number;
  readonly version: number;
  readonly lastOffset: string;
  readonly labelSeconds: number;
}

/** Trains the first model version on decoded bootstrap records. */
export type BootstrapTrainer = (
  records: readonly Record<string, unknown>[],
  hooks: { onProgress: (progress: TrainingProgress) => void; signal: AbortSignal },
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

  constructor(options: StreamWorkerOptions) {
    this.options = options;
    this.observer = options.observer ?? silentObserver;
    this.log = options.logger ?? silentLogger;
    this.labeller = options.labeller ?? new InProcessLabeller(options.codec);
    this.helper = this.labeller.concurrent ? new InProcessLabeller(options.codec) : undefined;
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
      const snapshot = await store.loadLatest();
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
      } else {
        this.window = new BootstrapWindow(settings.bootstrap);
        this.setPhase(Phase.Bootstrapping);
      }
      if (stopped()) return;
      await stream.start((batch) => this.handle(batch), {
        concurrentBatches: this.queuesUnits()
          ? (settings.concurrentBatches ?? DefaultConcurrentBatches)
          : 1,
      });
      this.connected = true;
      this.observer.consumerConnected(true);
      if (this.window !== undefined) {
        this.bootstrapTask = this.bootstrap(this.window).catch((error: unknown) => {
          if (!this.abort.signal.aborted) this.fail(error);
        });
      }
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
    const oneChunk = records.length <= this.options.settings.batchMaxRecords;
    if (
      (this.options.settings.unitPerBatch ?? this.options.sink.delivery === 'exactly-once') ||
      // A batch of one chunk is one unit either way; so both threads can label halves of it.
      (oneChunk && this.helper !== undefined)
    ) {
      await this.handleAsOneUnit(batch, records);
      return;
    }
    // Publishing stays strictly sequential (offsets are committed in order, and a failed unit
    // stops the ones after it); with two or more batches in flight the next chunk is labelled
    // while the previous one is being produced. A sink that queues units in order gets the next
    // one before the previous one is acknowledged (it keeps the order and stops after a failure
    // itself), so it never waits for this thread between two units.
    const overlap = (this.options.settings.maxInFlightBatches ?? 1) > 1;
    const queued = this.queuesUnits();
    let publishing: Promise<void> | undefined;
    /** The unit handed over before `publishing`, while the sink may still be writing it. */
    let earlier: Promise<void> | undefined;
    const list = [...chunks(records, this.options.settings.batchMaxRecords)];
    const slots: LabelSlot[] = [];
    const ask = async (i: number, labeller?: Labeller): Promise<LabelSlot> => {
      // A newer model is taken between chunks.
      await this.swapIfRefined();
      const slot = labelSlot(this.label(list[i] as SourceRecord[], labeller));
      slots[i] = slot;
      return slot;
    };
    const helper = overlap ? this.helper : undefined;
    try {
      for (let i = 0; i < list.length; i++) {
        const chunk = list[i] as SourceRecord[];
        if (!batch.isRunning() || batch.isStale()) break;
        if (!overlap && publishing !== undefined) await publishing;
        // With a labelling thread this chunk is labelled there while the previous one publishes.
        const slot = slots[i] ?? (await ask(i));
        if (queued) {
          // At most two units with the sink: the one it writes and the next.
          if (earlier !== undefined) await earlier;
        } else if (publishing !== undefined) {
          await publishing;
        }
        // The thread has not finished it (a batch just began, or the thread gets less CPU than
        // this one): rather than wait, this thread labels the chunk after it meanwhile.
        if (
          helper !== undefined &&
          !slot.settled &&
          i + 1 < list.length &&
          slots[i + 1] === undefined &&
          batch.isRunning() &&
          !batch.isStale()
        ) {
          await ask(i + 1, helper);
        }
        const prepared = await slot.labelled;
        if (prepared === undefined || !batch.isRunning() || batch.isStale()) {
          if (!queued) publishing = undefined;
          break;
        }
        const lastOffset = (chunk[chunk.length - 1] as SourceRecord).offset;
        earlier = publishing;
        publishing = this.deliver(
          batch.topic,
          batch.partition,
          [prepared],
          batch.highWatermark,
        ).then(() => batch.resolve(lastOffset));
        // Awaited below or in the next round; this keeps a failure from counting as unhandled.
        publishing.catch(() => undefined);
        await batch.heartbeat();
      }
    } catch (error) {
      // Never leave a unit publishing behind: after a rebalance it could commit under a new owner.
      await Promise.allSettled([earlier, publishing]);
      throw error;
    }
    // Both, in order: the later one's failure may be the earlier one's.
    if (earlier !== undefined) await earlier;
    if (publishing !== undefined) await publishing;
  }

  /**
   * Whether batches publish chunk by chunk into a sink that queues units in order: then the sink
   * keeps each partition's units in order and stops after a failure itself, so batches of
   * different partitions may be handled at once.
   */
  private queuesUnits(): boolean {
    const { settings, sink } = this.options;
    return (
      (settings.maxInFlightBatches ?? 1) > 1 &&
      sink.queuesInOrder === true &&
      !(settings.unitPerBatch ?? sink.delivery === 'exactly-once')
    );
  }

  /**
   * Labels the batch chunk by chunk, then publishes all of it as one unit. A stale batch publishes
   * nothing; a stopping stream publishes the chunks labelled so far.
   */
  private async handleAsOneUnit(
    batch: PartitionBatch,
    records: readonly SourceRecord[],
  ): Promise<void> {
    const parts: PreparedUnit[] = [];
    for (const labelled of this.labelUnit(batch, records)) {
      const prepared = await labelled;
      if (prepared === undefined) break;
      parts.push(prepared);
    }
    const last = parts[parts.length - 1];
    if (last === undefined || batch.isStale()) return;
    await this.deliver(batch.topic, batch.partition, parts, batch.highWatermark);
    batch.resolve(last.lastOffset);
    await batch.heartbeat();
  }

  /**
   * The chunks of one unit, being labelled, in offset order. Alone, this thread labels chunk after
   * chunk, taking a newer model version between them. Beside a labelling thread, the version is
   * taken once for the unit: the thread gets the even chunks at once and this thread labels the odd
   * ones meanwhile, since it has nothing else to do until the whole unit is labelled.
   */
  private labelUnit(
    batch: PartitionBatch,
    records: readonly SourceRecord[],
  ): Iterable<Promise<PreparedUnit | undefined>> {
    const size = this.options.settings.batchMaxRecords;
    const helper = this.helper;
    if (helper === undefined) return this.labelOneByOne(batch, chunks(records, size));
    // A unit of one chunk is labelled in two halves, one on each thread.
    const list = [
      ...chunks(records, records.length <= size ? Math.ceil(records.length / 2) : size),
    ];
    const swapped = this.swapIfRefined();
    const onThread = list.map((chunk, i) =>
      i % 2 === 0 ? swapped.then(() => this.running(batch, chunk)) : undefined,
    );
    for (const labelled of onThread) labelled?.catch(() => undefined);
    // The odd chunks one after the other here, while the thread works through the even ones.
    let here: Promise<unknown> = swapped;
    return list.map((chunk, i) => {
      const onItsThread = onThread[i];
      if (onItsThread !== undefined) return onItsThread;
      const labelled = here.then(
        () => this.running(batch, chunk, helper),
        () => undefined,
      );
      labelled.catch(() => undefined);
      here = labelled;
      return labelled;
    });
  }

  /** Chunk after chunk, each labelled once the caller has taken the one before. */
  private *labelOneByOne(
    batch: PartitionBatch,
    list: Iterable<SourceRecord[]>,
  ): Generator<Promise<PreparedUnit | undefined>> {
    for (const chunk of list) {
      yield (async () => {
        if (!batch.isRunning() || batch.isStale()) return undefined;
        // A newer model is taken between chunks, as when chunks publish one by one.
        await this.swapIfRefined();
        return this.label(chunk);
      })();
    }
  }

  /** Labels `chunk` unless the batch stopped running or went stale. */
  private running(
    batch: PartitionBatch,
    chunk: readonly SourceRecord[],
    labeller?: Labeller,
  ): Promise<PreparedUnit | undefined> {
    if (!batch.isRunning() || batch.isStale()) return Promise.resolve(undefined);
    return this.label(chunk, labeller);
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

  /** Labels one chunk of one partition, publishes it and moves the offset past it. */
  private async publish(
    topic: string,
    partition: number,
    records: readonly SourceRecord[],
    highWatermark: string,
  ): Promise<void> {
    const prepared = await this.label(records);
    if (prepared !== undefined) await this.deliver(topic, partition, [prepared], highWatermark);
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
      else this.options.refiner.observe(chunk.x, assignment, prepared.version);
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
    if (previous === undefined) await this.options.refiner?.start(snapshot);
  }

  /**
   * Between batches: serve a newer version from the refiner, saved first so restarts resume it.
   * Batches of several partitions may ask at once: they share one swap.
   */
  private swapIfRefined(): Promise<void> {
    if (this.options.refiner === undefined) return Promise.resolve();
    this.swapping ??= this.swapToRefined().finally(() => {
      this.swapping = undefined;
    });
    return this.swapping;
  }

  private async swapToRefined(): Promise<void> {
    const next = this.options.refiner?.poll();
    if (next === undefined || next.version === this.serving?.version) return;
    await this.serve(next);
    await this.saveServing();
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
      records: training.length,
      unusable: records.length - training.length,
    });
    const started = Date.now();
    let lastPhase = '';
    const snapshot = await this.options.train(training, {
      signal,
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
    this.log.info('bootstrap trained', {
      modelVersion: snapshot.version,
      wallMs: Date.now() - started,
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

    // Label the window itself, partition by partition, in offset order.
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
      for (const chunk of chunks(pending, settings.batchMaxRecords)) {
        if (signal.aborted) return;
        const last = chunk[chunk.length - 1] as SourceRecord;
        await this.publish(topic, partition, chunk, (BigInt(last.offset) + 1n).toString());
      }
    }
    await this.options.sink.settle?.();
    this.window = undefined;
    this.setPhase(Phase.Online);
    stream.resumeAll();
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
): Record<string, unknown>[] {
  const decoded: Record<string, unknown>[] = [];
  const votes = new Map<string, { count: number; extractor: FeatureExtractor }>();
  for (const record of records) {
    let value: Record<string, unknown>;
    try {
      value = codec.decode(record.value);
    } catch {
      continue;
    }
    decoded.push(value);
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
  if (best === undefined) return [];
  const extractor = best.extractor;
  const row = new Float32Array(extractor.dims);
  return decoded.filter((value) => {
    try {
      extractor.extract(value, row, 0);
      return true;
    } catch {
      return false;
    }
  });
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  const step = Math.max(1, size);
  for (let i = 0; i < items.length; i += step) yield items.slice(i, i + step);
}
