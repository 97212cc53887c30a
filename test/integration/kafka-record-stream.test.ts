import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaRecordStream } from '../../src/kafka/kafka-record-stream.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { createTopics, uniqueTopic, waitFor, withKafka } from './helpers.js';

for (const concurrentBatches of [1, 2]) {
  void test(
    `each fetch starts only once every batch of the one before was handled (${concurrentBatches} at once)`,
    { timeout: 60_000 },
    async (t) => {
      const kafka = withKafka(t);
      const topic = uniqueTopic('fetch-start');
      await createTopics(kafka.brokers, [{ topic, numPartitions: 2 }]);
      const producer = await kafka.producer();
      const total = 60;
      // One record batch per send: a fetch then brings a few small batches of each partition.
      for (let i = 0; i < total; i++) {
        await producer.send({
          topic,
          messages: [{ key: `k${i}`, value: JSON.stringify({ i, pad: 'x'.repeat(200) }) }],
        });
      }

      // Small fetches, so the records come in several, and slow handlers, so a fetch that did not
      // wait for them would start while one runs.
      const stream = new KafkaRecordStream({
        kafka: kafka.kafka,
        groupId: uniqueTopic('fetch-start-group'),
        topic,
        logger: silentLogger,
        maxBytesPerPartition: 1024,
      });
      t.after(() => stream.close());
      let handling = 0;
      let handled = 0;
      const fetchesWhileHandling: number[] = [];
      let fetches = 0;
      stream.onFetchStart(() => {
        fetches++;
        if (handling > 0) fetchesWhileHandling.push(fetches);
      });
      let mostAtOnce = 0;
      await stream.start(
        async (batch) => {
          handling++;
          mostAtOnce = Math.max(mostAtOnce, handling);
          await sleep(20);
          handled += batch.records.length;
          const last = batch.records[batch.records.length - 1];
          if (last !== undefined) batch.resolve(last.offset);
          handling--;
        },
        { concurrentBatches },
      );
      await waitFor(() => handled >= total, 30_000, 'every record to be handled');
      assert.equal(handled, total);
      assert.ok(fetches >= 3, `${fetches} fetches`);
      assert.deepEqual(fetchesWhileHandling, []);
      assert.equal(mostAtOnce, concurrentBatches, 'batches handled at once, at most');
    },
  );
}
