/**
 * Record headers encoded once for every record that shares them.
 *
 * The worker writes the same headers (the model version, for records without headers of their
 * own) on every record of a unit, and kafkajs encodes a record's headers anew for each record:
 * about as much work as the rest of the record. `withEncodedHeaders` returns a frozen headers
 * object that also carries its encoding under `EncodedHeaders`, a symbol key that Object.keys (and
 * so any kafkajs) ignores; kafkajs as patched by patches/kafkajs+2.2.4.patch writes those bytes
 * instead of encoding the headers again.
 */
import type { OutboundMessage } from '../worker/ports.js';

type Headers = OutboundMessage['headers'];

/** The key under which a headers object carries its encoding (shared with the kafkajs fix). */
export const EncodedHeaders: unique symbol = Symbol.for('dec-stream.encodedHeaders') as never;

/**
 * The headers field of a Kafka record (v2 record batches): a varint count, then for each header
 * a varint key length, the key in UTF-8, a varint value length and the value. A list value is one
 * header per element, in order, as kafkajs sends it. Varints are zig-zag LEB128.
 */
export function encodeRecordHeaders(headers: Headers): Buffer {
  const entries: [Buffer, Buffer][] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name] as Buffer | string | (Buffer | string)[];
    const key = Buffer.from(name, 'utf8');
    for (const one of Array.isArray(value) ? value : [value]) {
      entries.push([key, typeof one === 'string' ? Buffer.from(one, 'utf8') : one]);
    }
  }
  let size = varIntSize(entries.length);
  for (const [key, value] of entries) {
    size += varIntSize(key.length) + key.length + varIntSize(value.length) + value.length;
  }
  const out = Buffer.allocUnsafe(size);
  let offset = writeVarInt(out, 0, entries.length);
  for (const [key, value] of entries) {
    offset = writeVarInt(out, offset, key.length);
    offset += key.copy(out, offset);
    offset = writeVarInt(out, offset, value.length);
    offset += value.copy(out, offset);
  }
  return out;
}

/** A frozen copy of `headers` that carries its own encoding, for many records to share. */
export function withEncodedHeaders(headers: Headers): Headers {
  const copy: Record<string, Buffer | string | (Buffer | string)[]> = { ...headers };
  Object.defineProperty(copy, EncodedHeaders, { value: encodeRecordHeaders(headers) });
  return Object.freeze(copy);
}

/** The encoding `headers` carries, if it was made by `withEncodedHeaders`. */
export function encodedHeadersOf(headers: Headers): Buffer | undefined {
  return (headers as { [EncodedHeaders]?: Buffer })[EncodedHeaders];
}

function zigZag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function varIntSize(value: number): number {
  let rest = zigZag(value);
  let bytes = 1;
  while (rest > 0x7f) {
    rest >>>= 7;
    bytes++;
  }
  return bytes;
}

function writeVarInt(out: Buffer, offset: number, value: number): number {
  let rest = zigZag(value);
  while (rest > 0x7f) {
    out[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[offset++] = rest;
  return offset;
}
