import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import type { Schema } from 'avsc';
import { createRecordCodec } from '../../../src/codec/create-record-codec.js';
import type { RecordCodec } from '../../../src/codec/record-codec.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { initBackend } from '../../../src/model/backend.js';
import type { SourceRecord } from '../../../src/worker/ports.js';
import { ServingModel } from '../../../src/worker/serving-model.js';
import { tinySnapshot } from './tiny-snapshot.js';

const env = {
  DEC_INPUT_TOPIC: 'points',
  DEC_OUTPUT_TOPIC: 'points-labelled',
  DEC_FEATURES: 'x,y',
  DEC_CLUSTERS: '2',
};

const pointSchema = {
  type: 'record',
  name: 'Point',
  fields: [
    { name: 'x', type: 'double' },
    { name: 'y', type: 'double' },
  ],
};

function source(value: Buffer, offset: number): SourceRecord {
  return {
    topic: 'points',
    partition: 0,
    offset: String(offset),
    key: null,
    value,
    headers: {},
    timestampMs: 0,
  };
}

/** Labels (1, 1) (cluster 0, centroids at (0,0) and (10,10)) and (6, 6) (cluster 1, a near call). */
async function labelTwo(
  codec: RecordCodec,
  values: readonly Buffer[],
  clusterIds?: number[],
): Promise<Buffer[]> {
  await initBackend('cpu');
  const model = new ServingModel({ ...tinySnapshot(3), ...(clusterIds && { clusterIds }) });
  try {
    const chunk = model.label(
      values.map((v, i) => source(v, i)),
      codec,
    );
    assert.equal(chunk.deadLetters.length, 0);
    return chunk.labelled.map((m) => m.value as Buffer);
  } finally {
    model.dispose();
  }
}

/** Soft assignment of (6, 6): q_j ∝ 1 / (1 + |z − μ_j|²) with |z − μ_0|² = 72, |z − μ_1|² = 32. */
const q1 = 1 / 33 / (1 / 73 + 1 / 33);
const q0 = 1 - q1;

void test('DEC_OUTPUT_DETAIL=full: JSON records carry runner_up and margin, basic ones do not', async () => {
  const values = [Buffer.from('{"x":1,"y":1}'), Buffer.from('{"y":6,"x":6,"id":"b"}')];
  for (const detail of ['basic', 'full'] as const) {
    const config = loadConfig({
      ...env,
      ...(detail === 'full' ? { DEC_OUTPUT_DETAIL: 'full' } : {}),
    });
    assert.equal(config.stream.outputDetail, detail);
    const codec = await createRecordCodec({
      format: 'json',
      inputTopic: 'points',
      outputTopic: 'points-labelled',
      outputDetail: config.stream.outputDetail,
    });
    const [near, far] = (await labelTwo(codec, values)).map(
      (v) => JSON.parse(v.toString()) as Record<string, unknown>,
    );
    assert.equal(far?.cluster, 1);
    assert.equal(far?.model_version, 3);
    if (detail === 'basic') {
      assert.equal('runner_up' in (far ?? {}), false);
      assert.equal('margin' in (far ?? {}), false);
      continue;
    }
    assert.equal(near?.runner_up, 1);
    assert.equal(far?.runner_up, 0);
    assert.ok(
      Math.abs((far?.margin as number) - (q1 - q0)) < 1e-6,
      `margin ${String(far?.margin)}`,
    );
    assert.equal(far?.id, 'b');
  }
});

void test('records carry the published ids of their cluster and runner-up, not the indices', async () => {
  const codec = await createRecordCodec({
    format: 'json',
    inputTopic: 'points',
    outputTopic: 'points-labelled',
    outputDetail: 'full',
  });
  const values = [Buffer.from('{"x":1,"y":1}'), Buffer.from('{"y":6,"x":6}')];
  // Cluster 1 became a new group at some version and is published as 5.
  const [near, far] = (await labelTwo(codec, values, [0, 5])).map(
    (v) => JSON.parse(v.toString()) as Record<string, unknown>,
  );
  assert.deepEqual([near?.cluster, near?.runner_up], [0, 5]);
  assert.deepEqual([far?.cluster, far?.runner_up], [5, 0]);
});

void test('full detail takes the slow path for a record that already has a margin field, and overrides it', async () => {
  const codec = await createRecordCodec({
    format: 'json',
    inputTopic: 'points',
    outputTopic: 'points-labelled',
    outputDetail: 'full',
  });
  const [out] = await labelTwo(codec, [Buffer.from('{"x":6,"y":6,"margin":"wide"}')]);
  const text = out?.toString() ?? '';
  assert.equal(text.split('"margin"').length, 2, text);
  assert.equal(typeof (JSON.parse(text) as { margin: unknown }).margin, 'number');
});

void test('full detail with Avro: the output schema gains runner_up and margin, and records decode with it', async () => {
  const codec = await createRecordCodec({
    format: 'avro',
    avroSchema: JSON.stringify(pointSchema),
    inputTopic: 'points',
    outputTopic: 'points-labelled',
    outputDetail: 'full',
  });
  const input = avro.Type.forSchema(pointSchema as Schema);
  const [, far] = await labelTwo(codec, [
    input.toBuffer({ x: 1, y: 1 }),
    input.toBuffer({ x: 6, y: 6 }),
  ]);
  const output = (codec as unknown as { schemas: { outputType: avro.Type } }).schemas.outputType;
  const decoded = output.fromBuffer(far as Buffer) as Record<string, number>;
  assert.equal(decoded.cluster, 1);
  assert.equal(decoded.runner_up, 0);
  assert.ok(Math.abs((decoded.margin as number) - (q1 - q0)) < 1e-6);
  assert.equal(decoded.model_version, 3);

  const basic = await createRecordCodec({
    format: 'avro',
    avroSchema: JSON.stringify(pointSchema),
    inputTopic: 'points',
    outputTopic: 'points-labelled',
  });
  const basicType = (basic as unknown as { schemas: { outputType: avro.Type } }).schemas.outputType;
  const [plain] = await labelTwo(basic, [input.toBuffer({ x: 1, y: 1 })]);
  assert.deepEqual(Object.keys(basicType.fromBuffer(plain as Buffer) as object), [
    'x',
    'y',
    'cluster',
    'confidence',
    'model_version',
  ]);
});

void test('DEC_OUTPUT_DETAIL accepts basic or full only; DEC_CLUSTERS_TOPIC defaults and must stand apart', () => {
  assert.throws(() => loadConfig({ ...env, DEC_OUTPUT_DETAIL: 'verbose' }), ConfigError);
  assert.equal(loadConfig(env).stream.clustersTopic, 'points-labelled.clusters');
  assert.equal(
    loadConfig({ ...env, DEC_CLUSTERS_TOPIC: 'profiles' }).stream.clustersTopic,
    'profiles',
  );
  assert.throws(() => loadConfig({ ...env, DEC_CLUSTERS_TOPIC: 'points-labelled' }), ConfigError);
});
