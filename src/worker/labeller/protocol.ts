/**
 * Messages between the worker and its labelling thread. A chunk's values travel as one buffer
 * plus offsets, transferred rather than copied; labelled values come back the same way.
 */
import { DecStreamError, PoisonRecordError } from '../../errors.js';
import type { PoisonReason } from '../../errors.js';
import type { BackendPreference } from '../../model/backend.js';
import type { ModelSnapshot } from '../../model/types.js';
import type { CodecDescription } from './codec-description.js';

/** Values laid end to end: value i is bytes[offsets[i], offsets[i + 1]), null where `nulls[i]`. */
export interface PackedValues {
  readonly bytes: ArrayBuffer;
  /** length + 1 entries. */
  readonly offsets: Int32Array;
  /** 1 where the value is null; absent when none is. */
  readonly nulls: Uint8Array | undefined;
}

/** An error as plain data; `code` and `retriable` survive the trip (DecStreamError). */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly retriable: boolean;
  /** PoisonRecordError's reason, when the error is one. */
  readonly reason: string | undefined;
}

export type ToThread =
  | { readonly type: 'init'; readonly codec: CodecDescription; readonly backend: BackendPreference }
  | { readonly type: 'serve'; readonly id: number; readonly snapshot: ModelSnapshot }
  | { readonly type: 'label'; readonly id: number; readonly values: PackedValues };

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

export type FromThread =
  | { readonly type: 'ready'; readonly backend: string }
  | { readonly type: 'init-failed'; readonly error: ErrorData }
  | { readonly type: 'served'; readonly id: number }
  | { readonly type: 'labelled'; readonly id: number; readonly result: LabelledData }
  | { readonly type: 'failed'; readonly id: number; readonly error: ErrorData };

/** Packs `values` into one fresh buffer (which the caller may transfer). */
export function packValues(values: readonly (Buffer | null)[]): PackedValues {
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  let nulls: Uint8Array | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      nulls ??= new Uint8Array(values.length);
      nulls[i] = 1;
    } else {
      total += value.length;
    }
    offsets[i + 1] = total;
  }
  const bytes = new ArrayBuffer(total);
  const target = new Uint8Array(bytes);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value != null) target.set(value, offsets[i]);
  }
  return { bytes, offsets, nulls };
}

/** Views of packed values: no bytes are copied. */
export function unpackValues(packed: PackedValues): (Buffer | null)[] {
  const { bytes, offsets, nulls } = packed;
  const out = new Array<Buffer | null>(offsets.length - 1);
  for (let i = 0; i < out.length; i++) {
    const start = offsets[i] as number;
    out[i] =
      nulls?.[i] === 1 ? null : Buffer.from(bytes, start, (offsets[i + 1] as number) - start);
  }
  return out;
}

/** What may be transferred (moved, not copied) with a packed chunk. */
export function packedTransfer(packed: PackedValues): ArrayBuffer[] {
  const list: ArrayBuffer[] = [packed.bytes, packed.offsets.buffer as ArrayBuffer];
  if (packed.nulls !== undefined) list.push(packed.nulls.buffer as ArrayBuffer);
  return list;
}

export function errorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) {
    return {
      name: 'Error',
      message: String(error),
      code: undefined,
      retriable: false,
      reason: undefined,
    };
  }
  const fields = error as Error & { code?: unknown; retriable?: unknown; reason?: unknown };
  return {
    name: error.name,
    message: error.message,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    retriable: fields.retriable === true,
    reason: typeof fields.reason === 'string' ? fields.reason : undefined,
  };
}

/** The error `data` describes, with its code, retriability and poison reason where it had them. */
export function rebuildError(data: ErrorData): Error {
  if (data.reason !== undefined && data.code?.startsWith('POISON_') === true) {
    return new PoisonRecordError(data.reason as PoisonReason, data.message);
  }
  if (data.code !== undefined) {
    return new DecStreamError(data.code, data.message, { retriable: data.retriable });
  }
  const error = new Error(data.message);
  error.name = data.name;
  return error;
}
