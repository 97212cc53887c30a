import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonCodec } from '../../../src/codec/json-codec.js';
import type { RecordCodec } from '../../../src/codec/record-codec.js';
import { initBackend } from '../../../src/model/backend.js';
import { ServingModel } from '../../../src/worker/serving-model.js';
import { tinySnapshot } from './tiny-snapshot.js';

/** The JSON codec without its fast path, counting what it decodes. */
class DecodeOnlyJson implements RecordCodec {
  readonly inner = new JsonCodec();
  decoded = 0;
  decode(bytes: Buffer | null): Record<string, unknown> {
    this.decoded++;
    return this.inner.decode(bytes);
  }
  encodeLabelled(...args: Parameters<JsonCodec['encodeLabelled']>): Buffer {
    return this.inner.encodeLabelled(...args);
  }
}

/** The JSON codec with its fast path, counting what it still decodes. */
class CountingJson extends JsonCodec {
  decoded = 0;
  override decode(bytes: Buffer | null): Record<string, unknown> {
    this.decoded++;
    return super.decode(bytes);
  }
}

const chunk: (Buffer | null)[] = [
  ...[
    '{"x":1,"y":2}',
    '{"id":"b","y":9.5,"x":11}',
    '\ufeff { "x" : -0.25 , "y" : 0.5 }\n',
    '{"x":1,"y":2,"cluster":4}',
    '{"x":"1","y":2}',
    '{"x":1}',
    '{"x":1,"y":',
    '{"x":1e39,"y":2}',
    '{"x":1,"y":2,"x":3}',
    '{"y":10,"x":10,"tags":["é",{"k":null}]}',
  ].map((text) => Buffer.from(text, 'utf8')),
  null,
  Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
];

void test('labelValues() labels a chunk alike with and without the codec fast path', async () => {
  await initBackend('cpu');
  const model = new ServingModel(tinySnapshot(3));
  try {
    const slowCodec = new DecodeOnlyJson();
    const fastCodec = new CountingJson();
    const slow = model.labelValues(chunk, slowCodec);
    const fast = model.labelValues(chunk, fastCodec);

    assert.deepEqual(Array.from(fast.indices), Array.from(slow.indices));
    assert.deepEqual(Array.from(slow.indices), [0, 1, 2, 3, 8, 9]);
    assert.deepEqual(
      fast.values.map((v) => v.toString()),
      slow.values.map((v) => v.toString()),
    );
    assert.deepEqual(fast.x, slow.x);
    assert.deepEqual(fast.assignment, slow.assignment);
    const describe = (failures: typeof slow.failures): string[] =>
      failures.map((f) => `${f.index}: ${(f.error as Error).message}`);
    assert.deepEqual(describe(fast.failures), describe(slow.failures));

    assert.equal(slowCodec.decoded, chunk.length, 'without a scanner every value is decoded');
    // Decoded all the same: the record with a label field, the six poison records and the
    // duplicated key. The other four are read from their bytes alone.
    assert.equal(fastCodec.decoded, chunk.length - 4);
    assert.deepEqual(JSON.parse(fast.values[3]?.toString() ?? ''), {
      x: 1,
      y: 2,
      cluster: 0,
      confidence: fast.assignment?.confidence[3],
      model_version: 3,
    });
  } finally {
    model.dispose();
  }
});

void test('a record whose finite features overflow the soft assignment is dead-lettered as non-finite, the others keep their labels', async () => {
  await initBackend('cpu');
  const model = new ServingModel(tinySnapshot(2));
  try {
    // 3e38 is a finite float32, but its squared distance to every centroid is Infinity, which made
    // q = 0/0 and labelled the record with confidence NaN.
    const values = ['{"x":1,"y":1}', '{"x":3e38,"y":3e38}', '{"x":9,"y":11}'].map((text) =>
      Buffer.from(text),
    );
    const records = values.map((value, i) => ({
      topic: 'in',
      partition: 0,
      offset: String(i),
      key: null,
      value,
      headers: {},
      timestampMs: 0,
    }));
    const chunk = model.label(records, new JsonCodec());

    assert.equal(chunk.labelled.length, 2);
    assert.deepEqual(
      chunk.labelled.map(
        (m) => (JSON.parse(m.value?.toString() ?? '') as { cluster: number }).cluster,
      ),
      [0, 1],
    );
    assert.equal(chunk.deadLetters.length, 1);
    assert.equal(chunk.deadLetters[0]?.headers['dec-dlq-reason'], 'non-finite');
    assert.equal(chunk.deadLetters[0]?.headers['dec-source-offset'], '1');
    assert.deepEqual(Object.fromEntries(chunk.deadReasons), { 'non-finite': 1 });
    // The features and the assignment hold the labelled records only, all finite.
    assert.equal(chunk.x.rows, 2);
    assert.deepEqual(Array.from(chunk.x.data), [1, 1, 9, 11]);
    assert.equal(chunk.assignment?.rows, 2);
    assert.ok(Array.from(chunk.assignment?.confidence ?? []).every(Number.isFinite));
  } finally {
    model.dispose();
  }
});
