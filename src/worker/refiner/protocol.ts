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
} from '../../online/refinement-engine.js';
import type { Call } from '../../runtime/thread-channel.js';

export interface RefineThreadInit {
  readonly snapshot: ModelSnapshot;
  /** Capacity of the thread's window of recent records. */
  readonly windowRecords: number;
  readonly settings: RefinementSettings;
  readonly backend: BackendPreference;
  /** Nice value for the thread (Linux applies it to the calling thread only); 0 leaves it. */
  readonly nice: number;
}

/**
 * Refine on the window after appending `batches` (the records observed since the last request,
 * oldest first; their buffers are transferred). The thread keeps the window between requests.
 */
export interface RefineRequest {
  readonly batches: readonly Matrix[];
  readonly clusterSizes: Float32Array;
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
    readonly refine: Call<RefineRequest, RefinementOutcome>;
    readonly rebootstrap: Call<RebootstrapRequest, RefinementOutcome>;
    /** Releases the engine's tensors; the thread then ends. */
    readonly close: Call<undefined, undefined>;
  };
  /** A log line for the worker's log. */
  readonly event: string;
};
