import type { Schema, Type } from 'avsc';
import { PoisonRecordError, PoisonReason } from '../errors.js';
import { AvroBlockCheck } from './avro-block-check.js';
import type { LabelledSchemas } from './avro-schema.js';
import { labelledSchemas } from './avro-schema.js';
import { LabelledWriter } from './labelled-writer.js';
import type { Label, OutputDetail, RecordCodec } from './record-codec.js';

/**
 * Plain Avro binary values (no framing), all written with the reader schema. The output is the
 * reader schema extended with cluster, confidence and model_version.
 */
export class AvroCodec implements RecordCodec {
  readonly schemas: LabelledSchemas;
  readonly outputDetail: OutputDetail;
  private readonly writer: LabelledWriter;
  private readonly blocks: AvroBlockCheck | undefined;

  /** `schema`: the text of an .avsc (read by the caller) or the parsed schema. */
  constructor(schema: string | Schema, outputDetail: OutputDetail = 'basic') {
    this.outputDetail = outputDetail;
    this.schemas = labelledSchemas(schema, undefined, outputDetail);
    this.writer = new LabelledWriter(this.schemas.inputType, outputDetail);
    this.blocks = AvroBlockCheck.for(this.schemas.inputType);
  }

  decode(bytes: Buffer | null): Record<string, unknown> {
    if (bytes === null) {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'record has no value');
    }
    return decodeBody(this.schemas.inputType, bytes, 0, undefined, this.blocks);
  }

  /** With `source`, the label is appended to the bytes the record was decoded from. */
  encodeLabelled(record: Record<string, unknown>, label: Label, source?: Buffer | null): Buffer {
    // decode() read all of `source` as one body of the input schema.
    if (source != null) return this.writer.append(undefined, source, 0, label);
    return this.writer.write(undefined, record, label);
  }
}

/**
 * Decodes one Avro body that must fill `bytes` from `offset` to the end. Bytes that do not decode
 * are Undecodable; a body followed by more bytes was written with another schema. `blocks`, the
 * check of the writer schema's arrays and maps, runs first: avsc must never read a corrupt count.
 */
export function decodeBody(
  type: Type,
  bytes: Buffer,
  offset: number,
  resolver: Parameters<Type['decode']>[2],
  blocks: AvroBlockCheck | undefined,
): Record<string, unknown> {
  blocks?.check(bytes, offset);
  let decoded: { value: unknown; offset: number };
  try {
    decoded = type.decode(bytes, offset, resolver);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PoisonRecordError(PoisonReason.Undecodable, `value is not valid Avro (${reason})`);
  }
  if (decoded.offset < 0) {
    throw new PoisonRecordError(PoisonReason.Undecodable, 'value is truncated Avro');
  }
  if (decoded.offset !== bytes.length) {
    throw new PoisonRecordError(
      PoisonReason.SchemaMismatch,
      `${bytes.length - decoded.offset} bytes left after the record: written with another schema`,
    );
  }
  return decoded.value as Record<string, unknown>;
}
