import { PoisonRecordError, PoisonReason } from '../errors.js';
import type { Label, RecordCodec } from './record-codec.js';
import { LabelField } from './record-codec.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON values that are objects; output is the input object plus cluster, confidence, model_version. */
export class JsonCodec implements RecordCodec {
  decode(bytes: Buffer | null): Record<string, unknown> {
    if (bytes === null) {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'record has no value');
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'value is not valid UTF-8');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new PoisonRecordError(PoisonReason.Undecodable, 'value is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
      throw new PoisonRecordError(
        PoisonReason.Undecodable,
        `value is JSON ${kind}, not a JSON object`,
      );
    }
    return value as Record<string, unknown>;
  }

  /**
   * The record's own JSON text with the three label fields spliced in before its closing brace.
   * Serialising the record as it is and appending costs about a third of building a spread copy
   * first (V8 stringifies the spread object on a slow path); a record that already holds a label
   * field takes the copy, so the label's values win as before.
   */
  encodeLabelled(record: Record<string, unknown>, label: Label): Buffer {
    if (
      Object.hasOwn(record, LabelField.Cluster) ||
      Object.hasOwn(record, LabelField.Confidence) ||
      Object.hasOwn(record, LabelField.ModelVersion)
    ) {
      return Buffer.from(
        JSON.stringify({
          ...record,
          cluster: label.cluster,
          confidence: label.confidence,
          model_version: label.modelVersion,
        }),
        'utf8',
      );
    }
    const body = JSON.stringify(record);
    const tail =
      `"cluster":${JSON.stringify(label.cluster)},` +
      `"confidence":${JSON.stringify(label.confidence)},` +
      `"model_version":${JSON.stringify(label.modelVersion)}}`;
    // body is "{}" or "{...}": drop its closing brace, add a comma unless it was empty.
    const text = body.length > 2 ? `${body.slice(0, -1)},${tail}` : `{${tail}`;
    return Buffer.from(text, 'utf8');
  }
}
