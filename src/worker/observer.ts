/**
 * What the worker reports about itself. The worker is written against this interface only; the
 * Prometheus implementation lives in src/metrics (the only place that imports prom-client), and tests
 * or offline runs use `silentObserver`.
 */

export const Phase = {
  Starting: 'starting',
  Bootstrapping: 'bootstrapping',
  Online: 'online',
  Draining: 'draining',
  Stopped: 'stopped',
  Failed: 'failed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What became of a processed record: written to the output topic, or to the dead-letter topic. */
export const RecordOutcomes = ['labelled', 'dead-lettered'] as const;
export type RecordOutcome = (typeof RecordOutcomes)[number];

/** What became of a refinement: a new model version, or the serving one kept. */
export const RefinementResults = ['accepted', 'rejected'] as const;
export type RefinementResult = (typeof RefinementResults)[number];

/** What became of a snapshot write. */
export const SnapshotWriteResults = ['ok', 'failed'] as const;
export type SnapshotWriteResult = (typeof SnapshotWriteResults)[number];

export interface ModelInfo {
  readonly version: number;
  readonly backend: string;
  readonly inputDims: number;
  readonly clusters: number;
  /** The id each cluster is published under (cluster-ids.ts); absent: the indices. */
  readonly clusterIds?: readonly number[];
  /** 'dec', or 'kmeans' when the bootstrap's guard chose k-means on the inputs. */
  readonly modelKind: string;
}

export interface RefinementReport {
  readonly accepted: boolean;
  /** Why it was rejected (one of the refinement policy's RejectReasons); absent when accepted. */
  readonly rejectReason?: string;
  readonly durationSeconds: number;
  readonly loss: number;
  readonly centroidShift: number;
  readonly labelChangeFraction: number;
}

/**
 * What became of a shadow model: trained (it waits for fresh records to be judged on), failed
 * (training gave no usable model), promoted (it serves as the next version), discarded (it did not
 * beat the serving version by the margin).
 */
export const RetrainOutcomes = ['trained', 'failed', 'promoted', 'discarded'] as const;
export type RetrainOutcome = (typeof RetrainOutcomes)[number];

export interface RetrainReport {
  readonly outcome: RetrainOutcome;
  /** Training time (trained, failed) or judging time (promoted, discarded). */
  readonly durationSeconds: number;
  /** Records of the stream sample the shadow trained on (trained, failed). */
  readonly trainedOnRecords?: number;
  /** Criterion of each model on the held-out records (promoted, discarded). */
  readonly servingScore?: number;
  readonly shadowScore?: number;
  /**
   * Fraction of the held-out records whose id changed after matching (promoted), or would have
   * changed (discarded).
   */
  readonly labelChangeRatio?: number;
  /**
   * Fraction of the held-out records that moved (or would have moved) between ids both versions
   * keep: what `DEC_RETRAIN_MAX_RELABEL` caps.
   */
  readonly reassignedShare?: number;
}

export interface DriftReport {
  /** Population stability index of current cluster shares against the bootstrap's. */
  readonly psi: number;
  /** Mean reconstruction error of recent records divided by the bootstrap's. */
  readonly reconstructionErrorRatio: number;
  /** Fraction of the recent window whose label changed when it was re-assigned. */
  readonly labelChangeRate: number;
  readonly meanConfidence: number;
}

export interface BootstrapReport {
  readonly recordsCollected?: number;
  readonly trainingPhase?: string;
  readonly epoch?: number;
  readonly loss?: number;
}

export interface WorkerObserver {
  phase(phase: Phase): void;
  consumerConnected(connected: boolean): void;
  /** Input partitions this worker holds after the group's latest assignment (0 when it holds none). */
  partitionsAssigned(count: number): void;
  /** Records read from the input topic. */
  recordsConsumed(count: number): void;
  recordsProcessed(outcome: RecordOutcome, count: number): void;
  deadLettered(reason: string, count: number): void;
  batch(size: number, labelSeconds: number): void;
  /** Record timestamp to labelled record acknowledged downstream, one value per record. */
  endToEndLatency(seconds: readonly number[]): void;
  consumerLag(topic: string, partition: number, lag: number): void;
  modelServing(info: ModelInfo): void;
  /** How many records of the last batch went to each cluster (index = cluster id). */
  labelledPerCluster(counts: readonly number[]): void;
  /** Each cluster's current share of recent records (decaying), index = cluster id. */
  clusterShares(shares: readonly number[]): void;
  confidence(values: ArrayLike<number>): void;
  refinement(report: RefinementReport): void;
  clusterReseeded(cluster: number): void;
  /** A background retrain (shadow model) finished training, or was promoted or discarded. */
  retrain(report: RetrainReport): void;
  drift(report: DriftReport): void;
  bootstrap(report: BootstrapReport): void;
  snapshotWritten(ok: boolean): void;
  /** Whether this replica now holds the trainer's role (scale-out: one trainer per group). */
  trainerRole(active: boolean): void;
  /** A model version on the models topic was corrupted or truncated and is not served. */
  modelVersionSkipped(reason: string): void;
}

const ignore = (): void => undefined;

/** An observer that records nothing: for offline runs and tests that do not look at metrics. */
export const silentObserver: WorkerObserver = {
  phase: ignore,
  consumerConnected: ignore,
  partitionsAssigned: ignore,
  recordsConsumed: ignore,
  recordsProcessed: ignore,
  deadLettered: ignore,
  batch: ignore,
  endToEndLatency: ignore,
  consumerLag: ignore,
  modelServing: ignore,
  labelledPerCluster: ignore,
  clusterShares: ignore,
  confidence: ignore,
  refinement: ignore,
  clusterReseeded: ignore,
  retrain: ignore,
  drift: ignore,
  bootstrap: ignore,
  snapshotWritten: ignore,
  trainerRole: ignore,
  modelVersionSkipped: ignore,
};

/** What /readyz and /healthz ask of the worker. */
export interface HealthSource {
  /** A model serves, the consumer holds input partitions and the worker is online. */
  isReady(): boolean;
  phase(): Phase;
  /** Scale-out only: whether this replica trains ('trainer') or only labels ('labeller'). */
  role?(): 'trainer' | 'labeller';
}
