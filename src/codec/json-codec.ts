import { PoisonRecordError, PoisonReason } from '../errors.js';
import type { Label, RecordCodec } from './record-codec.js';

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

  encodeLabelled(record: Record<string, unknown>, label: Label): Buffer {
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
}
