/**
 * The main-thread side of online refinement. It keeps the cheap running state next to the hot path
 * (the window of recent feature vectors, the decaying cluster-size estimate, the drift monitor),
 * decides when a refinement is due, and hands the window to the refinement thread, which trains with
 * its own tfjs backend. Accepted versions come back as whole snapshots: the worker picks them up with
 * `poll()` between batches, so a batch is always labelled by exactly one version.
 */
import type { BackendPreference } from '../../model/backend.js';
import type { AssignmentBatch, Matrix, ModelSnapshot } from '../../model/types.js';
import { ClusterSizeEstimate } from '../../online/cluster-size-estimate.js';
import type { DriftReport } from '../../online/drift.js';
import { DriftMonitor, SustainedDrift } from '../../online/drift.js';
import type {
  RebootstrapOptions,
  RefinementKind,
  RefinementOutcome,
  RefinementSettings,
  RetrainStart,
} from '../../online/refinement-engine.js';
import {
  DEFAULT_RETRAIN_START,
  defaultRefinementSettings,
} from '../../online/refinement-engine.js';
import { describeIdMapping } from '../../online/id-mapping.js';
import {
  DEFAULT_MAX_REASSIGNED_SHARE,
  DEFAULT_RELABEL_CHARGE,
} from '../../online/partition-criterion.js';
import { clusterIdsOf } from '../../model/cluster-ids.js';
import type { ReseedEvent } from '../../online/refinement-policy.js';
import type { ModelStore } from '../../store/model-store.js';
import type { WorkerObserver } from '../observer.js';
import { silentObserver } from '../observer.js';
import { spawnModuleThread } from '../../runtime/module-thread.js';
import type { ThreadLoss } from '../../runtime/thread-channel.js';
import { ThreadChannel } from '../../runtime/thread-channel.js';
import type { ModelRefiner } from '../ports.js';
import type { RefineProtocol, RetrainThreadSettings } from './protocol.js';

export interface RebootstrapPolicy {
  /** PSI of the cluster mix above which drift counts. */
  readonly psiThreshold: number;
  /** Reconstruction-error ratio above which drift counts; default: ignored. */
  readonly reconstructionRatioThreshold?: number;
  /** Drift must last this long before a full retrain on the window. */
  readonly sustainMs: number;
  /** Quiet time after a retrain; default sustainMs. */
  readonly cooldownMs?: number;
  /** Training options for the retrain; unset ones keep the serving version's. */
  readonly options?: RebootstrapOptions;
}

/** The background retrain: a shadow model trained on a bounded sample of the stream. */
export interface RetrainPolicy {
  /** Train a shadow after this many observed records; 0: only when drift stays high. */
  readonly everyRecords: number;
  /** Rows of the stream sample the shadow trains on (the memory bound). */
  readonly sampleRecords: number;
  /** Half-life in records of the sample; 0: a uniform reservoir. */
  readonly sampleHalfLifeRecords: number;
  /** Records that must arrive after the shadow is trained; both models are judged on them. */
  readonly holdoutRecords: number;
  /** The shadow serves only when its criterion beats the serving one by this relative margin. */
  readonly promotionMargin: number;
  /**
   * The bar is multiplied by (1 − r)^relabelCharge, r being the share of judged records the shadow
   * would relabel (after id matching); default `DEFAULT_RELABEL_CHARGE` (0, off).
   */
  readonly relabelCharge?: number;
  /**
   * A shadow that would move more than this share of the judged records between ids both versions
   * keep is discarded, unless sustained drift started its retrain; default
   * `DEFAULT_MAX_REASSIGNED_SHARE` (3 %); 1: no cap.
   */
  readonly maxReassignedShare?: number;
  /**
   * Where the shadow's clustering starts (RetrainStart); default `DEFAULT_RETRAIN_START`, its
   * own initialisation.
   */
  readonly start?: RetrainStart;
  /** Training options for the shadow; unset ones keep the serving version's. */
  readonly options?: RebootstrapOptions;
}

