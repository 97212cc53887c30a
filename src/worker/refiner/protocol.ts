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

export interface InitMessage {
  readonly type: 'init';
  readonly snapshot: ModelSnapshot;
  /** Capacity of the thread's window of recent records. */
  readonly windowRecords: number;
  readonly settings: RefinementSettings;
  readonly backend: BackendPreference;
  /** Nice value for the thread (Linux applies it to the calling thread only); 0 leaves it. */
  readonly nice: number;
}

/** Serve this version from now on (a restart or an outside swap); the window starts empty. */
export interface ReplaceMessage {
  readonly type: 'replace';
  readonly snapshot: ModelSnapshot;
}

/**
 * Refine on the window after appending `batches` (the records observed since the last request,
 * oldest first; their buffers are transferred). The thread keeps the window between requests.
 */
export interface RefineMessage {
  readonly type: 'refine';
  readonly id: number;
  readonly batches: readonly Matrix[];
  readonly clusterSizes: Float32Array;
}

/** Retrain from scratch on the window after appending `batches`. */
export interface RebootstrapMessage {
  readonly type: 'rebootstrap';
  readonly id: number;
  readonly batches: readonly Matrix[];
  readonly options: RebootstrapOptions;
}

export interface CloseMessage {
  readonly type: 'close';
}

export type ToThread =
  InitMessage | ReplaceMessage | RefineMessage | RebootstrapMessage | CloseMessage;

export type FromThread =
  | { readonly type: 'ready'; readonly backend: string }
  | { readonly type: 'outcome'; readonly id: number; readonly outcome: RefinementOutcome }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'closed' };
