/**
 * Messages between the main thread's Refiner and the refinement thread. Everything is structured
 * clone (no JSON); windows and size vectors travel in transfer lists.
 */
import type { BackendPreference } from '../../model/backend.js';
import type { Matrix, ModelSnapshot } from '../../model/types.js';
import type {
  RebootstrapOptions,
  RefinementOutcome,
  RefinementSettings,
  RetrainStart,
} from '../../online/refinement-engine.js';
import type { Call } from '../../runtime/thread-channel.js';

export interface RefineThreadInit {
  readonly snapshot: ModelSnapshot;
  /** Capacity of the thread's window of recent records. */
  readonly windowRecords: number;
  readonly settings: RefinementSettings;
  readonly backend: BackendPreference;
  /**
   * Nice increment for the thread over the process's own (Linux applies it to the calling thread
   * only; at most 19); 0 leaves it.
   */
  readonly nice: number;
  /** The background retrain; undefined: off (no stream sample is kept). */
  readonly retrain?: RetrainThreadSettings;
}

/** What the thread needs of the retrain policy. */
export interface RetrainThreadSettings {
  /** Rows of the bounded stream sample a shadow model trains on. */
  readonly sampleRecords: number;
  /** Half-life in records of the sample; 0: a uniform reservoir. */
  readonly sampleHalfLifeRecords: number;
  /** Records that must arrive after a shadow is trained before it is judged on them. */
  readonly holdoutRecords: number;
  /** The shadow must beat the serving criterion by this relative margin. */
  readonly promotionMargin: number;
  /** The bar is multiplied by (1 - relabelled share)^relabelCharge; 0: off. */
  readonly relabelCharge: number;
  /**
   * A shadow that would move more than this share of the judged records between ids both versions
   * keep is discarded, unless sustained drift started its retrain; 1: no cap.
   */
  readonly maxReassignedShare: number;
  /** Where the shadow's clustering starts: its own initialisation, the serving labels, or both. */
  readonly start: RetrainStart;
  readonly seed: number;
}

/** Train a shadow model on the stream sample after appending `batches` to window and sample. */
export interface RetrainRequest {
  readonly batches: readonly Matrix[];
  readonly options: RebootstrapOptions;
  /** Sustained drift started this retrain: its shadow may move as many records as it needs. */
  readonly onDrift: boolean;
}

/**
 * Refine on the window after appending `batches` (the records observed since the last request,
 * oldest first; their buffers are transferred). The thread keeps the window between requests.
 */
export interface RefineRequest {
  readonly batches: readonly Matrix[];
  readonly clusterSizes: Float32Array;
  /**
   * False with refinement off: the thread only takes the batches (and judges a waiting shadow
   * once enough of them arrived).
   */
  readonly refine: boolean;
}

/** Retrain from scratch on the window after appending `batches`. */
export interface RebootstrapRequest {
  readonly batches: readonly Matrix[];
  readonly options: RebootstrapOptions;
}

export type RefineProtocol = {
  readonly init: RefineThreadInit;
  /** The tensor backend the thread runs on. */
  readonly ready: string;
  readonly requests: {
    /** Serve this version from now on (a restart or an outside swap); the window starts empty. */
    readonly replace: Call<ModelSnapshot, undefined>;
    /**
     * A refinement; or, once a shadow model has seen enough fresh records, its judgement (a
     * promotion outcome); undefined when there was nothing to refine on, or refinement is off.
     */
    readonly refine: Call<RefineRequest, RefinementOutcome | undefined>;
    readonly retrain: Call<RetrainRequest, RefinementOutcome>;
    readonly rebootstrap: Call<RebootstrapRequest, RefinementOutcome>;
    /** Releases the engine's tensors; the thread then ends. */
    readonly close: Call<undefined, undefined>;
  };
  /** A log line for the worker's log. */
  readonly event: string;
};
