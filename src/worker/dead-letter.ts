import { PoisonReason, PoisonRecordError } from '../errors.js';
import type { OutboundMessage, SourceRecord } from './ports.js';

/** Headers every dead letter carries, beside the original record's own headers. */
export const DeadLetterHeader = {
  Reason: 'dec-dlq-reason',
  Error: 'dec-dlq-error',
  SourceTopic: 'dec-source-topic',
  SourcePartition: 'dec-source-partition',
  SourceOffset: 'dec-source-offset',
} as const;

/** Longest error text kept in a header: enough to read, never a whole record echoed back. */
const maxErrorLength = 500;

/** The poison reason of any failure met while reading a record; unknown failures are undecodable. */
export function poisonReasonOf(error: unknown): PoisonReason {
  return error instanceof PoisonRecordError ? error.reason : PoisonReason.Undecodable;
}

/**
 * A dead letter: the original key, bytes and headers, plus why it could not be labelled and
 * where it came from.
 */
export function deadLetter(record: SourceRecord, error: unknown): OutboundMessage {
  const text = error instanceof Error ? error.message : String(error);
  const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (value !== undefined) headers[name] = value;
  }
  headers[DeadLetterHeader.Reason] = poisonReasonOf(error);
  headers[DeadLetterHeader.Error] =
    text.length > maxErrorLength ? `${text.slice(0, maxErrorLength)}…` : text;
  headers[DeadLetterHeader.SourceTopic] = record.topic;
  headers[DeadLetterHeader.SourcePartition] = String(record.partition);
  headers[DeadLetterHeader.SourceOffset] = record.offset;
  return { key: record.key, value: record.value, headers };
}
