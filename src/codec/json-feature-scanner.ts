import { isUtf8 } from 'node:buffer';
import type { FeatureScanner, Label } from './record-codec.js';
import { LabelField } from './record-codec.js';

/** Largest finite float32: a feature beyond it is a poison record, which the slow path reports. */
const Float32Max = 3.4028234663852886e38;

/** Nesting beyond this is left to JSON.parse (and its own limits). */
const MaxDepth = 64;

// Bytes of JSON's syntax, as module constants: V8 folds these into the code, not an object's
// properties (about a tenth of the scan here).
const Tab = 0x09;
const LineFeed = 0x0a;
const CarriageReturn = 0x0d;
const Space = 0x20;
const Quote = 0x22;
const Plus = 0x2b;
const Comma = 0x2c;
const Minus = 0x2d;
const Dot = 0x2e;
const Zero = 0x30;
const Nine = 0x39;
const Colon = 0x3a;
const UpperE = 0x45;
const OpenBracket = 0x5b;
const Backslash = 0x5c;
const CloseBracket = 0x5d;
const LowerE = 0x65;
const OpenBrace = 0x7b;
const CloseBrace = 0x7d;

/** Exact powers of ten: every one up to 1e22 is a double without rounding. */
const PowersOfTen = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Characters that may follow a backslash, besides `u`. */
const SimpleEscapes = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

const Literals = [
  Buffer.from('true', 'latin1'),
  Buffer.from('false', 'latin1'),
  Buffer.from('null', 'latin1'),
];

/** A feature field's value: `width` numbers written from `column` of the output row. */
interface LeafSlot {
  readonly id: number;
  readonly column: number;
  readonly width: number;
  readonly node: undefined;
}

/** An object on the way to deeper feature fields (`point` of `point.x`). */
interface ObjectSlot {
  readonly id: number;
  readonly node: KeyNode;
}

type Slot = LeafSlot | ObjectSlot;

/** The keys of one object that lead to features, as UTF-8 bytes. */
class KeyNode {
  readonly names: Buffer[] = [];
  readonly slots: Slot[] = [];
  /** Records tend to list their fields in one order: the key after the last match is tried first. */
  private hint = 0;

  add(name: Buffer, slot: Slot): void {
    this.names.push(name);
    this.slots.push(slot);
  }

  find(bytes: Buffer, start: number, end: number): Slot | undefined {
    const names = this.names;
    const count = names.length;
    if (count === 0) return undefined;
    const hinted = this.hint < count ? this.hint : 0;
    if (sameBytes(names[hinted] as Buffer, bytes, start, end)) {
      this.hint = hinted + 1;
      return this.slots[hinted];
    }
    for (let i = 0; i < count; i++) {
      if (i !== hinted && sameBytes(names[i] as Buffer, bytes, start, end)) {
        this.hint = i + 1;
        return this.slots[i];
      }
    }
    return undefined;
  }
}

function sameBytes(name: Buffer, bytes: Buffer, start: number, end: number): boolean {
  if (name.length !== end - start) return false;
  for (let i = 0; i < name.length; i++) if (name[i] !== bytes[start + i]) return false;
  return true;
}

const LabelNames = [LabelField.Cluster, LabelField.Confidence, LabelField.ModelVersion].map(
  (name) => Buffer.from(name, 'utf8'),
);

/**
 * Reads the feature fields of a JSON object straight from its bytes: no string, no object and no
 * boxed number per record, which is most of what `JSON.parse` plus feature extraction cost on the
 * labelling path. It validates the whole value as strictly as `JSON.parse` (grammar, string
 * escapes and control characters, UTF-8) and converts numbers exactly as it does.
 *
 * It reads only the common case and declines everything else, leaving it to the codec's decode and
 * the feature extractor, which then label the value or name what is wrong with it: escaped keys,
 * a feature key given twice, a feature that is missing, not a number, of the wrong length or
 * beyond float32, a top-level label field (the output would replace it), deep nesting.
 */
