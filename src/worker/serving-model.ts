import type { PoisonReason } from '../errors.js';
import { PoisonRecordError, PoisonReason as Reason } from '../errors.js';
import { FeatureExtractor } from '../model/features.js';
import { standardiseRows } from '../model/standardise.js';
import type { AssignmentBatch, Matrix, ModelSnapshot } from '../model/types.js';
import { Assigner } from '../online/assigner.js';
import { deadLetter, poisonReasonOf } from './dead-letter.js';
import type { OutboundMessage, RecordCodec, SourceRecord } from './ports.js';

/** Header naming the model version that labelled a record. */
export const ModelVersionHeader = 'dec-model-version';

/** The result of labelling one chunk of records. */
export interface LabelledChunk {
  /** One per labelled record, in input order. */
  readonly labelled: OutboundMessage[];
  readonly deadLetters: OutboundMessage[];
  readonly deadReasons: ReadonlyMap<PoisonReason, number>;
  /** Standardised features of the labelled records, a fresh matrix the caller may hand on. */
  readonly x: Matrix;
  /** Undefined when no record of the chunk could be labelled. */
  readonly assignment: AssignmentBatch | undefined;
  /** Record timestamps of the labelled records (for end-to-end latency). */
  readonly timestampsMs: readonly number[];
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
   * schema, missing or non-numeric field, NaN, wrong length, overflow after standardising) becomes
   * a dead letter instead, so one bad record never holds up the others.
   */
  label(records: readonly SourceRecord[], codec: RecordCodec): LabelledChunk {
    const dims = this.extractor.dims;
    const data = new Float32Array(records.length * dims);
    const good: { record: SourceRecord; value: Record<string, unknown> }[] = [];
    const deadLetters: OutboundMessage[] = [];
    const deadReasons = new Map<PoisonReason, number>();
    const reject = (record: SourceRecord, error: unknown): void => {
      deadLetters.push(deadLetter(record, error));
      const reason = poisonReasonOf(error);
      deadReasons.set(reason, (deadReasons.get(reason) ?? 0) + 1);
    };

    for (const record of records) {
      const row = good.length;
      try {
        const value = codec.decode(record.value);
        this.extractor.extract(value, data, row * dims);
        standardiseRows(data, row, 1, this.snapshot.standardisation);
        for (let i = row * dims; i < (row + 1) * dims; i++) {
          if (!Number.isFinite(data[i])) {
            throw new PoisonRecordError(
              Reason.NonFinite,
              'a feature overflows after standardisation',
            );
          }
        }
        good.push({ record, value });
      } catch (error) {
        reject(record, error);
      }
    }

    const x: Matrix = { data: data.slice(0, good.length * dims), rows: good.length, cols: dims };
    if (good.length === 0) {
      return { labelled: [], deadLetters, deadReasons, x, assignment: undefined, timestampsMs: [] };
    }
    this.assertLive();
    const assignment = this.assigner.assign(x);
    const version = this.snapshot.version;
    const versionText = String(version);
    const labelled: OutboundMessage[] = [];
    const timestampsMs: number[] = [];
    for (let i = 0; i < good.length; i++) {
      const { record, value } = good[i] as { record: SourceRecord; value: Record<string, unknown> };
      try {
        // `value` was only read since it was decoded: the codec may append to its source bytes.
        const bytes = codec.encodeLabelled(
          value,
          {
            cluster: assignment.cluster[i] as number,
            confidence: assignment.confidence[i] as number,
            modelVersion: version,
          },
          record.value,
        );
        const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
        const source = record.headers;
        for (const name of Object.keys(source)) {
          const headerValue = source[name];
          if (headerValue !== undefined) headers[name] = headerValue;
        }
        headers[ModelVersionHeader] = versionText;
        labelled.push({ key: record.key, value: bytes, headers });
        timestampsMs.push(record.timestampMs);
      } catch (error) {
        reject(record, error);
      }
    }
    if (labelled.length !== good.length) {
      // An encoding failure dropped rows: keep x and the assignment aligned with `labelled`.
      return { labelled, deadLetters, deadReasons, x, assignment: undefined, timestampsMs };
    }
    return { labelled, deadLetters, deadReasons, x, assignment, timestampsMs };
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
