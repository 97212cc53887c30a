/**
 * Messages between the worker and its labelling thread. A chunk's values travel as one buffer
 * plus offsets, transferred rather than copied; labelled values come back the same way.
 */
import type { BackendPreference } from '../../model/backend.js';
import type { ModelSnapshot } from '../../model/types.js';
import type { ErrorData } from '../../runtime/error-data.js';
import type { PackedValues } from '../../runtime/packed-values.js';
import type { Call } from '../../runtime/thread-channel.js';
import type { CodecDescription } from './codec-description.js';

export interface LabelledData {
  readonly modelVersion: number;
  readonly indices: Int32Array;
  readonly values: PackedValues;
  readonly failures: readonly { readonly index: number; readonly error: ErrorData }[];
  readonly x: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly assignment:
    | {
        readonly clusters: number;
        readonly cluster: Int32Array;
        readonly confidence: Float32Array;
        readonly q: Float32Array;
        readonly distance: Float32Array;
      }
    | undefined;
}

export type LabelProtocol = {
  readonly init: { readonly codec: CodecDescription; readonly backend: BackendPreference };
  /** The tensor backend the thread runs on. */
  readonly ready: string;
  readonly requests: {
    /** Label with this version from the next request on. */
    readonly serve: Call<ModelSnapshot, undefined>;
    readonly label: Call<PackedValues, LabelledData>;
  };
  readonly event: never;
};