export interface RefinerOptions {
  /** Refine after this many observed records; 0 turns refinement off (a frozen model). */
  readonly everyRecords: number;
  /** Also refine when this long has passed since the last refinement and new records arrived. */
  readonly intervalMs: number;
  /** Recent records each refinement trains on. */
  readonly windowRecords: number;
  /** Half-life (records) of the cluster-size estimate and of the mean confidence. */
  readonly halfLifeRecords: number;
  readonly settings?: Partial<RefinementSettings>;
  /**
   * Full retrain on sustained drift; undefined: off. With `retrain` on, sustained drift starts a
   * shadow retrain (promoted only on evidence) instead of a retrain that serves at once.
   */
  readonly rebootstrap?: RebootstrapPolicy;
  /** Background retrain with promotion on evidence; undefined: off. */
  readonly retrain?: RetrainPolicy;
  readonly backend?: BackendPreference;
  /** How much nicer than the process the refinement thread runs, so it yields the CPU to labelling; default 10. */
  readonly threadNice?: number;
  /**
   * Report WorkerObserver.clusterShares from the running soft estimate on every observed batch
   * (default true); turn off where something else reports the shares.
   */
  readonly reportClusterShares?: boolean;
}

export interface RefinerDeps {
  /** Every accepted version is saved here. */
  readonly store?: ModelStore;
  readonly log?: (message: string) => void;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

type VersionListener = (snapshot: ModelSnapshot) => void;

interface InFlight {
  readonly id: number;
  readonly kind: RefinementKind;
  /** The start() generation it was asked for; an outcome from an older one is dropped. */
  readonly generation: number;
  readonly resolve: (outcome: RefinementOutcome | undefined) => void;
}

export class Refiner implements ModelRefiner {
  private readonly options: RefinerOptions;
  private readonly observer: WorkerObserver;
  private readonly store: ModelStore | undefined;
  private readonly log: (message: string) => void;
  private readonly now: () => number;
  private readonly settings: RefinementSettings;

  private serving: ModelSnapshot | undefined;
  private pending: ModelSnapshot | undefined;
  private estimate: ClusterSizeEstimate | undefined;
  private monitor: DriftMonitor | undefined;
  /** Batches observed since the last request (owned, newest last), at most about a window's worth. */
  private pendingBatches: Matrix[] = [];
  private pendingRows = 0;
  /** Rows in the thread's window once the pending batches arrive there. */
  private windowRows = 0;
  private sustained: SustainedDrift | undefined;
  private rebootstrapDue = false;
  private recordsSinceRetrain = 0;
  /** A trained shadow waits in the thread for fresh records to be judged on. */
  private shadowWaiting = false;

  private channel: ThreadChannel<RefineProtocol> | undefined;
  private threadReady: Promise<void> | undefined;
  private ready = false;
  private inFlight: InFlight | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners = new Set<VersionListener>();
  private nextId = 1;
  private generation = 0;
  private recordsSinceRequest = 0;
  private recordsSinceDrift = 0;
  private lastRequestAtMs: number;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    options: RefinerOptions,
    observer: WorkerObserver = silentObserver,
    deps: RefinerDeps = {},
  ) {
    if (!Number.isInteger(options.everyRecords) || options.everyRecords < 0) {
      throw new RangeError(
        `everyRecords must be a non-negative integer, got ${options.everyRecords}`,
      );
    }
    this.options = options;
    this.observer = observer;
    this.store = deps.store;
    this.log = deps.log ?? (() => {});
    this.now = deps.now ?? (() => performance.now());
    this.settings = { ...defaultRefinementSettings, ...options.settings };
    this.lastRequestAtMs = this.now();
    if (options.rebootstrap !== undefined) {
      const policy = options.rebootstrap;
      this.sustained = new SustainedDrift({
        psiThreshold: policy.psiThreshold,
        reconstructionRatioThreshold: policy.reconstructionRatioThreshold ?? Infinity,
        sustainMs: policy.sustainMs,
        cooldownMs: policy.cooldownMs ?? policy.sustainMs,
      });
    }
  }

