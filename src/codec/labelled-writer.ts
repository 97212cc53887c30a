import type { Type } from 'avsc';
import { PoisonReason, PoisonRecordError } from '../errors.js';
import type { Label, OutputDetail } from './record-codec.js';

/**
 * Longest Avro encoding of the label fields: int (5) + double (8) + long (10), and with output
 * detail 'full' another int (5) and double (8).
 */
const labelBytes = 36;

/**
 * Writes `[prefix][record body][cluster][confidence][model_version]` (with output detail 'full',
 * `[runner_up][margin]` before `[model_version]`) with one reused scratch buffer and one copy.
 * Avro record encoding is the concatenation of its fields, so the labelled record (input schema +
 * the trailing label fields) is the input body followed by the label.
 */
export class LabelledWriter {
  private scratch = Buffer.allocUnsafe(4096);

  constructor(
    private readonly inputType: Type,
    private readonly outputDetail: OutputDetail = 'basic',
  ) {}

  /**
   * `[prefix][record body][label]`. Throws PoisonRecordError (Undecodable) for a record the input
   * schema cannot write: avsc reads an int of more than 32 bits without complaint, then refuses to
   * write it back.
   */
  write(prefix: Uint8Array | undefined, record: Record<string, unknown>, label: Label): Buffer {
    const start = prefix === undefined ? 0 : prefix.length;
    let end = this.encode(record, start);
    if (end < 0) {
      // encode() returns minus the number of missing bytes.
      this.scratch = Buffer.allocUnsafe((this.scratch.length - end) * 2);
      end = this.encode(record, start);
    }
    if (end + labelBytes > this.scratch.length) {
      const grown = Buffer.allocUnsafe((end + labelBytes) * 2);
      this.scratch.copy(grown, 0, 0, end);
      this.scratch = grown;
    }
    const buf = this.scratch;
    if (prefix !== undefined) buf.set(prefix, 0);
    end = writeLabel(buf, end, label, this.outputDetail);
    const out = Buffer.allocUnsafe(end);
    buf.copy(out, 0, 0, end);
    return out;
  }

  private encode(record: Record<string, unknown>, start: number): number {
    try {
      return this.inputType.encode(record, this.scratch, start);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new PoisonRecordError(
        PoisonReason.Undecodable,
        `value decodes to a record its schema cannot write (${reason})`,
      );
    }
  }

  /**
   * `[prefix][body][label]` where `source` from `bodyStart` on is a body already encoded with the
   * input schema (the bytes a record was decoded from): no serialising at all, a third to a quarter
   * of what `write` costs on the benchmark's records (bench/throughput/hot-path.ts). The input fields
   * keep the bytes they were written with, which decode to the same values.
   */
  append(prefix: Uint8Array | undefined, source: Buffer, bodyStart: number, label: Label): Buffer {
    const labelEnd = writeLabel(this.scratch, 0, label, this.outputDetail);
    const start = prefix === undefined ? 0 : prefix.length;
    const bodyEnd = start + source.length - bodyStart;
    const out = Buffer.allocUnsafe(bodyEnd + labelEnd);
    if (prefix !== undefined) out.set(prefix, 0);
    source.copy(out, start, bodyStart);
    this.scratch.copy(out, bodyEnd, 0, labelEnd);
    return out;
  }
}

/** The label fields at `pos` (at most `labelBytes`); returns the position after them. */
function writeLabel(buf: Buffer, pos: number, label: Label, detail: OutputDetail): number {
  let end = writeZigZag(buf, pos, checkInteger(label.cluster, 'cluster', 2 ** 31 - 1));
  end = buf.writeDoubleLE(label.confidence, end);
  if (detail === 'full') {
    if (label.runnerUp === undefined || label.margin === undefined) {
      throw new RangeError('output detail full needs the label runner-up and margin');
    }
    end = writeZigZag(buf, end, checkInteger(label.runnerUp, 'runnerUp', 2 ** 31 - 1));
    end = buf.writeDoubleLE(label.margin, end);
  }
  return writeZigZag(buf, end, checkInteger(label.modelVersion, 'modelVersion', 2 ** 52));
}

function checkInteger(value: number, name: string, limit: number): number {
  if (!Number.isInteger(value) || Math.abs(value) > limit) {
    throw new RangeError(`label ${name} must be an integer of magnitude <= ${limit}, got ${value}`);
  }
  return value;
}

/** Avro int/long: zig-zag then base-128 varint, least significant group first. */
function writeZigZag(buf: Buffer, pos: number, value: number): number {
  // Arithmetic rather than bit operations: exact for |value| <= 2^52.
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}