export class JsonFeatureScanner implements FeatureScanner {
  private readonly root = new KeyNode();
  private readonly leaves: LeafSlot[] = [];
  /** seen[slot id] === stamp: that key was met in the value being read. */
  private seen = new Int32Array(0);
  private stamp = 0;
  private readonly appendLabel: (source: Buffer, label: Label) => Buffer | undefined;
  private readonly encodeSlowly: (source: Buffer, label: Label) => Buffer;
  /** Top-level keys the output writes: a value holding one is left to the slow path. */
  private labelNames: readonly Buffer[] = LabelNames;

  // The value being read.
  private out: Float32Array = new Float32Array(0);
  private row = 0;
  private nonAscii = false;
  /** The number `number()` read last. */
  private parsed = 0;

  /**
   * Undefined for a layout it cannot read: one field a prefix path of another (`point` and
   * `point.x`), or a top-level feature named like a label field (the output replaces it).
   */
  static for(
    fields: readonly string[],
    widths: readonly number[],
    label: {
      readonly append: (source: Buffer, label: Label) => Buffer | undefined;
      readonly encode: (source: Buffer, label: Label) => Buffer;
      /** Top-level names the output adds beyond the label fields (DEC_OUTPUT_DETAIL=full). */
      readonly extraNames?: readonly string[];
    },
  ): JsonFeatureScanner | undefined {
    const scanner = new JsonFeatureScanner(label.append, label.encode);
    const labelNames = [
      ...LabelNames,
      ...(label.extraNames ?? []).map((name) => Buffer.from(name, 'utf8')),
    ];
    scanner.labelNames = labelNames;
    let column = 0;
    let nextId = 0;
    for (let f = 0; f < fields.length; f++) {
      const path = (fields[f] as string).split('.');
      const width = widths[f] as number;
      let node = scanner.root;
      for (let s = 0; s < path.length; s++) {
        const name = Buffer.from(path[s] as string, 'utf8');
        if (node === scanner.root && labelNames.some((l) => l.equals(name))) return undefined;
        const index = node.names.findIndex((n) => n.equals(name));
        const last = s === path.length - 1;
        if (index >= 0) {
          const slot = node.slots[index] as Slot;
          // A leaf met again, or an object path that is also a leaf: not one layout.
          if (last || slot.node === undefined) return undefined;
          node = slot.node;
          continue;
        }
        if (last) {
          const leaf: LeafSlot = { id: nextId++, column, width, node: undefined };
          node.add(name, leaf);
          scanner.leaves.push(leaf);
        } else {
          const child = new KeyNode();
          node.add(name, { id: nextId++, node: child });
          node = child;
        }
      }
      column += width;
    }
    scanner.seen = new Int32Array(nextId);
    return scanner;
  }

  private constructor(
    appendLabel: (source: Buffer, label: Label) => Buffer | undefined,
    encodeSlowly: (source: Buffer, label: Label) => Buffer,
  ) {
    this.appendLabel = appendLabel;
    this.encodeSlowly = encodeSlowly;
  }

