import { PoisonReason, PoisonRecordError } from '../errors.js';
import type { OutboundMessage, SourceRecord } from './ports.js';

/** Headers every dead letter carries, beside the original record's own headers. */
export const DeadLetterHeader = {
  Reason: 'dec-dlq-reason',
  Error: 'dec-dlq-error',
  SourceTopic: 'dec-source-topic',
  SourcePartition: 'dec-source-partition',
  SourceOffset: 'dec-source-offset',
  /** On a truncated dead letter only: the bytes of the original value, before truncation. */
  OriginalBytes: 'dec-dlq-original-bytes',
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

type OutboundHeaders = OutboundMessage['headers'];

/** Per-record framing beside key, value and headers (lengths, timestamp and offset deltas). */
const recordFramingBytes = 64;
/** Per-header framing beside its name and value (two length varints). */
const headerFramingBytes = 8;

/** A header set's share of a record's size: an upper bound on its encoded length. */
export function headerBytes(headers: OutboundHeaders): number {
  let bytes = 0;
  for (const name of Object.keys(headers)) {
    const value = headers[name] as Buffer | string | (Buffer | string)[];
    for (const v of Array.isArray(value) ? value : [value]) {
      const length = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      bytes += Buffer.byteLength(name) + length + headerFramingBytes;
    }
  }
  return bytes;
}

/**
 * An upper bound on the bytes `message` takes in an uncompressed record batch; `headers` is the
 * size of its header set when the caller already knows it (records of a unit share one).
 */
export function outboundBytes(message: OutboundMessage, headers?: number): number {
  return (
    recordFramingBytes +
    (message.key?.length ?? 0) +
    (message.value?.length ?? 0) +
    (headers ?? headerBytes(message.headers))
  );
}

/**
 * A dead letter that fits in `maxBytes`. One that does not keeps its dead-letter headers (reason,
 * error, source topic, partition and offset, from which the whole record can be read again from
 * the input topic) and as much of its value as fits, plus the original value's size; if the
 * headers it copied from the source record or its key leave no room, they go too. A dead letter is
 * never dropped: losing the record's place would lose the record.
 */
export function fitDeadLetter(message: OutboundMessage, maxBytes: number): OutboundMessage {
  if (outboundBytes(message) <= maxBytes) return message;
  const originalBytes = message.value?.length ?? 0;
  const withSize: OutboundHeaders = {
    ...message.headers,
    [DeadLetterHeader.OriginalBytes]: String(originalBytes),
  };
  const fitted = truncateValue({ ...message, headers: withSize }, maxBytes);
  if (outboundBytes(fitted) <= maxBytes) return fitted;
  const own: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const name of Object.values(DeadLetterHeader)) {
    const value = withSize[name];
    if (value !== undefined) own[name] = value;
  }
  return truncateValue({ key: null, value: message.value, headers: own }, maxBytes);
}

/** `message` with its value cut to what `maxBytes` leaves beside its key and headers. */
function truncateValue(message: OutboundMessage, maxBytes: number): OutboundMessage {
  const value = message.value;
  if (value === null) return message;
  const room = Math.max(0, maxBytes - outboundBytes({ ...message, value: null }));
  return room >= value.length ? message : { ...message, value: value.subarray(0, room) };
}
