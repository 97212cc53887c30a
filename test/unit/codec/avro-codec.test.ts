import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import avro from 'avsc';
import type { Schema } from 'avsc';
import { AvroCodec } from '../../../src/codec/avro-codec.js';
import { ConfigError, PoisonRecordError, PoisonReason } from '../../../src/errors.js';

const schemaText = readFileSync(new URL('../../fixtures/avro/point.avsc', import.meta.url), 'utf8');
const writerType = avro.Type.forSchema(JSON.parse(schemaText) as Schema);

const record = {
  id: 'p-1',
  f0: 1.25,
  f1: -0.5,
  meta: { source: 'sensor', tags: ['a', 'b'] },
  history: [{ source: 'old', tags: [] }],
  pixels: [0, 0.25, 0.5, 1],
  note: null,
};

function poisonReason(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(
      error instanceof PoisonRecordError,
      `expected PoisonRecordError, got ${String(error)}`,
    );
    return error.reason;
  }
  assert.fail('expected a PoisonRecordError');
}

void test('decode reads nested records, arrays and a float pixels array', () => {
  const codec = new AvroCodec(schemaText);
  const decoded = codec.decode(writerType.toBuffer(record));
  // avsc returns instances of generated record classes; compare their plain fields.
  assert.deepEqual(JSON.parse(JSON.stringify(decoded)), record);
  assert.deepEqual(decoded.pixels, [0, 0.25, 0.5, 1]);
});

void test('encodeLabelled output decodes with the extended schema', () => {
  const codec = new AvroCodec(schemaText);
  const bytes = codec.encodeLabelled(codec.decode(writerType.toBuffer(record)), {
    cluster: 7,
    confidence: 0.625,
    modelVersion: 2 ** 40 + 3,
  });
  const output = codec.schemas.outputType.fromBuffer(bytes) as Record<string, unknown>;
  assert.equal(output.cluster, 7);
  assert.equal(output.confidence, 0.625);
  assert.equal(output.model_version, 2 ** 40 + 3);
  assert.equal(output.id, 'p-1');
  assert.deepEqual(output.pixels, [0, 0.25, 0.5, 1]);
  assert.deepEqual((output.meta as { tags: string[] }).tags, ['a', 'b']);
  assert.equal(codec.schemas.outputSchema.name, 'dec.test.PointLabelled');
});

void test('encodeLabelled handles negative clusters and records larger than its scratch buffer', () => {
  const codec = new AvroCodec(schemaText);
  const big = { ...record, pixels: Array.from({ length: 5000 }, (_, i) => i / 8) };
  const output = codec.schemas.outputType.fromBuffer(
    codec.encodeLabelled(big, { cluster: -1, confidence: 0, modelVersion: 0 }),
  ) as Record<string, unknown>;
  assert.equal((output.pixels as number[]).length, 5000);
  assert.equal((output.pixels as number[])[4999], 4999 / 8);
  assert.equal(output.cluster, -1);
  const small = codec.schemas.outputType.fromBuffer(
    codec.encodeLabelled(record, { cluster: 1, confidence: 1, modelVersion: 1 }),
  ) as Record<string, unknown>;
  assert.deepEqual(
    small.pixels,
    record.pixels,
    'a later small record is not mixed with the big one',
  );
});

void test('the constructor accepts a parsed schema object as well as .avsc text', () => {
  const codec = new AvroCodec(JSON.parse(schemaText) as Schema);
  assert.equal(codec.decode(writerType.toBuffer(record)).id, 'p-1');
});

void test('decode rejects a tombstone, truncated bytes and garbage as undecodable', () => {
  const codec = new AvroCodec(schemaText);
  const bytes = writerType.toBuffer(record);
  assert.equal(
    poisonReason(() => codec.decode(null)),
    PoisonReason.Undecodable,
  );
  assert.equal(
    poisonReason(() => codec.decode(bytes.subarray(0, 10))),
    PoisonReason.Undecodable,
  );
  assert.equal(
    poisonReason(() => codec.decode(Buffer.from([0x7f]))),
    PoisonReason.Undecodable,
  );
  // A union branch index beyond the union: 'note' is the last field, index 9 does not exist.
  const badUnion = Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([18])]);
  assert.equal(
    poisonReason(() => codec.decode(badUnion)),
    PoisonReason.Undecodable,
  );
});

