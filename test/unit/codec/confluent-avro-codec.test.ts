import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import type { Schema } from 'avsc';
import {
  ConfluentAvroCodec,
  MaxUnknownSchemaIds,
  schemaIdOf,
} from '../../../src/codec/confluent-avro-codec.js';
import { createRecordCodec } from '../../../src/codec/create-record-codec.js';
import { InMemorySchemaRegistry } from '../../../src/codec/in-memory-schema-registry.js';
import { DecStreamError, PoisonRecordError, PoisonReason } from '../../../src/errors.js';

const v1: Schema = {
  type: 'record',
  name: 'Image',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'pixels', type: { type: 'array', items: 'float' } },
  ],
};
/** v2 adds a field the reader does not know; the reader skips it. */
const v2: Schema = {
  type: 'record',
  name: 'Image',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'camera', type: 'string', default: '' },
    { name: 'pixels', type: { type: 'array', items: 'float' } },
  ],
};
const incompatible: Schema = {
  type: 'record',
  name: 'Image',
  fields: [{ name: 'id', type: 'string' }],
};

function framed(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

async function setUp() {
  const registry = new InMemorySchemaRegistry([
    { id: 11, schema: JSON.stringify(v1), subject: 'images-value' },
    { id: 12, schema: JSON.stringify(v2), subject: 'images-value' },
    { id: 13, schema: JSON.stringify(incompatible) },
  ]);
  const codec = await ConfluentAvroCodec.create({
    registry,
    readerSchema: JSON.stringify(v1),
    inputTopic: 'images',
    outputTopic: 'images-labelled',
  });
  return { registry, codec };
}

/** A codec that reads the images topic with reader schema v1 through `registry`. */
function v1Reader(registry: InMemorySchemaRegistry): Promise<ConfluentAvroCodec> {
  return ConfluentAvroCodec.create({
    registry,
    readerSchema: v1,
    inputTopic: 'images',
    outputTopic: 'out',
  });
}

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

void test('create registers the labelled schema under <output topic>-value', async () => {
  const { registry, codec } = await setUp();
  assert.equal(codec.outputSchemaId, 14);
  assert.deepEqual(registry.versions('images-labelled-value'), [14]);
  const stored = JSON.parse(await registry.getSchema(14)) as {
    name: string;
    fields: { name: string }[];
  };
  assert.equal(stored.name, 'ImageLabelled');
  assert.deepEqual(
    stored.fields.map((f) => f.name),
    ['id', 'pixels', 'cluster', 'confidence', 'model_version'],
  );
});

void test('values framed with fixed writer ids decode into the reader schema', async () => {
  const { codec } = await setUp();
  const a = framed(11, avro.Type.forSchema(v1).toBuffer({ id: 1, pixels: [0.5, 1] }));
  const b = framed(12, avro.Type.forSchema(v2).toBuffer({ id: 2, camera: 'c1', pixels: [0.25] }));
  await codec.prepare([a, b, null]);
  assert.deepEqual(JSON.parse(JSON.stringify(codec.decode(a))), { id: 1, pixels: [0.5, 1] });
  assert.deepEqual(JSON.parse(JSON.stringify(codec.decode(b))), { id: 2, pixels: [0.25] });
});

void test('labelled output round-trips through the wire format with the registered id', async () => {
  const { registry, codec } = await setUp();
  const input = framed(11, avro.Type.forSchema(v1).toBuffer({ id: 9, pixels: [0, 0.75] }));
  await codec.prepare([input]);
  const out = codec.encodeLabelled(codec.decode(input), {
    cluster: 4,
    confidence: 0.5,
    modelVersion: 3,
  });
  assert.equal(out[0], 0);
  assert.equal(schemaIdOf(out), codec.outputSchemaId);
  const outputType = avro.Type.forSchema(
    JSON.parse(await registry.getSchema(codec.outputSchemaId)) as Schema,
  );
  assert.deepEqual(JSON.parse(JSON.stringify(outputType.fromBuffer(out.subarray(5)))), {
    id: 9,
    pixels: [0, 0.75],
    cluster: 4,
    confidence: 0.5,
    model_version: 3,
  });
});

void test('encodeLabelled with the source bytes appends the label to a body written with the reader schema, and writes a resolved one again', async () => {
  const { codec } = await setUp();
  const label = { cluster: 2, confidence: 0.375, modelVersion: 6 };
  // Written with the reader schema (id 11): its body is taken as it is.
  const same = framed(11, avro.Type.forSchema(v1).toBuffer({ id: 5, pixels: [0.5] }));
  // Written with v2 (id 12), resolved into v1 when decoded: its body is not the reader's.
  const other = framed(12, avro.Type.forSchema(v2).toBuffer({ id: 6, camera: 'c', pixels: [1] }));
  await codec.prepare([same, other]);
  const appended = codec.encodeLabelled(codec.decode(same), label, same);
  assert.deepEqual(appended.subarray(5, same.length), same.subarray(5), 'the body as written');
  assert.deepEqual(appended, codec.encodeLabelled(codec.decode(same), label));
  const rewritten = codec.encodeLabelled(codec.decode(other), label, other);
  assert.deepEqual(rewritten, codec.encodeLabelled(codec.decode(other), label));
  assert.deepEqual(
    JSON.parse(JSON.stringify(codec.schemas.outputType.fromBuffer(rewritten.subarray(5)))),
    {
      id: 6,
      pixels: [1],
      cluster: 2,
      confidence: 0.375,
      model_version: 6,
    },
  );
});

void test('a wrong magic byte or a value shorter than the header is undecodable', async () => {
  const { codec } = await setUp();
  const good = framed(11, avro.Type.forSchema(v1).toBuffer({ id: 1, pixels: [] }));
  const wrongMagic = Buffer.from(good);
  wrongMagic[0] = 1;
  assert.equal(
    poisonReason(() => codec.decode(wrongMagic)),
    PoisonReason.Undecodable,
  );
  assert.equal(
    poisonReason(() => codec.decode(Buffer.from([0, 0, 0]))),
    PoisonReason.Undecodable,
  );
  assert.equal(
    poisonReason(() => codec.decode(null)),
    PoisonReason.Undecodable,
  );
});

void test('unknown and unreadable writer schemas are schema mismatches', async () => {
  const { codec } = await setUp();
  const unknown = framed(99, Buffer.from([2, 0]));
  const unreadable = framed(13, avro.Type.forSchema(incompatible).toBuffer({ id: 'x' }));
  await codec.prepare([unknown, unreadable]);
  assert.equal(
    poisonReason(() => codec.decode(unknown)),
    PoisonReason.SchemaMismatch,
  );
  assert.equal(
    poisonReason(() => codec.decode(unreadable)),
    PoisonReason.SchemaMismatch,
  );
});

void test('unknown schema ids are remembered within a bound, and a batch is always decodable after its prepare', async () => {
  let lookups = 0;
  class CountingRegistry extends InMemorySchemaRegistry {
    override getSchema(id: number): Promise<string> {
      lookups += 1;
      return super.getSchema(id);
    }
  }
  const registry = new CountingRegistry([{ id: 11, schema: JSON.stringify(v1) }]);
  const codec = await v1Reader(registry);
  // Binary data that is not Avro but starts with a 0 byte: every value names another schema id.
  const batch = 2_000;
  const batches = Math.ceil((MaxUnknownSchemaIds * 2) / batch);
  const garbage = (n: number): Buffer => framed(100_000 + n, Buffer.from([2, 0]));
  for (let b = 0; b < batches; b++) {
    const values = Array.from({ length: batch }, (_, i) => garbage(b * batch + i));
    await codec.prepare(values);
    for (const value of values) {
      assert.equal(
        poisonReason(() => codec.decode(value)),
        PoisonReason.SchemaMismatch,
      );
    }
  }
  assert.equal(lookups, batches * batch, 'one lookup per new id');
  assert.ok(
    codec.unknownSchemaIds <= MaxUnknownSchemaIds,
    `${codec.unknownSchemaIds} ids remembered`,
  );
  // The most recent ids are still known; the oldest were forgotten and cost a lookup again.
  const recent = garbage(batches * batch - 1);
  await codec.prepare([recent]);
  assert.equal(lookups, batches * batch);
  await codec.prepare([garbage(0)]);
  assert.equal(lookups, batches * batch + 1);
  assert.equal(
    poisonReason(() => codec.decode(garbage(0))),
    PoisonReason.SchemaMismatch,
  );
});

void test('a truncated body is undecodable and trailing bytes are a schema mismatch', async () => {
  const { codec } = await setUp();
  const body = avro.Type.forSchema(v1).toBuffer({ id: 1, pixels: [1, 2, 3] });
  const truncated = framed(11, body.subarray(0, body.length - 2));
  const trailing = framed(11, Buffer.concat([body, Buffer.from([0])]));
  await codec.prepare([truncated, trailing]);
  assert.equal(
    poisonReason(() => codec.decode(truncated)),
    PoisonReason.Undecodable,
  );
  assert.equal(
    poisonReason(() => codec.decode(trailing)),
    PoisonReason.SchemaMismatch,
  );
});

void test('decode without prepare fails with a non-poison error', async () => {
  const { codec } = await setUp();
  const value = framed(12, avro.Type.forSchema(v2).toBuffer({ id: 1, camera: '', pixels: [] }));
  assert.throws(
    () => codec.decode(value),
    (error: unknown) => error instanceof DecStreamError && error.code === 'SCHEMA_NOT_PREPARED',
  );
});

void test('prepare passes registry outages on and retries the id once the registry is back', async () => {
  const outage = new DecStreamError('SCHEMA_REGISTRY_UNAVAILABLE', 'down', { retriable: true });
  class FlakyRegistry extends InMemorySchemaRegistry {
    down = false;
    override getSchema(id: number): Promise<string> {
      return this.down ? Promise.reject(outage) : super.getSchema(id);
    }
  }
  const registry = new FlakyRegistry([{ id: 11, schema: JSON.stringify(v1) }]);
  const codec = await v1Reader(registry);
  const value = framed(11, avro.Type.forSchema(v1).toBuffer({ id: 3, pixels: [] }));
  registry.down = true;
  await assert.rejects(codec.prepare([value]), outage);
  registry.down = false;
  await codec.prepare([value]);
  assert.equal(codec.decode(value).id, 3);
});

void test('without a reader schema the latest <input topic>-value schema is the reader', async () => {
  const registry = new InMemorySchemaRegistry([
    { id: 11, schema: JSON.stringify(v1), subject: 'images-value' },
    { id: 12, schema: JSON.stringify(v2), subject: 'images-value' },
  ]);
  const codec = await createRecordCodec({
    format: 'avro',
    registry,
    inputTopic: 'images',
    outputTopic: 'out',
  });
  const value = framed(12, avro.Type.forSchema(v2).toBuffer({ id: 5, camera: 'c', pixels: [1] }));
  await codec.prepare?.([value]);
  assert.equal(codec.decode(value).camera, 'c');
});

void test('a resolved value whose int does not fit 32 bits is a poison record when written again, not a plain error', async () => {
  const reader: Schema = { type: 'record', name: 'P', fields: [{ name: 'z', type: 'int' }] };
  const writer: Schema = {
    type: 'record',
    name: 'P',
    fields: [
      { name: 'camera', type: 'string', default: '' },
      { name: 'z', type: 'int' },
    ],
  };
  const registry = new InMemorySchemaRegistry([{ id: 21, schema: JSON.stringify(writer) }]);
  const codec = await ConfluentAvroCodec.create({
    registry,
    readerSchema: reader,
    inputTopic: 'points',
    outputTopic: 'points-labelled',
  });
  // camera "", then a five-byte varint for z: 2^33, which avsc reads as an int without complaint.
  const value = framed(21, Buffer.from([0x00, 0x80, 0x80, 0x80, 0x80, 0x40]));
  await codec.prepare([value]);
  const record = codec.decode(value);
  assert.equal(record.z, 2 ** 33);
  assert.equal(
    poisonReason(() =>
      codec.encodeLabelled(record, { cluster: 0, confidence: 1, modelVersion: 1 }, value),
    ),
    PoisonReason.Undecodable,
  );
});
