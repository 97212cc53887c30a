import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTopics, uniqueTopic, waitFor, withKafka } from './helpers.js';

void test(
  'records produced to a topic reach a consumer group once each and their offsets are committed',
  { timeout: 60_000 },
  async (t) => {
    const kafka = withKafka(t);
    const topic = uniqueTopic('round-trip');
    const groupId = uniqueTopic('round-trip-group');
    await createTopics(kafka.brokers, [{ topic, numPartitions: 2 }]);

    const sent = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'];
    const producer = await kafka.producer();
    await producer.send({
      topic,
      messages: sent.map((value, i) => ({ key: `k${i % 3}`, value })),
    });

    const consumer = await kafka.consumer({ groupId });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received: string[] = [];
    await consumer.run({
      eachMessage: ({ message }) => {
        received.push(message.value?.toString() ?? '<null>');
        return Promise.resolve();
      },
    });
    await waitFor(() => received.length >= sent.length, 30_000, 'all records to be consumed');
    assert.deepEqual([...received].sort(), sent);

    const admin = await kafka.admin();
    await waitFor(
      async () => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const committed = (offsets?.partitions ?? []).reduce(
          (sum, p) => sum + Math.max(0, Number(p.offset)),
          0,
        );
        return committed === sent.length;
      },
      15_000,
      'the group to commit every offset',
    );
  },
);

void test(
  'a read_committed consumer sees committed transactional records and never aborted ones',
  { timeout: 60_000 },
  async (t) => {
    const kafka = withKafka(t);
    const topic = uniqueTopic('transactions');
    await createTopics(kafka.brokers, [{ topic }]);

    const producer = await kafka.producer({
      transactionalId: uniqueTopic('transactions-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const batches: { values: string[]; commit: boolean }[] = [
      { values: ['c1', 'c2'], commit: true },
      { values: ['a1'], commit: false },
      { values: ['c3'], commit: true },
    ];
    for (const { values, commit } of batches) {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: values.map((value) => ({ value })) });
      if (commit) await transaction.commit();
      else await transaction.abort();
    }

    const consumer = await kafka.consumer({
      groupId: uniqueTopic('transactions-group'),
      readUncommitted: false,
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received: string[] = [];
    await consumer.run({
      eachMessage: ({ message }) => {
        received.push(message.value?.toString() ?? '<null>');
        return Promise.resolve();
      },
    });
    // One partition keeps log order, so the aborted record would arrive before c3.
    await waitFor(() => received.includes('c3'), 30_000, 'the last committed record');
    assert.deepEqual(received, ['c1', 'c2', 'c3']);
  },
);
