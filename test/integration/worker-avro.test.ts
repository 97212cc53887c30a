import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import avro from 'avsc';
import type { Schema } from 'avsc';
import { labelledSchemas } from '../../src/codec/avro-schema.js';
import { clusteringAccuracy } from '../../src/model/evaluation.js';
import { produce, readTopic, runInProcess, scenario, separatedMixture } from './worker-harness.js';

const schemaFile = join(import.meta.dirname, '..', 'fixtures', 'avro', 'point.avsc');

void test('Avro records are labelled into the input schema extended with cluster, confidence and model_version', async (t) => {
  const s = await scenario(t);
  const schemaText = readFileSync(schemaFile, 'utf8');
  const inputType = avro.Type.forSchema(JSON.parse(schemaText) as Schema);
  const { points, labels } = separatedMixture(200, { dims: 2 });
  const records = points.map((p, i) => ({
    id: `r${i}`,
    f0: p[0] as number,
    f1: p[1] as number,
    meta: { source: `truth-${labels[i] as number}`, tags: ['a', 'b'] },
    history: [],
    pixels: [0.5, 0.25],
    note: i % 2 === 0 ? null : 'odd',
  }));
  const messages: { key: string; value: Buffer }[] = records.map((r) => ({
    key: r.id,
    value: inputType.toBuffer(r),
  }));
  // A value with trailing bytes (written with another schema) and one that is not Avro at all.
  const first = messages[0] as { key: string; value: Buffer };
  messages.push({ key: 'mismatch', value: Buffer.concat([first.value, Buffer.from([1, 2, 3])]) });
  messages.push({ key: 'garbage', value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) });
  await produce(s.kafka, s.input, messages);

  const running = await runInProcess(
    t,
    s.env({
      DEC_FORMAT: 'avro',
      DEC_AVRO_SCHEMA: schemaFile,
      DEC_FEATURES: 'f0,f1',
      DEC_BOOTSTRAP_RECORDS: '120',
    }),
  );
  const out = await readTopic(s.kafka, s.output, records.length);
  const dead = await readTopic(s.kafka, s.dlq, 2);
  await running.close();

  const { outputType } = labelledSchemas(schemaText);
  assert.equal(out.length, records.length);
  const truth: number[] = [];
  const predicted: number[] = [];
  for (const m of out) {
    const value = outputType.fromBuffer(m.value as Buffer) as Record<string, unknown>;
    const original = records.find((r) => r.id === m.key);
    assert.ok(original !== undefined);
    assert.equal(value.id, original.id);
    assert.deepEqual(JSON.parse(JSON.stringify(value.meta)), original.meta);
    assert.equal(value.note, original.note);
    assert.equal(value.model_version, 1);
    assert.equal(m.headers['dec-model-version'], '1');
    truth.push(Number(original.meta.source.slice('truth-'.length)));
    predicted.push(value.cluster as number);
  }
  assert.ok(clusteringAccuracy(truth, predicted) >= 0.95);
  const reasons = Object.fromEntries(dead.map((m) => [m.key, m.headers['dec-dlq-reason']]));
  assert.deepEqual(reasons, { mismatch: 'schema-mismatch', garbage: 'undecodable' });
});
