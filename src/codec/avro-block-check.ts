import type { Type, types } from 'avsc';
import { PoisonReason, PoisonRecordError } from '../errors.js';

/** How the bytes of one Avro type are laid out, as far as walking over them needs. */
type Layout =
  | { readonly kind: 'fixed'; readonly size: number }
  | { readonly kind: 'varint' }
  | { readonly kind: 'length-prefixed' }
  | { readonly kind: 'record'; readonly fields: Layout[] }
  | { readonly kind: 'union'; readonly branches: Layout[] }
  | { readonly kind: 'array'; readonly items: Layout; itemSize?: number | undefined }
  | { readonly kind: 'map'; readonly values: Layout };

const fixedSizes: Readonly<Record<string, number>> = { null: 0, boolean: 1, float: 4, double: 8 };

/** The layout of `type`; a named type met again (a recursive schema) shares its layout. */
function layoutOf(type: Type, seen: Map<Type, Layout>): Layout {
  const known = seen.get(type);
  if (known !== undefined) return known;
  const name = type.typeName;
  const size = fixedSizes[name];
  if (size !== undefined) return { kind: 'fixed', size };
  switch (name) {
    case 'int':
    case 'long':
    case 'enum':
    case 'abstract:long':
      return { kind: 'varint' };
    case 'string':
    case 'bytes':
      return { kind: 'length-prefixed' };
    case 'fixed':
      return { kind: 'fixed', size: (type as types.FixedType).size };
    case 'record':
    case 'error': {
      const layout: Layout = { kind: 'record', fields: [] };
      seen.set(type, layout);
      for (const field of (type as types.RecordType).fields) {
        layout.fields.push(layoutOf(field.type, seen));
      }
      return layout;
    }
    case 'array':
      return { kind: 'array', items: layoutOf((type as types.ArrayType).itemsType, seen) };
    case 'map':
      return { kind: 'map', values: layoutOf((type as types.MapType).valuesType as Type, seen) };
    default: {
      if (name.startsWith('union:')) {
        const branches = (type as unknown as { types: Type[] }).types;
        return { kind: 'union', branches: branches.map((branch) => layoutOf(branch, seen)) };
      }
      if (name.startsWith('logical:')) {
        return layoutOf((type as types.LogicalType).underlyingType, seen);
      }
      throw new Error(`no layout for the Avro type ${name}`);
    }
  }
}

/** Whether a value of `layout` can hold an array or a map anywhere. */
function holdsBlocks(layout: Layout, seen = new Set<Layout>()): boolean {
  if (seen.has(layout)) return false;
  seen.add(layout);
  switch (layout.kind) {
    case 'array':
    case 'map':
      return true;
    case 'record':
      return layout.fields.some((field) => holdsBlocks(field, seen));
    case 'union':
      return layout.branches.some((branch) => holdsBlocks(branch, seen));
    default:
      return false;
  }
}

/** Every array layout reachable from `layout`. */
function arrays(layout: Layout, seen = new Set<Layout>()): Extract<Layout, { kind: 'array' }>[] {
  if (seen.has(layout)) return [];
  seen.add(layout);
  switch (layout.kind) {
    case 'array':
      return [layout, ...arrays(layout.items, seen)];
    case 'map':
      return arrays(layout.values, seen);
    case 'record':
      return layout.fields.flatMap((field) => arrays(field, seen));
    case 'union':
      return layout.branches.flatMap((branch) => arrays(branch, seen));
    default:
      return [];
  }
}

/** The size of every value of `layout` when it is the same for all, else undefined. */
function constantSize(layout: Layout, seen = new Set<Layout>()): number | undefined {
  if (layout.kind === 'fixed') return layout.size;
  if (layout.kind !== 'record' || seen.has(layout)) return undefined;
  seen.add(layout);
  let size = 0;
  for (const field of layout.fields) {
    const fieldSize = constantSize(field, seen);
    if (fieldSize === undefined) return undefined;
    size += fieldSize;
  }
  return size;
}

/**
 * Most items a block may declare of a type that takes no bytes (null, an empty record): nothing in
 * the bytes bounds them, and avsc still makes one array slot per item.
 */
const maxEmptyItems = 65_536;

const noBytes = Buffer.alloc(0);

function corrupt(message: string): PoisonRecordError {
  return new PoisonRecordError(PoisonReason.Undecodable, `value is not valid Avro (${message})`);
}

/**
 * Checks every array and map block of an Avro body against the bytes it has, before avsc reads it.
 *
 * avsc reads a block item by item for as many items as its count says, and reading past the end
 * of the value does not stop it: one flipped bit that turns a count of 4 into 2^31 makes it
 * allocate and loop for billions of items, until the process runs out of memory. Every item takes
 * at least one byte, so a block that declares more items than bytes remain is corrupt, and so is
 * a negative length or a block whose byte size disagrees with its items. Items that take no bytes
 * (null, an empty record) are bounded by `maxEmptyItems` instead. This walk reads the bytes exactly as avsc does,
 * so the counts it checks are the ones avsc would read.
 */
