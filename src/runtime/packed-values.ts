/**
 * Byte strings packed into one buffer, so that a chunk of Kafka keys or values crosses to another
 * thread in a transfer list (moved, not copied) instead of as one cloned object per value.
 */

/** Values laid end to end: value i is bytes[offsets[i], offsets[i + 1]), null where `nulls[i]`. */
export interface PackedValues {
  readonly bytes: ArrayBuffer;
  /** length + 1 entries. */
  readonly offsets: Int32Array;
  /** 1 where the value is null; absent when none is. */
  readonly nulls: Uint8Array | undefined;
}

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