  read(bytes: Buffer, out: Float32Array, offset: number): boolean {
    this.out = out;
    this.row = offset;
    this.nonAscii = false;
    if (this.stamp === 0x7fffffff) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
    // A UTF-8 byte order mark, which the codec's decoder skips.
    let pos = skipSpace(bytes, bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
    if (bytes[pos] !== OpenBrace) return false;
    pos = this.object(bytes, pos, this.root, 0);
    if (pos < 0 || skipSpace(bytes, pos) !== bytes.length) return false;
    const seen = this.seen;
    for (const leaf of this.leaves) if (seen[leaf.id] !== this.stamp) return false;
    // Bytes above 0x7f only pass inside strings; the codec's decoder would refuse invalid UTF-8.
    return !this.nonAscii || isUtf8(bytes);
  }

  label(bytes: Buffer, label: Label): Buffer {
    return this.appendLabel(bytes, label) ?? this.encodeSlowly(bytes, label);
  }

  // Each step below takes the position of its first byte and returns the position after what it
  // read, or Declined.

  /** At `{`: the object, its feature keys looked up in `node` (undefined: it leads to none). */
  private object(bytes: Buffer, at: number, node: KeyNode | undefined, depth: number): number {
    let pos = skipSpace(bytes, at + 1);
    if (bytes[pos] === CloseBrace) return pos + 1;
    for (;;) {
      if (bytes[pos] !== Quote) return Declined;
      const keyStart = pos + 1;
      pos = this.string(bytes, pos);
      if (pos < 0) return Declined;
      const keyEnd = pos - 1;
      pos = skipSpace(bytes, pos);
      if (bytes[pos] !== Colon) return Declined;
      pos = skipSpace(bytes, pos + 1);
      const slot = node?.find(bytes, keyStart, keyEnd);
      if (slot !== undefined) {
        // A key given twice: JSON.parse keeps the last, which may not be a number. Left to it.
        if (this.seen[slot.id] === this.stamp) return Declined;
        this.seen[slot.id] = this.stamp;
        if (slot.node === undefined) pos = this.leaf(bytes, pos, slot);
        else if (bytes[pos] === OpenBrace) pos = this.object(bytes, pos, slot.node, depth + 1);
        else return Declined;
      } else {
        if (node !== undefined) {
          // An escaped key may spell a feature or label name: only the slow path can tell.
          if (hasEscape(bytes, keyStart, keyEnd)) return Declined;
          if (node === this.root && isLabelName(this.labelNames, bytes, keyStart, keyEnd)) {
            return Declined;
          }
        }
        pos = this.value(bytes, pos, depth + 1);
      }
      if (pos < 0) return Declined;
      pos = skipSpace(bytes, pos);
      const c = bytes[pos];
      if (c === CloseBrace) return pos + 1;
      if (c !== Comma) return Declined;
      pos = skipSpace(bytes, pos + 1);
    }
  }

  /** A feature's value: a number (width 1) or an array of exactly `width` numbers. */
  private leaf(bytes: Buffer, at: number, slot: LeafSlot): number {
    const out = this.out;
    let column = this.row + slot.column;
    if (bytes[at] !== OpenBracket) {
      if (slot.width !== 1) return Declined;
      const pos = this.number(bytes, at);
      if (pos < 0 || !(Math.abs(this.parsed) <= Float32Max)) return Declined;
      out[column] = this.parsed;
      return pos;
    }
    let pos = skipSpace(bytes, at + 1);
    for (let i = 0; i < slot.width; i++) {
      if (i > 0) {
        if (bytes[pos] !== Comma) return Declined;
        pos = skipSpace(bytes, pos + 1);
      }
      // Vectors such as pixels are mostly short non-negative integers: up to four digits then a
      // separator are read here, anything else by number().
      let c = bytes[pos] as number;
      let digits = 0;
      let integer = 0;
      if (c > Zero && c <= Nine) {
        do {
          integer = integer * 10 + (c - Zero);
          c = bytes[pos + ++digits] as number;
        } while (digits < 4 && c >= Zero && c <= Nine);
      } else if (c === Zero) {
        c = bytes[pos + ++digits] as number;
      }
      if (digits > 0 && (c === Comma || c === CloseBracket)) {
        out[column++] = integer;
        pos += digits;
        continue;
      }
      pos = this.number(bytes, pos);
      if (pos < 0 || !(Math.abs(this.parsed) <= Float32Max)) return Declined;
      out[column++] = this.parsed;
      pos = skipSpace(bytes, pos);
    }
    return bytes[pos] === CloseBracket ? pos + 1 : Declined;
  }

  /** Any JSON value, checked and passed over. */
  private value(bytes: Buffer, pos: number, depth: number): number {
    if (depth > MaxDepth) return Declined;
    const c = bytes[pos];
    if (c === Quote) return this.string(bytes, pos);
    if (c === Minus || (c !== undefined && c >= Zero && c <= Nine)) {
      return this.number(bytes, pos);
    }
    if (c === OpenBrace) return this.object(bytes, pos, undefined, depth);
    if (c === OpenBracket) return this.array(bytes, pos, depth);
    for (const literal of Literals) {
      if (c === literal[0]) return matchLiteral(bytes, pos, literal);
    }
    return Declined;
  }

  private array(bytes: Buffer, at: number, depth: number): number {
    let pos = skipSpace(bytes, at + 1);
    if (bytes[pos] === CloseBracket) return pos + 1;
    for (;;) {
      pos = this.value(bytes, pos, depth + 1);
      if (pos < 0) return Declined;
      pos = skipSpace(bytes, pos);
      const c = bytes[pos];
      if (c === CloseBracket) return pos + 1;
      if (c !== Comma) return Declined;
      pos = skipSpace(bytes, pos + 1);
    }
  }

  /** At `"`: a string with valid escapes and no raw control character. */
  private string(bytes: Buffer, at: number): number {
    const end = bytes.length;
    let pos = at + 1;
    while (pos < end) {
      const c = bytes[pos] as number;
      if (c === Quote) return pos + 1;
      if (c === Backslash) {
        const e = bytes[pos + 1] as number;
        if (e === 0x75) {
          for (let i = 2; i < 6; i++) if (!isHexDigit(bytes[pos + i])) return Declined;
          pos += 6;
        } else if (SimpleEscapes.has(e)) {
          pos += 2;
        } else {
          return Declined;
        }
        continue;
      }
      if (c < Space) return Declined;
      if (c > 0x7f) this.nonAscii = true;
      pos++;
    }
    return Declined;
  }

  /**
   * A number by JSON's grammar, into `parsed`, exactly as JSON.parse reads it. Up to 15
   * significant digits and a decimal exponent within ±22 take Clinger's fast path: the digits as
   * an integer below 2^53 and the power of ten are both exact doubles, so one multiplication or
   * division rounds once, correctly. Anything longer goes through Number(), JSON.parse's own
   * conversion.
   */
  private number(bytes: Buffer, at: number): number {
    let pos = at;
    const negative = bytes[pos] === Minus;
    if (negative) pos++;
    const digitsStart = pos;
    let mantissa = 0;
    let digits = 0;
    let c = bytes[pos];
    if (c === Zero) {
      c = bytes[++pos];
    } else if (c !== undefined && c > Zero && c <= Nine) {
      do {
        mantissa = mantissa * 10 + (c - Zero);
        digits++;
        c = bytes[++pos];
      } while (c !== undefined && c >= Zero && c <= Nine);
    } else {
      return Declined;
    }
    let exponent = 0;
    if (c === Dot) {
      c = bytes[++pos];
      if (c === undefined || c < Zero || c > Nine) return Declined;
      do {
        mantissa = mantissa * 10 + (c - Zero);
        digits++;
        exponent--;
        c = bytes[++pos];
      } while (c !== undefined && c >= Zero && c <= Nine);
    }
    if (c === LowerE || c === UpperE) {
      c = bytes[++pos];
      let negativeExponent = false;
      if (c === Plus || c === Minus) {
        negativeExponent = c === Minus;
        c = bytes[++pos];
      }
      if (c === undefined || c < Zero || c > Nine) return Declined;
      let written = 0;
      do {
        // Past a few digits only Number()'s answer matters (0 or Infinity).
        if (written < 10000) written = written * 10 + (c - Zero);
        c = bytes[++pos];
      } while (c !== undefined && c >= Zero && c <= Nine);
      exponent += negativeExponent ? -written : written;
    }
    let value: number;
    if (digits <= 15 && exponent >= -22 && exponent <= 22) {
      value =
        exponent < 0
          ? mantissa / (PowersOfTen[-exponent] as number)
          : mantissa * (PowersOfTen[exponent] as number);
    } else {
      value = Number(bytes.toString('latin1', digitsStart, pos));
    }
    this.parsed = negative ? -value : value;
    return pos;
  }
}

/** What a reading step returns when it leaves the value to the slow path. */
const Declined = -1;

/** JSON's insignificant whitespace: space, tab, line feed, carriage return. */
function skipSpace(bytes: Buffer, at: number): number {
  let pos = at;
  let c = bytes[pos] as number;
  // Every byte of JSON's four whitespace characters is at most 0x20; most values have none.
  while (c <= Space && (c === Space || c === LineFeed || c === CarriageReturn || c === Tab)) {
    c = bytes[++pos] as number;
  }
  return pos;
}

function hasEscape(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] === Backslash) return true;
  return false;
}

function matchLiteral(bytes: Buffer, at: number, literal: Buffer): number {
  for (let i = 0; i < literal.length; i++) if (bytes[at + i] !== literal[i]) return Declined;
  return at + literal.length;
}

function isHexDigit(c: number | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
  );
}

function isLabelName(names: readonly Buffer[], bytes: Buffer, start: number, end: number): boolean {
  for (const name of names) if (sameBytes(name, bytes, start, end)) return true;
  return false;
}
