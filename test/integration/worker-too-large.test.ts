import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import type { Kafka } from 'kafkajs';
import { waitFor } from './helpers.js';
import {
  mixtureRecord,
  produce,
  readTopic,
  runInProcess,
  scenario,
  separatedMixture,
} from './worker-harness.js';

const { ConfigResourceTypes } = kafkajs;

/** Sets `max.message.bytes` of `topics`, right after the scenario created them. */
async function limitMessageBytes(
  kafka: Kafka,
  topics: readonly string[],
  bytes: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

async function committedOffset(kafka: Kafka, group: string, topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return entry?.partitions.find((p) => p.partition === 0)?.offset ?? '-1';
  } finally {
    await admin.disconnect();
  }
}

void test('a record whose labelled output exceeds the output topic limit is dead-lettered as too-large and the partition goes on', async (t) => {
  const s = await scenario(t);
  const limit = 2048;
  await limitMessageBytes(s.kafka, [s.output, s.dlq], limit);

  const total = 200;
  const bigAt = 170;
  const { points, labels } = separatedMixture(total);
  const messages = points.map((p, i) => {
    const record = mixtureRecord(i, p, labels[i] as number) as Record<string, unknown>;
    // Past the bootstrap window, so it is labelled online; it fits the input topic.
    if (i === bigAt) record.pad = 'x'.repeat(3000);
    return { key: `k${i}`, value: JSON.stringify(record) };
  });
  await produce(s.kafka, s.input, messages);
  const running = await runInProcess(t, s.env());

  const out = await readTopic(s.kafka, s.output, total - 1);
  const dead = await readTopic(s.kafka, s.dlq, 1);
  await waitFor(
    async () => (await committedOffset(s.kafka, s.group, s.input)) === String(total),
    30_000,
    'offsets committed past every record',
  );
  await running.close();

  const expected = new Set(messages.map((m) => m.key).filter((k) => k !== `k${bigAt}`));
  assert.deepEqual(new Set(out.map((m) => m.key)), expected, 'every other record labelled');
  assert.ok(
    out.some((m) => Number(m.key.slice(1)) > bigAt),
    'records after the large one are labelled',
  );
  assert.equal(dead.length, 1);
  const letter = dead[0]!;
  assert.equal(letter.key, `k${bigAt}`);
  assert.equal(letter.headers['dec-dlq-reason'], 'too-large');
  assert.equal(letter.headers['dec-source-offset'], String(bigAt));
  // The dead-letter topic has the same small limit: the letter is cut, its original size kept.
  const original = Buffer.byteLength(messages[bigAt]!.value);
  assert.equal(letter.headers['dec-dlq-original-bytes'], String(original));
  assert.ok((letter.value?.length ?? 0) > 0 && (letter.value?.length ?? 0) < original);
  assert.deepEqual(
    letter.value,
    Buffer.from(messages[bigAt]!.value).subarray(0, letter.value?.length),
  );
});