  /** True when refinement is on (everyRecords > 0). */
  get enabled(): boolean {
    return this.options.everyRecords > 0;
  }

  /**
   * True when the refinement thread runs: for refinement, and also for a background retrain or a
   * re-bootstrap on drift with refinement off (a model that is never refined but is retrained).
   */
  private get threadNeeded(): boolean {
    return (
      this.enabled || this.options.retrain !== undefined || this.options.rebootstrap !== undefined
    );
  }

  /**
   * Records between requests to the thread. With refinement off, the thread still needs the
   * records (for the retrain's sample and to judge a shadow): they go at most a window's worth at a
   * time, which also bounds what waits on this thread.
   */
  private get recordsPerRequest(): number {
    return this.enabled ? this.options.everyRecords : this.options.windowRecords;
  }

  /** Serves `snapshot` from now on and (re)starts the refinement thread; resolves once it is ready. */
  async start(snapshot: ModelSnapshot): Promise<void> {
    if (this.closed) throw new Error('the refiner is closed');
    const k = snapshot.parameters.clusters;
    this.generation++;
    this.serving = snapshot;
    this.pending = undefined;
    this.estimate = new ClusterSizeEstimate(
      k,
      this.options.halfLifeRecords,
      snapshot.metrics.clusterSizes,
    );
    this.monitor = new DriftMonitor(snapshot.metrics, this.options.halfLifeRecords);
    this.pendingBatches = [];
    this.pendingRows = 0;
    this.windowRows = 0;
    this.recordsSinceRequest = 0;
    this.recordsSinceDrift = 0;
    this.recordsSinceRetrain = 0;
    this.shadowWaiting = false;
    this.lastRequestAtMs = this.now();
    if (!this.threadNeeded) return;
    if (this.channel !== undefined) {
      await this.threadReady;
      void this.channel?.request('replace', snapshot).catch((error: unknown) => {
        if (this.channel?.gone === false) this.log(`refiner: ${describe(error)}`);
      });
      return;
    }
    this.threadReady = this.spawn(snapshot);
    await this.threadReady;
    this.timer = setInterval(
      () => this.maybeRefine(),
      Math.max(10, Math.min(this.options.intervalMs, 1000)),
    );
    this.timer.unref();
  }

  /**
   * Records just labelled: their standardised features and their assignment under the version that
   * served them. Cheap on the hot path: the refiner takes ownership of `features` (its buffer is later
   * transferred to the refinement thread, not copied) and updates the running estimates.
   * `seen.trainedOn`: the serving model trained on these records (the bootstrap window, labelled
   * once its model serves). They join the window and the retrain's sample like any others, but do
   * not count towards the retrain's cadence: a shadow is due after `retrain.everyRecords` records
   * the serving model has not seen, not after a replay of its own training data.
   */
  observe(
    features: Matrix,
    assignment: AssignmentBatch,
    _modelVersion?: number,
    seen: { readonly trainedOn?: boolean } = {},
  ): void {
    const estimate = this.estimate;
    const monitor = this.monitor;
    if (this.closed || estimate === undefined || monitor === undefined || features.rows === 0)
      return;
    estimate.observeSoft(assignment.q, assignment.rows);
    monitor.observeConfidence(assignment.confidence);
    if (this.options.reportClusterShares ?? true)
      this.observer.clusterShares(Array.from(estimate.shares()));
    this.recordsSinceDrift += features.rows;
    if (!this.enabled) {
      // A model that is not refined still reports drift, once per window's worth of records (a
      // refined one reports it after each refinement).
      if (this.recordsSinceDrift >= this.options.windowRecords) this.reportDrift();
      if (!this.threadNeeded) return;
    }
    this.queue(features);
    this.recordsSinceRequest += features.rows;
    if (seen.trainedOn !== true) this.recordsSinceRetrain += features.rows;
    this.maybeRefine();
  }

