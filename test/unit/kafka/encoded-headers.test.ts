import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  EncodedHeaders,
  encodedHeadersOf,
  encodeRecordHeaders,
  withEncodedHeaders,
} from '../../../src/kafka/encoded-headers.js';
import type { OutboundMessage } from '../../../src/worker/ports.js';

const load = createRequire(import.meta.url);

interface KafkajsEncoder {
  writeVarIntArray(encoders: readonly KafkajsEncoder[]): KafkajsEncoder;
  readonly buffer: Buffer;
}
const Encoder = load('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder;
const Header = load('kafkajs/src/protocol/recordBatch/header/v0/index.js') as (header: {
  key: string;
  value: Buffer | string;
}) => KafkajsEncoder;

type Headers = OutboundMessage['headers'];

/** The headers field as kafkajs writes it when it encodes the headers itself. */
function kafkajsEncoding(headers: Headers): Buffer {
  const list = Object.keys(headers).flatMap((key) => {
    const value = headers[key] as Buffer | string | (Buffer | string)[];
    return (Array.isArray(value) ? value : [value]).map((one) => Header({ key, value: one }));
  });
  return new Encoder().writeVarIntArray(list).buffer;
}

const cases: Record<string, Headers> = {
  none: {},
  'the model version': { 'dec-model-version': Buffer.from('12') },
  'strings, lists and UTF-8': {
    trace: 'abc',
    multi: ['one', Buffer.from('two'), ''],
    clé: 'valeur ünïcode ✓',
  },
  // Lengths past 63 take two varint bytes, past 8191 three.
  'long values': { big: Buffer.alloc(70, 1), bigger: Buffer.alloc(9000, 2), k: 'x'.repeat(64) },
  'sixty-five headers': Object.fromEntries(
    Array.from({ length: 65 }, (_, i) => [`h${i}`, Buffer.from([i])]),
  ),
};

void test('record headers encode to the bytes kafkajs writes for them', () => {
  for (const [name, headers] of Object.entries(cases)) {
    assert.deepEqual(encodeRecordHeaders(headers), kafkajsEncoding(headers), name);
  }
});

void test('headers with their encoding are a frozen copy whose keys are unchanged', () => {
  const headers = { 'dec-model-version': Buffer.from('3'), note: ['a', 'b'] };
  const shared = withEncodedHeaders(headers);
  assert.notEqual(shared, headers);
  assert.ok(Object.isFrozen(shared));
  assert.deepEqual(Object.keys(shared), ['dec-model-version', 'note']);
  assert.deepEqual({ ...shared }, headers);
  assert.deepEqual(encodedHeadersOf(shared), kafkajsEncoding(headers));
  assert.equal(encodedHeadersOf(headers), undefined);
  assert.equal(Object.getOwnPropertyDescriptor(shared, EncodedHeaders)?.enumerable, false);
});
