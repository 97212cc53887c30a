/**
 * The shared vocabulary of the DEC engine. Plain data only: every other layer (CLI, worker, store,
 * refiner thread) exchanges models as these objects, so they must stay structured-cloneable.
 */
import type { ImageAugmentation } from './augment.js';
import type { ClusterStatistics } from './cluster-statistics.js';
import type { GuardDecision, ModelKind } from './model-guard.js';

/** A dense row-major matrix: row i is data[i*cols .. (i+1)*cols). */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Which record fields feed the model, in order; each holds a number or an array of numbers. */
export interface FeatureSpec {
  /** Dot paths, e.g. ['f0', 'f1'] or ['pixels'] or ['point.x', 'point.y']. */
  readonly fields: readonly string[];
  /** Width each field contributes (1 for a scalar, n for a vector), learned at bootstrap. */
  readonly widths: readonly number[];
}

/** Per-feature mean and standard deviation learned at bootstrap; std is 1 for constant features. */
export interface Standardisation {
  readonly mean: Float32Array;
  readonly std: Float32Array;
  /**
   * What each standardised column is multiplied by before the model sees it: 0 for a column left
   * out because it is independent of every other column (column-screening.ts), 1 otherwise.
   * Absent when every column is used, and in snapshots written before columns were screened.
   */
  readonly weight?: Float32Array;
}

export type Activation = 'relu' | 'linear';