  /** A newer version to serve from the next batch on, once; undefined when there is none. */
  poll(): ModelSnapshot | undefined {
    const next = this.pending;
    this.pending = undefined;
    return next;
  }

  /** The newest accepted version (the one `poll` hands out next, or the one serving). */
  current(): ModelSnapshot {
    if (this.serving === undefined) throw new Error('the refiner has not been started');
    return this.serving;
  }

  /** Calls `listener` with every accepted version; returns a function that unsubscribes. */
  onVersion(listener: VersionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current drift signals (shares from the running estimate). */
  drift(): DriftReport | undefined {
    return this.estimate === undefined ? undefined : this.monitor?.report(this.estimate.shares());
  }

  /** The running cluster shares, index = cluster id. */
  shares(): Float64Array | undefined {
    return this.estimate?.shares();
  }

  /** Resolves when no refinement is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refines (or retrains: `kind`, default whichever is due) on the current window now, whatever the
   * schedule says, and resolves with the outcome; undefined when the thread is off (no refinement,
   * retrain or re-bootstrap), refinement is off and nothing else was due, the window is empty or
   * the refiner closes first.
   */
  async refineNow(kind?: RefinementKind): Promise<RefinementOutcome | undefined> {
    if (!this.threadNeeded || this.threadReady === undefined) return undefined;
    await this.threadReady;
    while (this.inFlight !== undefined) await this.whenIdle();
    if (this.closed || this.windowRows === 0) return undefined;
    return this.request(kind ?? this.nextKind());
  }

  /** Stops the thread and waits for pending snapshot writes. Idempotent; never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const channel = this.channel;
    this.channel = undefined;
    if (channel !== undefined) {
      // The thread disposes of its tensors and ends; one stuck in a long request is terminated.
      await channel.close(async (request) => {
        void request('close', undefined).catch(() => undefined);
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
        await Promise.race([channel.exited, timeout]);
      });
    }
    this.inFlight?.resolve(undefined);
    this.inFlight = undefined;
    this.releaseIdleWaiters();
    await this.saving;
  }

  private async spawn(snapshot: ModelSnapshot): Promise<void> {
    const channel = new ThreadChannel<RefineProtocol>(
      spawnModuleThread(import.meta.url, 'refine-thread'),
      {
        snapshot,
        windowRecords: this.options.windowRecords,
        settings: this.settings,
        backend: this.options.backend ?? 'auto',
        nice: this.options.threadNice ?? 10,
        ...this.retrainThreadSettings(),
      },
      {
        // Only start() sees this error: once the thread is ready, a loss freezes the model instead.
        lostError: (loss) =>
          loss.cause === 'crashed'
            ? loss.error
            : new Error(
                loss.cause === 'exited'
                  ? `refiner thread exited with code ${loss.code} before it was ready`
                  : 'the refiner is closed',
              ),
        initError: (error) => new Error(`refiner thread failed to start: ${error.message}`),
        onEvent: (line) => this.log(line),
        onLost: (loss) => this.lost(channel, loss),
      },
    );
    this.channel = channel;
    const backend = await channel.ready;
    this.ready = true;
    this.log(`refiner: thread ready (backend ${backend})`);
  }

  /** The retrain policy as the thread needs it; nothing when the retrain is off. */
  private retrainThreadSettings(): { retrain?: RetrainThreadSettings } {
    const policy = this.options.retrain;
    if (policy === undefined) return {};
    return {
      retrain: {
        sampleRecords: policy.sampleRecords,
        sampleHalfLifeRecords: policy.sampleHalfLifeRecords,
        holdoutRecords: policy.holdoutRecords,
        promotionMargin: policy.promotionMargin,
        relabelCharge: policy.relabelCharge ?? DEFAULT_RELABEL_CHARGE,
        maxReassignedShare: policy.maxReassignedShare ?? DEFAULT_MAX_REASSIGNED_SHARE,
        start: policy.start ?? DEFAULT_RETRAIN_START,
        seed: this.settings.seed,
      },
    };
  }

  /** The thread is gone while serving: refinement stops and the serving version stays. */
  private lost(channel: ThreadChannel<RefineProtocol>, loss: ThreadLoss): void {
    if (this.channel !== channel) return;
    const why =
      loss.cause === 'crashed'
        ? `thread error: ${loss.error.message}`
        : loss.cause === 'exited'
          ? `thread exited with code ${loss.code}`
          : 'thread closed';
    this.log(`refiner: ${why}; refinement stops and the serving version stays frozen`);
    this.channel = undefined;
    this.inFlight?.resolve(undefined);
    this.inFlight = undefined;
    this.releaseIdleWaiters();
  }

  /** Holds a batch for the thread, dropping whole old batches that the window could not keep. */
  private queue(features: Matrix): void {
    const data = features.data;
    // Only a buffer of its own can be transferred; a view into a larger buffer is copied once.
    const own =
      data.byteOffset === 0 &&
      data.byteLength === data.buffer.byteLength &&
      !(data.buffer instanceof SharedArrayBuffer)
        ? features
        : { data: data.slice(), rows: features.rows, cols: features.cols };
    this.pendingBatches.push(own);
    this.pendingRows += own.rows;
    while (this.pendingBatches.length > 1) {
      const oldest = this.pendingBatches[0];
      if (oldest === undefined || this.pendingRows - oldest.rows < this.options.windowRecords)
        break;
      this.pendingBatches.shift();
      this.pendingRows -= oldest.rows;
    }
    this.windowRows = Math.min(this.options.windowRecords, this.windowRows + own.rows);
  }

  private minWindowRows(): number {
    const k = this.serving?.parameters.clusters ?? 1;
    return Math.min(this.options.windowRecords, Math.max(2 * k, 32));
  }

  private maybeRefine(): void {
    if (this.closed || !this.ready || this.channel === undefined || this.inFlight !== undefined)
      return;
    if (this.windowRows < this.minWindowRows() || this.recordsSinceRequest === 0) return;
    const byCount = this.recordsSinceRequest >= this.recordsPerRequest;
    const byTime = this.now() - this.lastRequestAtMs >= this.options.intervalMs;
    if (!byCount && !byTime) return;
    void this.request(this.nextKind());
  }

  /**
   * What the next request is: a shadow retrain when one is due (by count, or by sustained drift
   * when the retrain is on) and none waits to be judged; a retrain that serves at once on
   * sustained drift when the background retrain is off; a refinement otherwise.
   */
  private nextKind(): RefinementKind {
    const retrain = this.options.retrain;
    if (retrain === undefined) return this.rebootstrapDue ? 'rebootstrap' : 'refine';
    if (this.shadowWaiting) return 'refine';
    const byCount = retrain.everyRecords > 0 && this.recordsSinceRetrain >= retrain.everyRecords;
    return byCount || this.rebootstrapDue ? 'retrain' : 'refine';
  }

  private request(kind: RefinementKind): Promise<RefinementOutcome | undefined> {
    const estimate = this.estimate;
    const channel = this.channel;
    if (estimate === undefined || channel === undefined) return Promise.resolve(undefined);
    const id = this.nextId++;
    const batches = this.pendingBatches;
    const transfer = [...new Set(batches.map((b) => b.data.buffer as ArrayBuffer))];
    this.pendingBatches = [];
    this.pendingRows = 0;
    this.recordsSinceRequest = 0;
    this.lastRequestAtMs = this.now();
    // A drift-triggered retrain stays due until one is asked for (a refinement may come first
    // while a shadow waits to be judged).
    const onDrift = this.rebootstrapDue;
    if (kind !== 'refine') this.rebootstrapDue = false;
    return new Promise((resolve) => {
      this.inFlight = { id, kind, generation: this.generation, resolve };
      let answer: Promise<RefinementOutcome | undefined>;
      if (kind === 'retrain') {
        this.recordsSinceRetrain = 0;
        const options = this.options.retrain?.options ?? {};
        answer = channel.request('retrain', { batches, options, onDrift }, transfer);
      } else if (kind === 'refine') {
        const clusterSizes = estimate.sizes();
        answer = channel.request('refine', { batches, clusterSizes, refine: this.enabled }, [
          ...transfer,
          clusterSizes.buffer as ArrayBuffer,
        ]);
      } else {
        const options = this.options.rebootstrap?.options ?? {};
        answer = channel.request('rebootstrap', { batches, options }, transfer);
      }
      void answer.then(
        (outcome) => this.settle(id, outcome),
        (error: unknown) => {
          // A lost thread is handled once, by `lost` (or by close).
          if (channel.gone) return;
          this.log(`refiner: refinement ${id} failed: ${describe(error)}`);
          this.settle(id, undefined);
        },
      );
    });
  }

  private settle(id: number, outcome: RefinementOutcome | undefined): void {
    const inFlight = this.inFlight;
    if (inFlight === undefined || inFlight.id !== id) return;
    this.inFlight = undefined;
    // An outcome computed from a model that start() has since replaced is dropped.
    const current = inFlight.generation === this.generation;
    if (outcome !== undefined && current && !this.closed) this.apply(outcome);
    inFlight.resolve(current ? outcome : undefined);
    this.releaseIdleWaiters();
    this.maybeRefine();
  }

  private apply(outcome: RefinementOutcome): void {
    const estimate = this.estimate;
    const monitor = this.monitor;
    const previous = this.serving;
    if (estimate === undefined || monitor === undefined || previous === undefined) return;
    if (outcome.kind === 'retrain') {
      this.shadowTrained(outcome);
      return;
    }
    if (outcome.kind === 'promotion') {
      this.shadowJudged(outcome, previous.version);
      this.reportDrift();
      return;
    }
    this.observer.refinement({
      accepted: outcome.accepted,
      ...(outcome.accepted ? {} : { rejectReason: outcome.reason ?? 'rejected' }),
      durationSeconds: outcome.durationSeconds,
      loss: outcome.loss,
      centroidShift: outcome.centroidShift,
      labelChangeFraction: outcome.labelChangeFraction,
    });
    monitor.observeWindow({
      reconstructionError: outcome.reconstructionError,
      labelChangeRate: outcome.labelChangeFraction,
      loss: outcome.loss,
      centroidShift: outcome.centroidShift,
    });
    const snapshot = outcome.snapshot;
    if (!outcome.accepted || snapshot === undefined) {
      this.log(
        `refiner: ${outcome.kind} rejected (${outcome.reason ?? 'unknown'}: ${outcome.detail ?? ''}); ` +
          `version ${previous.version} keeps serving`,
      );
    } else {
      const idsBefore = clusterIdsOf(previous);
      const idsAfter = clusterIdsOf(snapshot);
      for (const event of outcome.reseeded) {
        estimate.split(event.splitFrom, event.cluster);
        this.observer.clusterReseeded(idsBefore[event.cluster]!);
        this.log(
          `refiner: ${describeReseed(event, idsBefore)}; it is published as cluster ` +
            `${idsAfter[event.cluster]} (version ${snapshot.version})`,
        );
      }
      if (outcome.idMapping !== undefined) {
        this.log(`refiner: ids after the re-seed: ${describeIdMapping(outcome.idMapping)}`);
      }
      if (outcome.kind === 'rebootstrap') {
        // A new model: its own cluster sizes and reconstruction error become the baseline.
        const sizes = outcome.clusterSizes;
        if (sizes !== undefined) estimate.reset(sizes);
        monitor.rebase(snapshot.metrics);
        this.log(`refiner: re-bootstrapped on drift as version ${snapshot.version}`);
      }
      this.serve(snapshot);
    }
    this.reportDrift();
  }

  /** `snapshot` serves from the next batch on, and is saved. */
  private serve(snapshot: ModelSnapshot): void {
    this.serving = snapshot;
    this.pending = snapshot;
    for (const listener of this.listeners) listener(snapshot);
    this.persist(snapshot);
  }

  private shadowTrained(outcome: RefinementOutcome): void {
    this.shadowWaiting = outcome.accepted;
    const durationSeconds = outcome.durationSeconds;
    const trainedOnRecords = outcome.trainedOnRecords;
    this.observer.retrain({
      outcome: outcome.accepted ? 'trained' : 'failed',
      durationSeconds,
      ...(trainedOnRecords === undefined ? {} : { trainedOnRecords }),
    });
    const holdout = this.options.retrain?.holdoutRecords ?? 0;
    this.log(
      outcome.accepted
        ? `refiner: shadow model (${this.options.retrain?.start ?? DEFAULT_RETRAIN_START} start) trained on ${trainedOnRecords ?? '?'} records in ${durationSeconds.toFixed(1)} s; it is judged on the next ${holdout} records`
        : `refiner: shadow retrain failed (${outcome.reason ?? 'unknown'}: ${outcome.detail ?? ''}); version ${this.serving?.version ?? '?'} keeps serving`,
    );
  }

  /** A shadow was judged: promoted as the next version with matched ids, or discarded. */
  private shadowJudged(outcome: RefinementOutcome, servingVersion: number): void {
    this.shadowWaiting = false;
    const evidence = outcome.promotion;
    const snapshot = outcome.snapshot;
    const promoted = outcome.accepted && snapshot !== undefined;
    this.observer.retrain({
      outcome: promoted ? 'promoted' : 'discarded',
      durationSeconds: outcome.durationSeconds,
      ...(evidence === undefined
        ? {}
        : {
            servingScore: evidence.servingScore,
            shadowScore: evidence.shadowScore,
            ...(evidence.reassignedShare === undefined
              ? {}
              : { reassignedShare: evidence.reassignedShare }),
          }),
      // For a discarded shadow: the share of ids that would have changed, had it been promoted.
      labelChangeRatio: outcome.labelChangeFraction,
    });
    if (!promoted) {
      this.log(
        `refiner: shadow model discarded, version ${servingVersion} keeps serving: ${outcome.detail ?? outcome.reason ?? ''}`,
      );
      return;
    }
    const mapping = evidence === undefined ? '' : `; ids: ${describeIdMapping(evidence.idMapping)}`;
    this.log(
      `refiner: shadow model promoted as version ${snapshot.version} (replaces ${servingVersion}): ${outcome.detail ?? ''}${mapping}`,
    );
    const sizes = outcome.clusterSizes;
    if (sizes !== undefined) this.estimate?.reset(sizes);
    this.monitor?.rebase(snapshot.metrics);
    this.serve(snapshot);
  }

  private reportDrift(): void {
    const report = this.drift();
    if (report === undefined) return;
    this.recordsSinceDrift = 0;
    this.observer.drift(report);
    if (this.sustained?.update(report, this.now()) === true) {
      this.rebootstrapDue = true;
      this.log(`refiner: drift sustained (PSI ${report.psi.toFixed(3)}); a retrain is due`);
    }
  }

  private persist(snapshot: ModelSnapshot): void {
    const store = this.store;
    if (store === undefined) return;
    this.saving = this.saving.then(async () => {
      try {
        await store.save(snapshot);
        this.observer.snapshotWritten(true);
      } catch (error) {
        this.observer.snapshotWritten(false);
        this.log(
          `refiner: saving version ${snapshot.version} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
  }

  private releaseIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A re-seed in words, in the serving version's published ids: why, and from where. */
function describeReseed(event: ReseedEvent, ids: readonly number[]): string {
  const cluster = ids[event.cluster]!;
  const donor = ids[event.splitFrom]!;
  if (event.splitValley === undefined)
    return `cluster ${cluster} was dying and was re-seeded by splitting cluster ${donor}`;
  return (
    `cluster ${cluster} had lost half its bootstrap share and was re-seeded with one of two ` +
    `separate groups in cluster ${donor} (valley ratio ${event.splitValley.toFixed(3)} between them)`
  );
}