void test('decode rejects trailing bytes as a schema mismatch', () => {
  const codec = new AvroCodec(schemaText);
  const bytes = Buffer.concat([writerType.toBuffer(record), Buffer.from([2, 4])]);
  assert.equal(
    poisonReason(() => codec.decode(bytes)),
    PoisonReason.SchemaMismatch,
  );
});

void test('a schema that is not a record, invalid, or already labelled is a ConfigError', () => {
  assert.throws(() => new AvroCodec('"string"'), ConfigError);
  assert.throws(() => new AvroCodec('{"type":"record"'), ConfigError);
  assert.throws(
    () =>
      new AvroCodec({
        type: 'record',
        name: 'R',
        fields: [{ name: 'cluster', type: 'int' }],
      }),
    /already has a field named cluster/,
  );
});

void test('a recursive record schema is a ConfigError that says so, naming the setting', () => {
  const recursive = {
    type: 'record',
    name: 'Node',
    fields: [
      { name: 'x', type: 'float' },
      { name: 'next', type: ['null', 'Node'], default: null },
    ],
  };
  assert.throws(
    () => new AvroCodec(recursive as Schema),
    (error: unknown) =>
      error instanceof ConfigError &&
      /DEC_AVRO_SCHEMA/.test(error.message) &&
      /record Node refers to itself \(a recursive type\)/.test(error.message),
  );
});

void test('encodeLabelled with the source bytes appends the label: the same bytes as writing the record again', () => {
  const codec = new AvroCodec(schemaText);
  const source = writerType.toBuffer(record);
  const label = { cluster: 3, confidence: 0.8125, modelVersion: 9 };
  const decoded = codec.decode(source);
  const appended = codec.encodeLabelled(decoded, label, source);
  assert.deepEqual(appended.subarray(0, source.length), source);
  assert.deepEqual(appended, codec.encodeLabelled(decoded, label));
  assert.throws(
    () => codec.encodeLabelled(decoded, { ...label, cluster: 1.5 }, source),
    RangeError,
  );
});

void test('encodeLabelled with the source bytes keeps a body written in blocks as it was, which reads back the same', () => {
  const schema = {
    type: 'record',
    name: 'Blocks',
    fields: [
      { name: 'x', type: 'double' },
      { name: 'tags', type: { type: 'array', items: 'int' } },
    ],
  };
  const codec = new AvroCodec(JSON.stringify(schema));
  const x = Buffer.alloc(8);
  x.writeDoubleLE(1.5);
  // The array [5, 6] as two blocks of one item each (zig-zag 1 = 0x02, 5 = 0x0a, 6 = 0x0c): valid
  // Avro, though a writer would usually write one block.
  const source = Buffer.concat([x, Buffer.from([0x02, 0x0a, 0x02, 0x0c, 0x00])]);
  const label = { cluster: 1, confidence: 0.5, modelVersion: 2 };
  const decoded = codec.decode(source);
  const appended = codec.encodeLabelled(decoded, label, source);
  const serialised = codec.encodeLabelled(decoded, label);
  assert.notDeepEqual(appended, serialised);
  assert.deepEqual(
    JSON.parse(JSON.stringify(codec.schemas.outputType.fromBuffer(appended))),
    JSON.parse(JSON.stringify(codec.schemas.outputType.fromBuffer(serialised))),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(codec.schemas.outputType.fromBuffer(appended))), {
    x: 1.5,
    tags: [5, 6],
    cluster: 1,
    confidence: 0.5,
    model_version: 2,
  });
});
