/** What the model adds to each record on the output topic. */
export interface Label {
  readonly cluster: number;
  readonly confidence: number;
  readonly modelVersion: number;
}

/** Output field names, shared by every format. */
export const LabelField = {
  Cluster: 'cluster',
  Confidence: 'confidence',
  ModelVersion: 'model_version',
} as const;

/**
 * Bytes ⇄ records for one topic format. `decode` throws PoisonRecordError (Undecodable or
 * SchemaMismatch) for a value that can never be read; it never throws for a retriable cause.
 */
export interface RecordCodec {
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
}
