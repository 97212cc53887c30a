/** What the model adds to each record on the output topic. */
export interface Label {
  readonly cluster: number;
  readonly confidence: number;
  readonly modelVersion: number;
  /** With output detail 'full': the second most likely cluster (-1 with a single cluster). */
  readonly runnerUp?: number;
  /** With output detail 'full': q of the cluster minus q of the runner-up, in [0, 1]. */
  readonly margin?: number;
}

/** Output field names, shared by every format. */
export const LabelField = {
  Cluster: 'cluster',
  Confidence: 'confidence',
  ModelVersion: 'model_version',
} as const;

/**
 * What a labelled record carries: 'basic' the label fields, 'full' also why the record went
 * where it did (DetailField).
 */
export type OutputDetail = 'basic' | 'full';

/** The fields output detail 'full' adds, after the label fields' cluster and confidence. */
export const DetailField = {
  RunnerUp: 'runner_up',
  Margin: 'margin',
} as const;

/**
 * A codec's fast path for labelling, built for one feature layout: reads a value's features
 * straight from its bytes and labels those bytes, without building the record in between.
 */
export interface FeatureScanner {
  /**
   * Writes the value's feature vector into out[offset .. offset + dims) and returns true, or
   * returns false when it cannot vouch for the value (malformed, a poison record, or merely
   * unusual); `out` may then hold a partly written row, and the caller decodes the value instead.
   * True promises that decode(bytes) succeeds and that the feature extractor would write the same
   * numbers from it.
   */
  read(bytes: Buffer, out: Float32Array, offset: number): boolean;
  /** For a value `read` accepted: the same bytes as encodeLabelled(decode(bytes), label, bytes). */
  label(bytes: Buffer, label: Label): Buffer;
}

/**
 * Bytes ⇄ records for one topic format. `decode` throws PoisonRecordError (Undecodable or
 * SchemaMismatch) for a value that can never be read; it never throws for a retriable cause.
 */
export interface RecordCodec {
  /**
   * 'full': encodeLabelled writes a label's runner-up and margin too, and the labeller must give
   * them. Absent means 'basic'.
   */
  readonly outputDetail?: OutputDetail;
  decode(bytes: Buffer | null): Record<string, unknown>;
  /**
   * `source`, when given, is the value `record` was decoded from, and `record` has not been changed
   * since: a codec may append the label to those bytes instead of serialising the record again.
   */
  encodeLabelled(record: Record<string, unknown>, label: Label, source?: Buffer | null): Buffer;
  /**
   * Fetches whatever `decode` will need for these values (writer schemas from a registry). Codecs
   * that need nothing leave it out; callers await it, when present, before decoding a batch.
   * Rejects only for retriable causes (registry unreachable).
   */
  prepare?(values: readonly (Buffer | null)[]): Promise<void>;
  /**
   * The fast path for these feature fields (dot paths) of these widths, where the format has one;
   * undefined where it cannot read that layout.
   */
  featureScanner?(fields: readonly string[], widths: readonly number[]): FeatureScanner | undefined;
}
