/**
 * The worker against librdkafka, the C client behind most non-Java producers and consumers
 * (PyPI's confluent-kafka; see rdkafka-client.ts): its compressed batches and its transactions in,
 * and its consumer reading what the worker writes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputCompression } from '../../src/config/config.js';
import { storedBatchCodecs } from './java-client.js';
import { assertPeerBatchesLabelled } from './peer-clients.js';
import { rdkafkaConsume, rdkafkaProduce, rdkafkaTransact } from './rdkafka-client.js';
import {
  mixtureRecord,
  readTopic,
  runInProcess,
  scenario,
  separatedMixture,
} from './worker-harness.js';

const inputCodecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

function mixtureValues(total: number): string[] {
  const { points, labels } = separatedMixture(total);
  return points.map((p, i) => JSON.stringify(mixtureRecord(i, p, labels[i] as number)));
}

for (const outputCodec of ['lz4', 'zstd'] as const satisfies readonly OutputCompression[]) {
  void test(`the worker labels batches librdkafka compressed with gzip, snappy, lz4 and zstd, and librdkafka reads its ${outputCodec} output`, async (t) => {
    const s = await scenario(t);
    const perCodec = 60;
    const values = mixtureValues(perCodec * inputCodecs.length);
    for (const [n, codec] of inputCodecs.entries()) {
      const slice = values.slice(n * perCodec, (n + 1) * perCodec);
      await rdkafkaProduce(s.brokers, s.input, codec, [...slice, 'not json'], codec);
    }
    const stored = storedBatchCodecs(s.brokers, s.input);
    if (stored === undefined) t.diagnostic('not the local broker: batch codecs not checked');
    else {
      // Each codec's records in consecutive batches, in order. Usually one batch per codec, but
      // librdkafka may send the first records before its linger ends (seen once with lz4).
      const runs = stored.filter((codec, i) => i === 0 || codec !== stored[i - 1]);
      assert.deepEqual(
        runs,
        [...inputCodecs],
        `batches as librdkafka wrote them: ${stored.join(',')}`,
      );
    }

    const running = await runInProcess(t, s.env({ DEC_OUTPUT_COMPRESSION: outputCodec }));
    const total = values.length;
    const out = await rdkafkaConsume(s.brokers, s.output, total);
    const dead = await rdkafkaConsume(s.brokers, s.dlq, inputCodecs.length);
    await running.close();

    assertPeerBatchesLabelled('rdkafka', inputCodecs, perCodec, out, dead);
    const written = storedBatchCodecs(s.brokers, s.output);
    if (written !== undefined) {
      assert.ok(written.length > 0 && written.every((c) => c === outputCodec), written.join(','));
    }
  });
}

void test('records of aborted librdkafka transactions are never labelled; committed ones are, once', async (t) => {
  const s = await scenario(t);
  // Commit 120, abort 40, commit 80: the worker must see 200 records and none of the aborted 40.
  const values = mixtureValues(240);
  await rdkafkaTransact(s.brokers, s.input, 'zstd', values, 'txn', 'c120,a40,c80');
  const committed = [
    ...Array.from({ length: 120 }, (_, i) => `txn-${i}`),
    ...Array.from({ length: 80 }, (_, i) => `txn-${160 + i}`),
  ];

  const running = await runInProcess(t, s.env());
  const out = await rdkafkaConsume(s.brokers, s.output, committed.length);
  await running.close();
  // The worker reads in offset order, so a label of an aborted record would be written before
  // the last committed ones: the whole output topic must hold the committed records only.
  const everything = await readTopic(s.kafka, s.output, committed.length);

  assert.deepEqual(out.map((r) => r.key).sort(), [...committed].sort());
  assert.ok(out.every((r) => r.headers.txn === 'commit'));
  assert.deepEqual(everything.map((r) => r.key).sort(), [...committed].sort());
});
