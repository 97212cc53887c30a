import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonCodec } from '../../../src/codec/json-codec.js';
import { PoisonRecordError, PoisonReason } from '../../../src/errors.js';

const codec = new JsonCodec();
const label = { cluster: 3, confidence: 0.875, modelVersion: 12 };

void test('decode returns the JSON object, nested records and arrays included', () => {
  const record = { id: 'a', point: { x: 1.5, y: -2 }, pixels: [0, 0.25, 1], tags: ['p', 'q'] };
  assert.deepEqual(codec.decode(Buffer.from(JSON.stringify(record))), record);
});

void test('encodeLabelled writes the record plus cluster, confidence and model_version', () => {
  const record = { id: 'a', pixels: [0.5, 1] };
  const out = codec.decode(codec.encodeLabelled(record, label));
  assert.deepEqual(out, {
    id: 'a',
    pixels: [0.5, 1],
    cluster: 3,
    confidence: 0.875,
    model_version: 12,
  });
  assert.deepEqual(record, { id: 'a', pixels: [0.5, 1] }, 'the input record is untouched');
});

for (const [what, bytes] of [
  ['a tombstone', null],
  ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ['invalid JSON', Buffer.from('{"a":')],
  ['a JSON array', Buffer.from('[1,2]')],
  ['a JSON number', Buffer.from('42')],
  ['JSON null', Buffer.from('null')],
  ['a JSON string', Buffer.from('"x"')],
] as const) {
  void test(`decode rejects ${what} as undecodable`, () => {
    assert.throws(
      () => codec.decode(bytes),
      (error: unknown) =>
        error instanceof PoisonRecordError && error.reason === PoisonReason.Undecodable,
    );
  });
}
