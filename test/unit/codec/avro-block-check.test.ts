import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import type { Schema } from 'avsc';
import { AvroBlockCheck } from '../../../src/codec/avro-block-check.js';
import { AvroCodec } from '../../../src/codec/avro-codec.js';
import { ConfluentAvroCodec } from '../../../src/codec/confluent-avro-codec.js';
import { InMemorySchemaRegistry } from '../../../src/codec/in-memory-schema-registry.js';
import { PoisonRecordError, PoisonReason } from '../../../src/errors.js';

const image: Schema = {
  type: 'record',
  name: 'Image',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'pixels', type: { type: 'array', items: 'float' } },
    { name: 'tags', type: { type: 'map', values: 'string' } },
  ],
};

/** Avro long: zig-zag, then base-128 groups, least significant first. */
function long(value: number): Buffer {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function float(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return b;
}

function undecodable(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(
      error instanceof PoisonRecordError,
      `expected PoisonRecordError, got ${String(error)}`,
    );
    assert.equal(error.reason, PoisonReason.Undecodable);
    return error.message;
  }
  assert.fail('expected the value to be refused');
}

void test('a block count far beyond the bytes of the value is undecodable at once, not read item by item', () => {
  const codec = new AvroCodec(image);
  // id 1, then an array block of 2^31 floats in a 7-byte value: avsc alone allocates and loops
  // until the process runs out of memory.
  const started = performance.now();
  for (const count of [2 ** 31, 2 ** 32 - 1, 50_000_000]) {
    const message = undecodable(() => codec.decode(Buffer.concat([long(1), long(count)])));
    assert.match(message, new RegExp(`declares ${count} items but only 0 bytes are left`));
  }
  // The count of a second block, after one float.
  undecodable(() =>
    codec.decode(Buffer.concat([long(1), long(1), float(0.5), long(2 ** 40), Buffer.alloc(8)])),
  );
  // A count whose last byte is missing: avsc still reads it as 42,091,085 items and loops.
  undecodable(() => codec.decode(Buffer.concat([long(1), Buffer.from([0x99, 0x89, 0x92, 0xa8])])));
  // A map's block count.
  undecodable(() => codec.decode(Buffer.concat([long(1), long(0), long(2 ** 31), long(0)])));
  // Items that take no bytes: bounded by a count, not by the bytes.
  const nulls = new AvroCodec({
    type: 'record',
    name: 'Marks',
    fields: [{ name: 'marks', type: { type: 'array', items: 'null' } }],
  });
  assert.deepEqual(
    { ...nulls.decode(Buffer.concat([long(3), long(0)])) },
    { marks: [null, null, null] },
  );
  undecodable(() => nulls.decode(Buffer.concat([long(2 ** 31), long(0)])));
  assert.ok(performance.now() - started < 1000, 'refused without reading the items');
});

void test('negative lengths and block sizes that disagree with their items are undecodable', () => {
  const codec = new AvroCodec(image);
  // A map key of length -3.
  undecodable(() => codec.decode(Buffer.concat([long(1), long(0), long(1), long(-3), long(0)])));
  // A block of -1 items (one float) claiming 9 bytes.
  undecodable(() =>
    codec.decode(Buffer.concat([long(1), long(-1), long(9), float(1), long(0), long(0)])),
  );
});

