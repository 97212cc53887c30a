import type { PoisonReason } from '../errors.js';
import { PoisonRecordError, PoisonReason as Reason } from '../errors.js';
import { reorderRows } from '../model/canonical-order.js';
import { FeatureExtractor } from '../model/features.js';
import { standardiseRows } from '../model/standardise.js';
import type { AssignmentBatch, Matrix, ModelSnapshot } from '../model/types.js';
import { Assigner } from '../online/assigner.js';
import { overflowedRows } from '../online/overflowed-rows.js';
import { deadLetter, poisonReasonOf } from './dead-letter.js';
import type {
  FeatureScanner,
  LabelledChunk,
  OutboundMessage,
  RecordCodec,
  SourceRecord,
} from './ports.js';

export type { LabelledChunk } from './ports.js';

/** Header naming the model version that labelled a record. */
export const ModelVersionHeader = 'dec-model-version';

/** A value that could not be labelled: its index in the chunk and why. */
export interface LabelFailure {
  readonly index: number;
  readonly error: unknown;
}

/**
 * What labelling a chunk's values produces, before it is joined with the records' keys, headers
 * and timestamps: the part that can run away from the records themselves (in another thread).
 */
export interface ValueLabels {
  readonly modelVersion: number;
  /** Index in the chunk of each labelled value, ascending. */
  readonly indices: ArrayLike<number>;
  /** The labelled output value of each index in `indices`. */
  readonly values: readonly Buffer[];
  /** In the order they were met: decoding and features first, then encoding. */
  readonly failures: readonly LabelFailure[];
  /** Standardised features of the labelled values, a fresh matrix the caller may hand on. */
  readonly x: Matrix;
  /** Undefined when nothing was labelled, or when an encoding failure dropped a row. */
  readonly assignment: AssignmentBatch | undefined;
}

/**
 * One model version ready to label records: its feature extractor, standardisation and assigner.
 * The assigner holds tensors: call `dispose` when the version stops serving.
 */
export class ServingModel {
  readonly snapshot: ModelSnapshot;
  readonly extractor: FeatureExtractor;
  private readonly assigner: Assigner;
  private disposed = false;
  private scannerCodec: RecordCodec | undefined;
  private scanner: FeatureScanner | undefined;

  constructor(snapshot: ModelSnapshot) {
    this.snapshot = snapshot;
    this.extractor = new FeatureExtractor(snapshot.featureSpec);
    this.assigner = new Assigner(snapshot.parameters);
  }

  get version(): number {
    return this.snapshot.version;
  }

  /**
   * Decodes, extracts, standardises and assigns `records`; a record that fails any step (bytes,
   * schema, missing or non-numeric field, NaN, wrong length, overflow after standardising or in the
   * soft assignment) becomes a dead letter instead, so one bad record never holds up the others.
   */
  label(records: readonly SourceRecord[], codec: RecordCodec): LabelledChunk {
    return labelledChunk(
      records,
      this.labelValues(
        records.map((r) => r.value),
        codec,
      ),
      versionHeaders,
    );
  }

