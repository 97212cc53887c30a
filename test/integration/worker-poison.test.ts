import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  mixtureRecord,
  produce,
  readTopic,
  runInProcess,
  scenario,
  separatedMixture,
} from './worker-harness.js';

/** Eight kinds of record the worker cannot label, with the reason each must be dead-lettered for. */
const poisons: { name: string; value: Buffer | string | null; reason: string }[] = [
  { name: 'bytes that are not JSON', value: 'not json {', reason: 'undecodable' },
  {
    name: 'bytes that are not UTF-8',
    value: Buffer.from([0xff, 0xfe, 0x00, 0x81]),
    reason: 'undecodable',
  },
  { name: 'a tombstone', value: null, reason: 'undecodable' },
  { name: 'a JSON array', value: '[1,2,3,4]', reason: 'undecodable' },
  { name: 'a missing feature', value: '{"id":"m","f0":1,"f1":2,"f2":3}', reason: 'missing-field' },
  {
    name: 'a text feature',
    value: '{"id":"t","f0":1,"f1":2,"f2":"abc","f3":4}',
    reason: 'non-numeric',
  },
  {
    name: 'a boolean feature',
    value: '{"id":"b","f0":true,"f1":2,"f2":3,"f3":4}',
    reason: 'non-numeric',
  },
  {
    name: 'an infinite feature',
    value: '{"id":"i","f0":1,"f1":1e400,"f2":3,"f3":4}',
    reason: 'non-finite',
  },
  {
    name: 'a vector instead of a number',
    value: '{"id":"v","f0":1,"f1":2,"f2":3,"f3":[4,5]}',
    reason: 'wrong-length',
  },
];

void test('poison records of every kind go to the dead-letter topic and every good record is labelled', async (t) => {
  const s = await scenario(t);
  const { points, labels } = separatedMixture(240);
  const messages: { key: string; value: Buffer | string | null }[] = [];
  const poisonAt = new Map<string, (typeof poisons)[number]>();
  points.forEach((p, i) => {
    messages.push({
      key: `k${i}`,
      value: JSON.stringify(mixtureRecord(i, p, labels[i] as number)),
    });
    // Poison in the bootstrap window (first 150) and after it, while online.
    if (i % 25 === 10) {
      const poison = poisons[poisonAt.size % poisons.length] as (typeof poisons)[number];
      const key = `poison-${poisonAt.size}`;
      poisonAt.set(key, poison);
      messages.push({ key, value: poison.value });
    }
  });
  await produce(s.kafka, s.input, messages);
  const running = await runInProcess(t, s.env());

  const out = await readTopic(s.kafka, s.output, points.length);
  const dead = await readTopic(s.kafka, s.dlq, poisonAt.size);
  await running.close();

  assert.equal(out.length, points.length);
  assert.deepEqual(new Set(out.map((m) => m.key)), new Set(points.map((_, i) => `k${i}`)));
  assert.equal(dead.length, poisonAt.size);
  const reasons = new Set<string>();
  for (const letter of dead) {
    const poison = poisonAt.get(letter.key);
    assert.ok(poison !== undefined, `unexpected dead letter ${letter.key}`);
    assert.equal(letter.headers['dec-dlq-reason'], poison.reason, poison.name);
    assert.ok((letter.headers['dec-dlq-error'] ?? '').length > 0, 'the error is named');
    assert.equal(letter.headers['dec-source-topic'], s.input);
    assert.equal(letter.headers['dec-source-partition'], '0');
    const original = messages.findIndex((m) => m.key === letter.key);
    assert.equal(letter.headers['dec-source-offset'], String(original));
    const bytes = poison.value === null ? null : Buffer.from(poison.value);
    assert.deepEqual(letter.value, bytes, 'the original bytes are kept');
    reasons.add(poison.reason);
  }
  assert.ok(reasons.size >= 5);
});
