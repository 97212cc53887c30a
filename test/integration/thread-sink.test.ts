import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { Admin, Consumer } from 'kafkajs';
import { loadConfig } from '../../src/config/load-config.js';
import { publisherSettings, ThreadSink } from '../../src/kafka/publish/thread-sink.js';
import type { PublisherSettings } from '../../src/kafka/publish/protocol.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { OutboundMessage } from '../../src/worker/ports.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic, withKafka } from './helpers.js';
import { readTopic } from './worker-harness.js';

/** The publishing thread's settings, through the worker's own configuration loader. */
function settings(input: string, delivery: PublisherSettings['delivery']): PublisherSettings {
  return publisherSettings(
    loadConfig({
      KAFKA_BROKERS: kafkaBrokers().join(','),
      KAFKA_CLIENT_ID: 'dec-stream-thread-sink-test',
      DEC_INPUT_TOPIC: input,
      DEC_OUTPUT_TOPIC: `${input}.out`,
      DEC_DLQ_TOPIC: `${input}.dlq`,
      DEC_GROUP_ID: `${input}-group`,
      DEC_DELIVERY: delivery,
      DEC_TRANSACTIONAL_ID_PREFIX: `${input}-tx`,
      DEC_FEATURES: 'f0',
      DEC_CLUSTERS: '2',
    }),
  );
}

/**
 * The input, output and dead-letter topics of a fresh input topic, and a started thread sink
 * publishing to them (closed when the test ends).
 */
async function startedSink(
  t: TestContext,
  prefix: string,
  delivery: PublisherSettings['delivery'],
  options: { consumer: Consumer | undefined; write: (line: string) => void },
): Promise<{ input: string; config: PublisherSettings; sink: ThreadSink; admin: Admin }> {
  const clients = withKafka(t);
  const input = uniqueTopic(prefix);
  const config = settings(input, delivery);
  await createTopics(clients.brokers, [
    { topic: input },
    { topic: config.outputTopic },
    { topic: config.dlqTopic },
  ]);
  const sink = new ThreadSink({
    settings: config,
    consumer: options.consumer,
    logger: createLogger({ level: 'info', write: options.write }),
  });
  t.after(() => sink.close());
  await sink.start();
  return { input, config, sink, admin: await clients.admin() };
}

const labelled = (key: string, version: string): OutboundMessage => ({
  key: Buffer.from(key),
  value: Buffer.from(JSON.stringify({ key, cluster: 1 })),
  headers: { 'dec-model-version': Buffer.from(version) },
});

void test('exactly-once on the publishing thread: records, dead letters and the offset commit as one transaction', async (t) => {
  const lines: string[] = [];
  const { input, config, sink } = await startedSink(t, 'thread-sink-in', 'exactly-once', {
    consumer: undefined,
    write: (line) => lines.push(line),
  });

  assert.equal(await sink.claim(input, 0), undefined, 'nothing committed yet');
  assert.ok(
    lines.some(
      (l) => l.includes('transactional producer ready') && l.includes('"thread":"publish"'),
    ),
    `the thread's log lines reach the worker's logger: ${lines.join('\n')}`,
  );
  await sink.publish({
    topic: input,
    partition: 0,
    nextOffset: '3',
    labelled: [labelled('a', '4'), labelled('b', '4')],
    deadLetters: [
      { key: Buffer.from('c'), value: Buffer.from('{'), headers: { 'dec-dlq-reason': 'json' } },
    ],
  });
  await sink.settle();

  const kafka = testKafka();
  const out = await readTopic(kafka, config.outputTopic, 2, { settleMs: 300 });
  assert.deepEqual(out.map((m) => [m.key, m.headers['dec-model-version']]).sort(), [
    ['a', '4'],
    ['b', '4'],
  ]);
  const dlq = await readTopic(kafka, config.dlqTopic, 1, { settleMs: 300 });
  assert.deepEqual(
    dlq.map((m) => [m.key, m.value?.toString(), m.headers['dec-dlq-reason']]),
    [['c', '{', 'json']],
  );
  assert.equal(await sink.claim(input, 0), '3', 'the offset was committed with the records');

  await sink.close();
  await assert.rejects(
    sink.publish({ topic: input, partition: 0, nextOffset: '4', labelled: [], deadLetters: [] }),
    /closed/,
  );
});

void test('an at-least-once thread sink needs the input consumer to commit through', () => {
  assert.throws(
    () =>
      new ThreadSink({
        settings: settings('no-consumer', 'at-least-once'),
        consumer: undefined,
        logger: createLogger({ level: 'error', write: () => undefined }),
      }),
    /input consumer/,
  );
});

void test('at-least-once on the publishing thread: after a unit fails, none handed over behind it is produced', async (t) => {
  // No commit is reached in this test (the first unit fails), so the consumer never connects.
  const { input, config, sink, admin } = await startedSink(t, 'thread-sink-halt', 'at-least-once', {
    consumer: testKafka().consumer({ groupId: 'thread-sink-halt-group' }),
    write: () => undefined,
  });
  assert.equal(sink.queuesInOrder, true);

  // Above the broker's 1 MiB message.max.bytes even compressed (random bytes): refused, and not
  // retriable.
  const tooLarge: OutboundMessage = {
    key: Buffer.from('big'),
    value: randomBytes(2 * 1024 * 1024),
    headers: {},
  };
  const first = sink.publish({
    topic: input,
    partition: 0,
    nextOffset: '1',
    labelled: [tooLarge],
    deadLetters: [],
  });
  // Handed over before the first one's failure is known, as the worker does.
  const second = sink.publish({
    topic: input,
    partition: 0,
    nextOffset: '2',
    labelled: [labelled('b', '1')],
    deadLetters: [],
  });
  await assert.rejects(first, /larger than the max message size/);
  await assert.rejects(second);
  await assert.rejects(sink.settle());
  // The thread handles its messages in order: once it has closed, it has dealt with the second unit.
  await sink.close();

  const offsets = await admin.fetchTopicOffsets(config.outputTopic);
  assert.deepEqual(
    offsets.map((o) => o.high),
    offsets.map(() => '0'),
    'nothing reached the output topic',
  );
});