  /** The value-only half of `label`: every step that needs neither keys, headers nor timestamps. */
  labelValues(values: readonly (Buffer | null)[], codec: RecordCodec): ValueLabels {
    const dims = this.extractor.dims;
    const data = new Float32Array(values.length * dims);
    let goodIndices: number[] = [];
    /** The decoded record of each good value; undefined where the codec's scanner read it. */
    let decoded: (Record<string, unknown> | undefined)[] = [];
    const failures: LabelFailure[] = [];
    const scanner = this.scannerFor(codec);

    for (let index = 0; index < values.length; index++) {
      const row = goodIndices.length;
      try {
        const bytes = values[index] as Buffer | null;
        let value: Record<string, unknown> | undefined;
        if (scanner === undefined || bytes === null || !scanner.read(bytes, data, row * dims)) {
          value = codec.decode(bytes);
          this.extractor.extract(value, data, row * dims);
        }
        standardiseRows(data, row, 1, this.snapshot.standardisation);
        for (let i = row * dims; i < (row + 1) * dims; i++) {
          if (!Number.isFinite(data[i])) {
            throw new PoisonRecordError(
              Reason.NonFinite,
              'a feature overflows after standardisation',
            );
          }
        }
        goodIndices.push(index);
        decoded.push(value);
      } catch (error) {
        failures.push({ index, error });
      }
    }

    const version = this.snapshot.version;
    let x: Matrix = {
      data: data.slice(0, goodIndices.length * dims),
      rows: goodIndices.length,
      cols: dims,
    };
    if (goodIndices.length === 0) {
      return { modelVersion: version, indices: [], values: [], failures, x, assignment: undefined };
    }
    this.assertLive();
    let assignment = this.assigner.assign(x);
    // A record whose finite features are still too large for the model gets no label; the others
    // are assigned again without it (rows are independent, so their labels do not change).
    const overflowed = overflowedRows(assignment);
    if (overflowed !== undefined) {
      for (const row of overflowed.dropped) {
        failures.push({
          index: goodIndices[row] as number,
          error: new PoisonRecordError(
            Reason.NonFinite,
            'a feature is too large for the model: its soft assignment overflows',
          ),
        });
      }
      x = reorderRows(x, overflowed.kept);
      goodIndices = Array.from(overflowed.kept, (row) => goodIndices[row] as number);
      decoded = Array.from(overflowed.kept, (row) => decoded[row]);
      if (x.rows === 0) {
        return {
          modelVersion: version,
          indices: [],
          values: [],
          failures,
          x,
          assignment: undefined,
        };
      }
      assignment = this.assigner.assign(x);
    }
    const indices: number[] = [];
    const out: Buffer[] = [];
    for (let i = 0; i < goodIndices.length; i++) {
      const index = goodIndices[i] as number;
      try {
        const label = {
          cluster: assignment.cluster[i] as number,
          confidence: assignment.confidence[i] as number,
          modelVersion: version,
        };
        const record = decoded[i];
        // `record` was only read since it was decoded: the codec may append to its source bytes.
        out.push(
          record === undefined
            ? (scanner as FeatureScanner).label(values[index] as Buffer, label)
            : codec.encodeLabelled(record, label, values[index]),
        );
        indices.push(index);
      } catch (error) {
        failures.push({ index, error });
      }
    }
    // An encoding failure dropped rows: no assignment, so x and the assignment never disagree
    // with the labelled records.
    const complete = indices.length === goodIndices.length;
    return {
      modelVersion: version,
      indices,
      values: out,
      failures,
      x,
      assignment: complete ? assignment : undefined,
    };
  }

  /** The codec's fast path for this version's feature layout, built once per codec. */
  private scannerFor(codec: RecordCodec): FeatureScanner | undefined {
    if (codec !== this.scannerCodec) {
      this.scannerCodec = codec;
      const { fields, widths } = this.extractor.spec;
      this.scanner = codec.featureScanner?.(fields, widths);
    }
    return this.scanner;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.assigner.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error(`model version ${this.snapshot.version} was disposed`);
  }
}

/** Header objects of records that carry no headers of their own, one per model version. */
export class VersionHeaders {
  private version: number | undefined;
  private headers: Readonly<Record<string, Buffer>> = {};

  /** The headers of a record without headers; shared by every such record of `version`. */
  bare(version: number): Readonly<Record<string, Buffer>> {
    if (version !== this.version) {
      this.version = version;
      this.headers = Object.freeze({ [ModelVersionHeader]: Buffer.from(String(version)) });
    }
    return this.headers;
  }
}

const versionHeaders = new VersionHeaders();

/**
 * Joins labelled values with their records: the output message of each (source key, source
 * headers plus the model version), a dead letter for each failure, the timestamps for latency.
 */
export function labelledChunk(
  records: readonly SourceRecord[],
  labels: ValueLabels,
  headerCache: VersionHeaders,
): LabelledChunk {
  const version = labels.modelVersion;
  const bare = headerCache.bare(version);
  const versionValue = bare[ModelVersionHeader] as Buffer;
  const labelled: OutboundMessage[] = new Array<OutboundMessage>(labels.values.length);
  const timestampsMs: number[] = new Array<number>(labels.values.length);
  for (let i = 0; i < labels.values.length; i++) {
    const record = records[labels.indices[i] as number] as SourceRecord;
    const source = record.headers;
    let headers: Readonly<Record<string, Buffer | string | (Buffer | string)[]>> = bare;
    const names = Object.keys(source);
    // Output headers are only read downstream, so records without headers share one object.
    if (names.length > 0) {
      const copy: Record<string, Buffer | string | (Buffer | string)[]> = {};
      for (const name of names) {
        const headerValue = source[name];
        if (headerValue !== undefined) copy[name] = headerValue;
      }
      copy[ModelVersionHeader] = versionValue;
      headers = copy;
    }
    labelled[i] = { key: record.key, value: labels.values[i] as Buffer, headers };
    timestampsMs[i] = record.timestampMs;
  }
  const deadLetters: OutboundMessage[] = [];
  const deadReasons = new Map<PoisonReason, number>();
  for (const failure of labels.failures) {
    const record = records[failure.index] as SourceRecord;
    deadLetters.push(deadLetter(record, failure.error));
    const reason = poisonReasonOf(failure.error);
    deadReasons.set(reason, (deadReasons.get(reason) ?? 0) + 1);
  }
  return {
    labelled,
    deadLetters,
    deadReasons,
    x: labels.x,
    assignment: labels.assignment,
    timestampsMs,
    modelVersion: version,
  };
}
