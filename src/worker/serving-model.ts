import type { PoisonReason } from '../errors.js';
import { reorderRows } from '../model/canonical-order.js';
import { ModelVersion, overflowError } from '../model/model-version.js';
import type { AssignmentBatch, Matrix, ModelSnapshot } from '../model/types.js';
import { recordLabel } from '../online/record-label.js';
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

/** The values of a chunk that could be read: their feature rows and, unless scanned, records. */
interface ReadValues {
  /** Index in the chunk of each readable value, ascending. */
  readonly indices: number[];
  /** The decoded record of each readable value; undefined where the codec's scanner read it. */
  readonly decoded: (Record<string, unknown> | undefined)[];
  /** Standardised features, one row per readable value. */
  readonly x: Matrix;
  readonly failures: LabelFailure[];
}

/**
 * Codec glue around one model version: bytes in, through the codec (or its fast path) to the
 * model's features and assignment, labelled bytes out. The model holds tensors: call `dispose`
 * when the version stops serving.
 */
export class ServingModel {
  readonly model: ModelVersion;
  private scannerCodec: RecordCodec | undefined;
  private scanner: FeatureScanner | undefined;

  constructor(snapshot: ModelSnapshot) {
    this.model = new ModelVersion(snapshot);
  }

  get version(): number {
    return this.model.version;
  }

  /**
   * Decodes, extracts, standardises and assigns `records`; a record that fails any step (bytes,
   * schema, missing or non-numeric field, NaN, wrong length, overflow after standardising) becomes
   * a dead letter instead, so one bad record never holds up the others.
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
    const scanner = this.scannerFor(codec);
    const read = this.read(values, codec, scanner);
    const { x, failures } = read;
    const modelVersion = this.model.version;
    if (x.rows === 0) {
      return { modelVersion, indices: [], values: [], failures, x, assignment: undefined };
    }
    const usable = this.usable(read);
    if (usable.x.rows === 0) {
      return {
        modelVersion,
        indices: [],
        values: [],
        failures,
        x: usable.x,
        assignment: undefined,
      };
    }
    const assignment = usable.assignment;
    const { indices, out } = this.encode(values, usable, assignment, codec, scanner);
    // An encoding failure dropped rows: no assignment, so x and the assignment never disagree
    // with the labelled records.
    const complete = indices.length === usable.x.rows;
    return {
      modelVersion,
      indices,
      values: out,
      failures,
      x: usable.x,
      assignment: complete ? assignment : undefined,
    };
  }

  /**
   * The read values that have a cluster, assigned. A value whose finite features are still too
   * large for the model is dead-lettered (non-finite), and the rest go on without it.
   */
  private usable(read: ReadValues): ReadValues & { assignment: AssignmentBatch } {
    const { batch, kept, dropped } = this.model.assignUsable(read.x);
    if (dropped.length === 0) return { ...read, assignment: batch };
    for (const row of dropped) {
      read.failures.push({ index: read.indices[row] as number, error: overflowError() });
    }
    return {
      indices: Array.from(kept, (row) => read.indices[row] as number),
      decoded: Array.from(kept, (row) => read.decoded[row]),
      x: reorderRows(read.x, kept),
      failures: read.failures,
      assignment: batch,
    };
  }

  dispose(): void {
    this.model.dispose();
  }

  /** Each value's features, read from its bytes by the scanner or else decoded and extracted. */
  private read(
    values: readonly (Buffer | null)[],
    codec: RecordCodec,
    scanner: FeatureScanner | undefined,
  ): ReadValues {
    const model = this.model;
    const dims = model.dims;
    const data = new Float32Array(values.length * dims);
    const indices: number[] = [];
    const decoded: (Record<string, unknown> | undefined)[] = [];
    const failures: LabelFailure[] = [];
    for (let index = 0; index < values.length; index++) {
      const row = indices.length;
      try {
        const bytes = values[index] as Buffer | null;
        let value: Record<string, unknown> | undefined;
        if (scanner === undefined || bytes === null || !scanner.read(bytes, data, row * dims)) {
          value = codec.decode(bytes);
          model.featuresInto(value, data, row);
        } else {
          model.standardiseRow(data, row);
        }
        indices.push(index);
        decoded.push(value);
      } catch (error) {
        failures.push({ index, error });
      }
    }
    const x = { data: data.slice(0, indices.length * dims), rows: indices.length, cols: dims };
    return { indices, decoded, x, failures };
  }

  /** The labelled bytes of each read value; a value the codec cannot encode becomes a failure. */
  private encode(
    values: readonly (Buffer | null)[],
    read: ReadValues,
    assignment: AssignmentBatch,
    codec: RecordCodec,
    scanner: FeatureScanner | undefined,
  ): { indices: number[]; out: Buffer[] } {
    const modelVersion = this.model.version;
    const indices: number[] = [];
    const out: Buffer[] = [];
    for (let i = 0; i < read.indices.length; i++) {
      const index = read.indices[i] as number;
      try {
        const label = recordLabel(
          assignment,
          i,
          modelVersion,
          codec.outputDetail,
          this.model.clusterIds,
        );
        const record = read.decoded[i];
        // `record` was only read since it was decoded: the codec may append to its source bytes.
        out.push(
          record === undefined
            ? (scanner as FeatureScanner).label(values[index] as Buffer, label)
            : codec.encodeLabelled(record, label, values[index]),
        );
        indices.push(index);
      } catch (error) {
        read.failures.push({ index, error });
      }
    }
    return { indices, out };
  }

  /** The codec's fast path for this version's feature layout, built once per codec. */
  private scannerFor(codec: RecordCodec): FeatureScanner | undefined {
    if (codec !== this.scannerCodec) {
      this.scannerCodec = codec;
      const { fields, widths } = this.model.extractor.spec;
      this.scanner = codec.featureScanner?.(fields, widths);
    }
    return this.scanner;
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