export class AvroBlockCheck {
  private readonly layout: Layout;
  private bytes: Buffer = noBytes;
  private pos = 0;

  private constructor(layout: Layout) {
    this.layout = layout;
  }

  /** The check for bodies written with `type`; undefined when such a body holds no blocks. */
  static for(type: Type): AvroBlockCheck | undefined {
    const seen = new Map<Type, Layout>();
    const layout = layoutOf(type, seen);
    if (!holdsBlocks(layout)) return undefined;
    // Once every layout is complete: arrays of fixed-size items skip a block in one step.
    for (const array of arrays(layout)) array.itemSize = constantSize(array.items);
    return new AvroBlockCheck(layout);
  }

  /** Throws PoisonRecordError (Undecodable) when a block of the body at `offset` is corrupt. */
  check(bytes: Buffer, offset: number): void {
    this.bytes = bytes;
    this.pos = offset;
    try {
      this.walk(this.layout);
    } finally {
      // Not kept alive by the check between values.
      this.bytes = noBytes;
    }
  }

  /** Moves past one value; stops early once past the end (avsc then reports the truncation). */
  private walk(layout: Layout): void {
    if (this.pos > this.bytes.length) return;
    switch (layout.kind) {
      case 'fixed':
        this.pos += layout.size;
        return;
      case 'varint':
        this.readLong();
        return;
      case 'length-prefixed': {
        // Read before adding: `this.pos += this.length()` would add to the position before it.
        const length = this.length('a string or bytes length');
        this.pos += length;
        return;
      }
      case 'record':
        for (const field of layout.fields) this.walk(field);
        return;
      case 'union': {
        const index = this.readLong();
        const branch = layout.branches[index];
        if (branch === undefined) {
          if (this.pos > this.bytes.length) return;
          throw corrupt(`union index ${index} of ${layout.branches.length} branches`);
        }
        this.walk(branch);
        return;
      }
      case 'array':
        this.blocks(layout.items, layout.itemSize, false);
        return;
      case 'map':
        this.blocks(layout.values, undefined, true);
        return;
    }
  }

  /** The blocks of an array or map: a count, for a negative count a byte size, the items; 0 ends. */
  private blocks(items: Layout, itemSize: number | undefined, keyed: boolean): void {
    for (;;) {
      // A count cut short by the end of the value still counts: avsc loops over it all the same.
      let count = this.readLong();
      if (count === 0) return;
      let size: number | undefined;
      if (count < 0) {
        count = -count;
        size = this.length('a block size');
      }
      const left = Math.max(0, this.bytes.length - this.pos);
      if (itemSize === 0) {
        if (!(count <= maxEmptyItems)) {
          throw corrupt(`a block declares ${count} items that take no bytes`);
        }
      } else if (!(count <= left)) {
        throw corrupt(`a block declares ${count} items but only ${left} bytes are left`);
      }
      if (size !== undefined && size > left) {
        throw corrupt(`a block declares ${size} bytes but only ${left} are left`);
      }
      const start = this.pos;
      if (itemSize !== undefined) {
        this.pos += count * itemSize;
      } else {
        for (let i = 0; i < count && this.pos <= this.bytes.length; i++) {
          if (keyed) {
            const length = this.length('a map key length');
            this.pos += length;
          }
          this.walk(items);
        }
      }
      // avsc skips a block by its size in a field the reader skips, and reads it item by item
      // elsewhere: unless both end at the same byte, the rest is read at another position than
      // the one checked here.
      if (size !== undefined && this.pos - start !== size) {
        throw corrupt(`a block declares ${size} bytes but its items take ${this.pos - start}`);
      }
    }
  }

  /** A length (string, bytes, block size): never negative, which avsc would skip backwards over. */
  private length(what: string): number {
    const length = this.readLong();
    if (length < 0) throw corrupt(`${what} is negative (${length})`);
    return length;
  }

  /**
   * A zig-zag varint, read exactly as avsc's Tap.readLong reads it (past the end of the bytes a
   * missing byte ends the number), so both stop at the same position with the same value.
   */
  private readLong(): number {
    const bytes = this.bytes;
    let n = 0;
    let k = 0;
    let b: number;
    let more: number;
    do {
      b = bytes[this.pos++] ?? 0;
      more = b & 0x80;
      n |= (b & 0x7f) << k;
      k += 7;
    } while (more !== 0 && k < 28);
    if (more === 0) return (n >> 1) ^ -(n & 1);
    // Beyond 28 bits: float arithmetic, as avsc does.
    let f = n;
    let scale = 268435456;
    do {
      b = bytes[this.pos++] ?? 0;
      f += (b & 0x7f) * scale;
      scale *= 128;
    } while ((b & 0x80) !== 0);
    return (f % 2 ? -(f + 1) : f) / 2;
  }
}
