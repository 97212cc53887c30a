import { PoisonReason, PoisonRecordError, UsageError } from '../errors.js';
import { checkFieldPath } from '../feature-list.js';
import type { FeatureSpec, Matrix } from './types.js';

/** Reads a dot path out of a plain object; `undefined` when any step is missing. */
export function readFieldPath(record: unknown, path: readonly string[]): unknown {
  let value: unknown = record;
  for (let i = 0; i < path.length; i++) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[path[i] as string];
  }
  return value;
}

/** Largest finite float32: anything beyond becomes Infinity in a Float32Array. */
const FLOAT32_MAX = 3.4028234663852886e38;

function isNumericArray(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/**
 * Turns records into feature vectors. A field holds a number (width 1) or an array of numbers
 * (flattened in order), so tabular records and vectors such as image pixels both work.
 *
 * `extract` sits on the online worker's hot path: field paths are split once here, and it writes
 * straight into the caller's buffer without allocating (only the error path allocates).
 */
export class FeatureExtractor {
  readonly spec: FeatureSpec;
  /** Length of one feature vector: the sum of the field widths. */
  readonly dims: number;
  private readonly paths: readonly (readonly string[])[];
  private readonly widths: Int32Array;

  constructor(spec: FeatureSpec) {
    if (spec.fields.length === 0) {
      throw new UsageError('a feature spec needs at least one field');
    }
    if (spec.widths.length !== spec.fields.length) {
      throw new UsageError(
        `a feature spec has ${spec.fields.length} fields but ${spec.widths.length} widths`,
      );
    }
    let dims = 0;
    spec.fields.forEach((field, i) => {
      checkFieldPath(field, spec.fields.join(','));
      const width = spec.widths[i] as number;
      if (!Number.isInteger(width) || width < 1) {
        throw new UsageError(`the feature field "${field}" has an invalid width ${width}`);
      }
      dims += width;
    });
    this.spec = { fields: [...spec.fields], widths: [...spec.widths] };
    this.dims = dims;
    this.paths = spec.fields.map((field) => field.split('.'));
    this.widths = Int32Array.from(spec.widths);
  }

  /**
   * Learns each field's width from one sample record: 1 for a number, n for an array of n numbers.
   * Throws PoisonRecordError naming the field when the sample cannot serve as a template.
   */
  static infer(fields: readonly string[], sample: unknown): FeatureExtractor {
    if (fields.length === 0) {
      throw new UsageError('a feature spec needs at least one field');
    }
    const widths = fields.map((field) => {
      checkFieldPath(field, fields.join(','));
      const value = readFieldPath(sample, field.split('.'));
      if (value === undefined || value === null) {
        throw new PoisonRecordError(
          PoisonReason.MissingField,
          `field "${field}" is missing`,
          field,
        );
      }
      if (typeof value === 'number') return 1;
      if (isNumericArray(value)) {
        if (value.length === 0) {
          throw new PoisonRecordError(
            PoisonReason.WrongLength,
            `field "${field}" is an empty array`,
            field,
          );
        }
        return value.length;
      }
      throw new PoisonRecordError(
        PoisonReason.NonNumeric,
        `field "${field}" is not a number or an array of numbers`,
        field,
      );
    });
    const extractor = new FeatureExtractor({ fields, widths });
    // The sample must itself be valid (finite numbers throughout).
    extractor.extract(sample, new Float32Array(extractor.dims), 0);
    return extractor;
  }

  /**
   * Writes the record's feature vector into out[offset .. offset + dims). Throws PoisonRecordError
   * (missing field, non-numeric value, NaN/Infinity, vector of the wrong length) naming the field;
   * out may then hold a partly written row.
   */
  extract(record: unknown, out: Float32Array, offset: number): void {
    let k = offset;
    const paths = this.paths;
    for (let f = 0; f < paths.length; f++) {
      const value = readFieldPath(record, paths[f] as readonly string[]);
      const width = this.widths[f] as number;
      if (typeof value === 'number') {
        if (width !== 1) this.fail(PoisonReason.WrongLength, f, value);
        if (!(Math.abs(value) <= FLOAT32_MAX)) this.fail(PoisonReason.NonFinite, f, value);
        out[k++] = value;
      } else if (isNumericArray(value)) {
        if (value.length !== width) this.fail(PoisonReason.WrongLength, f, value);
        for (let i = 0; i < width; i++) {
          const element = value[i];
          if (typeof element !== 'number') this.fail(PoisonReason.NonNumeric, f, value, i);
          if (!(Math.abs(element) <= FLOAT32_MAX)) {
            this.fail(PoisonReason.NonFinite, f, value, i);
          }
          out[k++] = element;
        }
      } else if (value === undefined || value === null) {
        this.fail(PoisonReason.MissingField, f, value);
      } else {
        this.fail(PoisonReason.NonNumeric, f, value);
      }
    }
  }

  /** Extracts every record into a new [records.length, dims] matrix; a poison record throws. */
  extractMatrix(records: readonly unknown[]): Matrix {
    const data = new Float32Array(records.length * this.dims);
    for (let r = 0; r < records.length; r++) {
      try {
        this.extract(records[r], data, r * this.dims);
      } catch (error) {
        if (error instanceof PoisonRecordError) {
          throw new PoisonRecordError(
            error.reason,
            `record ${r + 1}: ${error.message}`,
            error.field,
          );
        }
        throw error;
      }
    }
    return { data, rows: records.length, cols: this.dims };
  }

  private fail(reason: PoisonReason, fieldIndex: number, value: unknown, element?: number): never {
    const field = this.spec.fields[fieldIndex] as string;
    const width = this.widths[fieldIndex] as number;
    const where = element === undefined ? `field "${field}"` : `field "${field}[${element}]"`;
    let message: string;
    switch (reason) {
      case PoisonReason.MissingField:
        message = `${where} is missing`;
        break;
      case PoisonReason.WrongLength:
        message =
          typeof value === 'number'
            ? `${where} is a single number but ${width} values are expected`
            : `${where} has ${(value as ArrayLike<unknown>).length} values but ${width} are expected`;
        break;
      case PoisonReason.NonFinite: {
        const bad = element === undefined ? value : (value as ArrayLike<unknown>)[element];
        message = Number.isFinite(bad)
          ? `${where} is out of the float32 range (${String(bad)})`
          : `${where} is not finite (${String(bad)})`;
        break;
      }
      default:
        message = `${where} is not numeric (${describe(element === undefined ? value : (value as ArrayLike<unknown>)[element])})`;
    }
    throw new PoisonRecordError(reason, message, field);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  }
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value;
}
