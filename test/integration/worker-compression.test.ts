import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputCompression } from '../../src/config/config.js';
import { UnitProducer } from '../../src/kafka/output-sink.js';
import { createKafka } from '../../src/kafka/client.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { KafkaConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createTopics, kafkaBrokers, uniqueTopic } from './helpers.js';
import { javaConsume, javaProduce, storedBatchCodecs } from './java-client.js';
import { assertPeerBatchesLabelled } from './peer-clients.js';
import { rdkafkaConsume } from './rdkafka-client.js';
import { mixtureRecord, runInProcess, scenario, separatedMixture } from './worker-harness.js';

const inputCodecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const outputCodecs: readonly OutputCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function kafkaConfig(brokers: readonly string[]): KafkaConfig {
  const env = {
    DEC_INPUT_TOPIC: 'in',
    DEC_OUTPUT_TOPIC: 'out',
    DEC_FEATURES: 'f0',
    DEC_CLUSTERS: '2',
  };
  return loadConfig({ ...env, KAFKA_BROKERS: brokers.join(','), KAFKA_CLIENT_ID: 'codec-test' })
    .kafka;
}

void test('the worker labels batches the Java client compressed with gzip, snappy, lz4 and zstd, mixed in one topic', async (t) => {
  const s = await scenario(t);
  const perCodec = 60;
  const { points, labels } = separatedMixture(perCodec * inputCodecs.length);
  const values = points.map((p, i) => JSON.stringify(mixtureRecord(i, p, labels[i] as number)));
  for (const [n, codec] of inputCodecs.entries()) {
    const slice = values.slice(n * perCodec, (n + 1) * perCodec);
    await javaProduce(s.brokers, s.input, codec, [...slice, 'not json'], codec);
  }
  const stored = storedBatchCodecs(s.brokers, s.input);
  if (stored !== undefined) assert.deepEqual(stored, [...inputCodecs], 'one batch per codec');

  // The publishing thread writes snappy: the Java consumer must read snappy-java's framing back.
  const env = s.env({ DEC_PUBLISH_THREAD: 'on', DEC_OUTPUT_COMPRESSION: 'snappy' });
  const running = await runInProcess(t, env);
  const total = values.length;
  const out = await javaConsume(s.brokers, s.output, total);
  const dead = await javaConsume(s.brokers, s.dlq, inputCodecs.length);
  await running.close();

  assertPeerBatchesLabelled('java', inputCodecs, perCodec, out, dead);
  const written = storedBatchCodecs(s.brokers, s.output);
  if (written !== undefined) {
    assert.ok(written.length > 0 && written.every((c) => c === 'snappy'), written.join(','));
    assert.ok(storedBatchCodecs(s.brokers, s.dlq)?.every((c) => c === 'snappy'));
  }
});

for (const codec of outputCodecs) {
  void test(`records produced with DEC_OUTPUT_COMPRESSION=${codec} are stored with ${codec} and read by the Java client and librdkafka`, async (t) => {
    const brokers = kafkaBrokers();
    const output = uniqueTopic(`compressed-${codec}`);
    const dlq = `${output}.dlq`;
    await createTopics(brokers, [{ topic: output }, { topic: dlq }]);
    // The worker's own client factory, which registers the codecs in this thread.
    const kafka = createKafka(kafkaConfig(brokers), silentLogger);
    const producer = new UnitProducer({
      kafka,
      groupId: 'unused',
      outputTopic: output,
      dlqTopic: dlq,
      logger: silentLogger,
      compression: codec,
    });
    await producer.start();
    t.after(() => producer.close());
    const labelled = Array.from({ length: 200 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(JSON.stringify({ id: i, f0: i / 7, cluster: i % 3, confidence: 0.9 })),
      headers: { 'dec-model-version': '4', origin: `o${i}` },
    }));
    const deadLetters = [{ key: Buffer.from('bad'), value: Buffer.from('{'), headers: {} }];
    await producer.produce({ topic: 'in', partition: 0, nextOffset: '201', labelled, deadLetters });

    // Both peer clients read it: snappy-java's framing, liblz4's and libzstd's frame checks.
    for (const consume of [javaConsume, rdkafkaConsume]) {
      const read = await consume(brokers, output, labelled.length);
      assert.deepEqual(
        read.map((r) => [r.key, r.value, r.headers.origin, r.headers['dec-model-version']]),
        labelled.map((m, i) => [`k${i}`, m.value.toString(), `o${i}`, '4']),
        consume.name,
      );
      assert.deepEqual(
        (await consume(brokers, dlq, 1)).map((r) => r.value),
        ['{'],
      );
    }
    const stored = storedBatchCodecs(brokers, output);
    if (stored === undefined) t.diagnostic('not the local broker: batch codecs not checked');
    else assert.deepEqual(stored, [codec]);
    if (stored !== undefined) assert.deepEqual(storedBatchCodecs(brokers, dlq), [codec]);
  });
}