export interface DenseLayer {
  readonly inputSize: number;
  readonly outputSize: number;
  /** Row-major [inputSize, outputSize]. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly activation: Activation;
}

/** Everything needed to embed, reconstruct and assign: the trained state of one model version. */
export interface DecParameters {
  readonly encoder: readonly DenseLayer[];
  readonly decoder: readonly DenseLayer[];
  /** Row-major [clusters, embeddingSize]. */
  readonly centroids: Float32Array;
  readonly clusters: number;
  readonly embeddingSize: number;
  /** Student-t degrees of freedom (DEC eq. 1). */
  readonly alpha: number;
}

export type ClusteringMethod = 'dec' | 'idec';
export type InitialisationMethod = 'manifold' | 'kmeans';
export type OptimizerName = 'adam' | 'sgd';

/** Resolved training options (complete). Defaults live in src/model/defaults.ts. */
export interface DecOptions {
  readonly clusters: number;
  readonly hiddenSizes: readonly number[];
  readonly embeddingSize: number;
  readonly seed: number;
  readonly method: ClusteringMethod;
  /** IDEC: L = L_rec + gamma * L_KL. */
  readonly gamma: number;
  readonly alpha: number;
  readonly batchSize: number;
  readonly pretrainEpochs: number;
  readonly pretrainOptimizer: OptimizerName;
  readonly pretrainLearningRate: number;
  /** Denoising: fraction of inputs zeroed during pretraining (0 turns it off). */
  readonly inputDropout: number;
  /** Early stop after this many epochs without a relative loss improvement of 1e-4. */
  readonly earlyStopPatience: number;
  readonly kmeansRestarts: number;
  readonly clusterOptimizer: OptimizerName;
  readonly clusterLearningRate: number;
  /** Recompute the target p on the whole set every this many mini-batch steps. */
  readonly updateInterval: number;
  /** Stop when fewer than this fraction of labels change between two target updates. */
  readonly tol: number;
  readonly maxIterations: number;
  /**
   * How the fine-tuning starts: 'manifold' (N2D's UMAP of the embedding, then k-means there; the
   * partition is distilled before self-training) or 'kmeans' (k-means on the embedding, DEC's own).
   */
  readonly initialisation: InitialisationMethod;
  /**
   * With the manifold start: passes over the data that fit the model to the manifold partition
   * before self-training (DEC's sharpened target) takes over for the remaining iterations.
   */
  readonly distilEpochs: number;
  /**
   * With the manifold start: UMAP layouts tried, each from its own random start; the partition
   * the guard's criterion scores best is distilled. 1: one layout, as N2D.
   */
  readonly manifoldStarts: number;
  /**
   * With the manifold start: autoencoders pretrained, each from its own seed; UMAP lays out their
   * embeddings side by side. The first one is fine-tuned and serves. 1: one autoencoder, as N2D.
   */
  readonly autoencoders: number;
  /** Also train k-means on the inputs and serve it when the deep model is not better (model-guard.ts). */
  readonly guard: boolean;
  /** How much lower the deep model's mean normalised cut must be for it to serve. */
  readonly guardMargin: number;
  /**
   * Records that are images: each training mini-batch is randomly rotated and shifted (DEC-DA).
   * Absent for anything else.
   */
  readonly imageAugmentation?: ImageAugmentation | undefined;
}

/** The stages of a bootstrap, in the order they run. */
export const TrainingPhases = ['pretrain', 'kmeans', 'cluster'] as const;
export type TrainingPhase = (typeof TrainingPhases)[number];

/** Progress reported by long loops; the CLI draws it, the worker turns it into metrics. */
export interface TrainingProgress {
  readonly phase: TrainingPhase;
  /** Epoch (pretrain), restart (kmeans) or iteration (cluster), 1-based. */
  readonly step: number;
  readonly totalSteps: number;
  readonly loss?: number;
  readonly labelChangeFraction?: number;
  readonly elapsedMs: number;
}

export interface TrainingMetrics {
  readonly backend: string;
  readonly samples: number;
  readonly inputDims: number;
  /** What serves: the deep model, or k-means on the inputs when the guard preferred it. */
  readonly modelKind?: ModelKind;
  /** The guard's scores and choice; absent when the guard was off. */
  readonly selection?: GuardDecision;
  readonly pretrainEpochs: number;
  readonly pretrainLoss: number;
  readonly kmeansInertia: number;
  readonly clusterIterations: number;
  readonly finalKl: number;
  readonly finalLabelChangeFraction: number;
  readonly clusterSizes: readonly number[];
  /** Mean squared reconstruction error of the training set after training (drift baseline). */
  readonly reconstructionError: number;
  readonly pretrainSamplesPerSecond: number;
  /** How this version came to serve when it replaced a retrained shadow's predecessor. */
  readonly promotion?: PromotionRecord;
  readonly wallMs: {
    readonly pretrain: number;
    readonly kmeans: number;
    readonly cluster: number;
    /**
     * k-means on the inputs plus the guard's scoring; of a baseline that ran on another thread, only
     * the time spent waiting for it.
     */
    readonly guard?: number;
  };
}

/** How one id of the previous version fared when a new model took over its clusters. */
export interface ClusterOverlap {
  /** The id (the previous version's cluster). */
  readonly id: number;
  /** The new model's own index of the cluster that took this id. */
  readonly from: number;
  /** Recent records the previous version put in this id. */
  readonly records: number;
  /** Of those, the fraction the new version keeps in it; null when there were none. */
  readonly kept: number | null;
}

/** The Hungarian matching of a new model's clusters to the previous version's ids, as JSON. */
export interface IdMappingReport {
  /** permutation[id] = the new model's own index of the cluster that took id `id`. */
  readonly permutation: readonly number[];
  readonly overlap: readonly ClusterOverlap[];
  /** Recent records both versions labelled. */
  readonly records: number;
  /** Fraction of those whose id changed after matching. */
  readonly labelChangeRatio: number;
  /**
   * Clusters that became a group no earlier id held: each takes a fresh id and its previous id is
   * retired (cluster-ids.ts). Absent or empty when every cluster kept its id.
   */
  readonly renewed?: readonly { readonly retired: number; readonly id: number }[];
}

/** A shadow model that was promoted: the evidence, and how its ids were matched. */
export interface PromotionRecord {
  /** The version it replaced. */
  readonly replacedVersion: number;
  /** Criterion (mean normalised cut plus the share of rows merged that the other keeps apart; lower is better) of each on the held-out recent records. */
  readonly servingScore: number;
  readonly shadowScore: number;
  readonly margin: number;
  /** Sampled records the shadow trained on, and recent records it was judged on. */
  readonly trainedOnRecords: number;
  readonly judgedOnRecords: number;
  readonly idMapping: IdMappingReport;
  /**
   * Share of the judged records it moved from one id to another id that both versions publish
   * (the share `DEC_RETRAIN_MAX_RELABEL` bounds). Absent in snapshots written before it was kept.
   */
  readonly reassignedShare?: number;
}

/** One model version, as stored and as handed between threads. */
export interface ModelSnapshot {
  readonly formatVersion: 1;
  readonly version: number;
  readonly createdAt: string;
  readonly featureSpec: FeatureSpec;
  readonly standardisation: Standardisation;
  readonly options: DecOptions;
  readonly parameters: DecParameters;
  readonly metrics: TrainingMetrics;
  /**
   * The records the version was made on, summarised to explain its clusters (cluster-profile.ts).
   * Absent in snapshots written before it was kept.
   */
  readonly clusterStatistics?: ClusterStatistics;
  /**
   * The id each cluster is published under, in centroid order (cluster-ids.ts). Absent: the
   * cluster's index, as in every bootstrap version and in snapshots written before ids could be
   * retired.
   */
  readonly clusterIds?: readonly number[];
}

/** Labels for a batch, one entry per row. */
export interface AssignmentBatch {
  readonly rows: number;
  readonly clusters: number;
  readonly cluster: Int32Array;
  /** max_j q_ij */
  readonly confidence: Float32Array;
  /** Row-major [rows, clusters]. */
  readonly q: Float32Array;
  /** Euclidean distance from the embedding to its assigned centroid. */
  readonly distance: Float32Array;
}
