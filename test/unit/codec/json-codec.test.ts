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

/** Labelled bytes from the source bytes, checked against what serialising the record gives. */
function appended(source: string | Buffer): Buffer {
  const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
  return codec.encodeLabelled(codec.decode(bytes), label, bytes);
}

void test('encodeLabelled with the source bytes keeps the input fields as written and adds the label', () => {
  const source = String.raw`{"id":"a","x":1.0,"big":12345678901234567890,"s":"\u00e9\"}"}`;
  const out = appended(source);
  assert.equal(
    out.toString('utf8'),
    String.raw`{"id":"a","x":1.0,"big":12345678901234567890,"s":"\u00e9\"}","cluster":3,"confidence":0.875,"model_version":12}`,
  );
  const record = codec.decode(Buffer.from(source));
  assert.deepEqual(codec.decode(out), codec.decode(codec.encodeLabelled(record, label)));
});

for (const [what, source, expected] of [
  ['an empty object', '{}', '{"cluster":3,"confidence":0.875,"model_version":12}'],
  [
    'an empty object with whitespace inside',
    '{ \n }',
    '{ \n "cluster":3,"confidence":0.875,"model_version":12}',
  ],
  [
    'whitespace around the object',
    ' \t{"a":1} \r\n',
    '{"a":1,"cluster":3,"confidence":0.875,"model_version":12}',
  ],
  [
    'whitespace before the closing brace',
    '{"a":{"b":[1]} }',
    '{"a":{"b":[1]} ,"cluster":3,"confidence":0.875,"model_version":12}',
  ],
] as const) {
  void test(`encodeLabelled with the source bytes handles ${what}`, () => {
    const out = appended(source);
    assert.equal(out.toString('utf8'), expected);
    assert.deepEqual(codec.decode(out), {
      ...codec.decode(Buffer.from(source)),
      cluster: 3,
      confidence: 0.875,
      model_version: 12,
    });
  });
}

void test('encodeLabelled with the source bytes drops a byte order mark the decoder skipped', () => {
  const out = appended(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
  assert.equal(out.toString('utf8'), '{"a":1,"cluster":3,"confidence":0.875,"model_version":12}');
  assert.doesNotThrow(() => JSON.parse(out.toString('utf8')) as unknown);
});

void test('encodeLabelled lets the label win over label fields the record already has', () => {
  const source = '{"cluster":"x","id":1,"model_version":-1,"confidence":null}';
  for (const out of [
    appended(source),
    codec.encodeLabelled(codec.decode(Buffer.from(source)), label),
  ]) {
    assert.deepEqual(JSON.parse(out.toString('utf8')), {
      cluster: 3,
      id: 1,
      model_version: 12,
      confidence: 0.875,
    });
    assert.equal(out.toString('utf8').split('"cluster"').length, 2, 'no duplicate keys');
  }
});

void test('encodeLabelled writes a confidence that is not finite as null either way', () => {
  const nan = { ...label, confidence: Number.NaN };
  const bytes = Buffer.from('{"a":1}');
  const record = codec.decode(bytes);
  assert.deepEqual(codec.encodeLabelled(record, nan, bytes), codec.encodeLabelled(record, nan));
  assert.equal(codec.decode(codec.encodeLabelled(record, nan, bytes)).confidence, null);
});

void test('encodeLabelled with the source bytes writes each label as serialising it would, across clusters and versions', () => {
  const labelling = new JsonCodec();
  const source = Buffer.from('{"a":1}');
  const labels = [
    { cluster: 0, confidence: 1, modelVersion: 1 },
    { cluster: 7, confidence: 0.30000001192092896, modelVersion: 1 },
    { cluster: 0, confidence: 5e-324, modelVersion: 2 },
    { cluster: 7, confidence: Math.fround(0.1), modelVersion: 2 },
    { cluster: 5000, confidence: 1e-7, modelVersion: 2 ** 40 },
    { cluster: 5000, confidence: 0.5, modelVersion: 1 },
  ];
  for (const each of labels) {
    const out = labelling.encodeLabelled({ a: 1 }, each, source).toString('latin1');
    const serialised = labelling.encodeLabelled({ a: 1 }, each).toString('latin1');
    assert.equal(out, serialised);
    assert.deepEqual(JSON.parse(out), {
      a: 1,
      cluster: each.cluster,
      confidence: each.confidence,
      model_version: each.modelVersion,
    });
  }
});

void test('a record too deeply nested to be written again with its label is a poison record, not a RangeError', () => {
  // JSON.parse reads any depth; JSON.stringify runs out of stack. A label field forces the copy.
  const depth = 100_000;
  const text = `{"x":1,"cluster":5,"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const source = Buffer.from(text);
  const record = codec.decode(source);
  for (const run of [
    () => codec.encodeLabelled(record, label, source),
    () => codec.encodeLabelled({ deep: record.deep }, label),
  ]) {
    assert.throws(run, (error: unknown) => {
      assert.ok(
        error instanceof PoisonRecordError,
        `expected PoisonRecordError, got ${String(error)}`,
      );
      assert.equal(error.reason, PoisonReason.Undecodable);
      assert.match(error.message, /nests too deeply/);
      return true;
    });
  }
});