void test('valid bodies still decode, blocks with a byte size and nested blocks included', () => {
  const codec = new AvroCodec(image);
  const type = avro.Type.forSchema(image);
  const record = { id: 3, pixels: [0.5, -1, 2], tags: { a: 'x', bb: '' } };
  assert.deepEqual({ ...codec.decode(type.toBuffer(record)) }, record);
  // The same pixels as a block of -3 items and 12 bytes, which writers may emit to allow skipping.
  const sized = Buffer.concat([
    long(3),
    long(-3),
    long(12),
    float(0.5),
    float(-1),
    float(2),
    long(0),
    long(0),
  ]);
  assert.deepEqual({ ...codec.decode(sized) }, { id: 3, pixels: [0.5, -1, 2], tags: {} });

  const nested: Schema = {
    type: 'record',
    name: 'Frame',
    fields: [
      { name: 'f0', type: 'double' },
      {
        name: 'points',
        type: {
          type: 'array',
          items: [
            'null',
            {
              type: 'record',
              name: 'Point',
              fields: [{ name: 'xs', type: { type: 'array', items: 'string' } }],
            },
          ],
        },
      },
      { name: 'marks', type: { type: 'array', items: 'null' } },
    ],
  };
  const frame = { f0: 1, points: [null, { xs: ['a', ''] }, { xs: [] }], marks: [null, null] };
  const frameCodec = new AvroCodec(nested);
  const decoded = frameCodec.decode(avro.Type.forSchema(nested).toBuffer(frame));
  assert.deepEqual(JSON.parse(JSON.stringify(decoded)), frame);
});

void test('a schema without arrays or maps needs no check', () => {
  const flat = avro.Type.forSchema({
    type: 'record',
    name: 'Flat',
    fields: [{ name: 'f0', type: 'double' }],
  });
  assert.equal(AvroBlockCheck.for(flat), undefined);
});

void test('the Confluent codec checks the blocks of the writer schema, also in fields the reader skips', async () => {
  const reader: Schema = { type: 'record', name: 'R', fields: [{ name: 'f0', type: 'double' }] };
  const writer: Schema = {
    type: 'record',
    name: 'R',
    fields: [
      { name: 'f0', type: 'double' },
      { name: 'extra', type: { type: 'array', items: 'long' }, default: [] },
    ],
  };
  const registry = new InMemorySchemaRegistry([{ id: 5, schema: JSON.stringify(writer) }]);
  const codec = await ConfluentAvroCodec.create({
    registry,
    readerSchema: reader,
    inputTopic: 'in',
    outputTopic: 'out',
  });
  const header = Buffer.from([0, 0, 0, 0, 5]);
  const valid = Buffer.concat([
    header,
    avro.Type.forSchema(writer).toBuffer({ f0: 1, extra: [7] }),
  ]);
  const corrupt = Buffer.concat([header, Buffer.alloc(8), long(2 ** 31)]);
  await codec.prepare([valid, corrupt]);
  assert.deepEqual({ ...codec.decode(valid) }, { f0: 1 });
  const started = performance.now();
  undecodable(() => codec.decode(corrupt));
  assert.ok(performance.now() - started < 1000, 'refused without skipping the items');
});

void test('a block whose byte size disagrees with its items is undecodable, since a skipped field jumps by its size', async () => {
  const reader: Schema = { type: 'record', name: 'R', fields: [{ name: 'f0', type: 'double' }] };
  const writer: Schema = {
    type: 'record',
    name: 'R',
    fields: [
      { name: 'f0', type: 'double' },
      { name: 'extra', type: { type: 'array', items: 'string' }, default: [] },
    ],
  };
  const registry = new InMemorySchemaRegistry([{ id: 6, schema: JSON.stringify(writer) }]);
  const codec = await ConfluentAvroCodec.create({
    registry,
    readerSchema: reader,
    inputTopic: 'in',
    outputTopic: 'out',
  });
  // One item in 2 bytes by its size; read item by item, a string of 100 bytes, past the end. The
  // reader skips `extra` by its size and lands on a count of 2^31 strings the item-by-item walk
  // never reaches.
  const value = Buffer.concat([
    Buffer.from([0, 0, 0, 0, 6]),
    Buffer.alloc(8),
    long(-1),
    long(2),
    long(100),
    long(2 ** 31),
  ]);
  await codec.prepare([value]);
  const started = performance.now();
  assert.match(
    undecodable(() => codec.decode(value)),
    /declares 2 bytes but its items take 102/,
  );
  assert.ok(performance.now() - started < 1000, 'refused without skipping the items');
});
