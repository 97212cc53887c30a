import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { KafkaModelFeed } from '../../src/kafka/kafka-model-feed.js';
import { KafkaModelPublisher } from '../../src/kafka/kafka-model-publisher.js';
import { modelMessages } from '../../src/kafka/model-messages.js';
import { encodeSnapshot } from '../../src/model/snapshot-codec.js';
import { createLogger, silentLogger, type Logger } from '../../src/runtime/logger.js';
import type { ModelSkipReason } from '../../src/worker/ports.js';
import { tinySnapshot } from '../unit/worker/tiny-snapshot.js';
import { kafkaBrokers, testKafka, uniqueTopic, waitFor } from './helpers.js';
import { createModelTopic, ModelTopicMaxMessageBytes } from './worker-replicas-harness.js';

const kafka = testKafka(kafkaBrokers());

function publisher(t: TestContext, topic: string): KafkaModelPublisher {
  const p = new KafkaModelPublisher({
    kafka,
    topic,
    transactionalId: `${topic}-publisher`,
    maxMessageBytes: ModelTopicMaxMessageBytes,
    keepVersions: 5,
    logger: silentLogger,
  });
  t.after(() => p.close());
  return p;
}

async function startFeed(
  t: TestContext,
  topic: string,
  skipped: ModelSkipReason[],
  openTransactionGraceMs?: number,
  logger: Logger = silentLogger,
): Promise<KafkaModelFeed> {
  const feed = new KafkaModelFeed({
    kafka,
    topic,
    groupId: uniqueTopic('feed'),
    logger,
    onSkip: (reason) => skipped.push(reason),
    ...(openTransactionGraceMs === undefined ? {} : { openTransactionGraceMs }),
  });
  t.after(() => feed.close());
  await feed.start();
  return feed;
}

void test('a corrupted or truncated version on the models topic is skipped, counted, and the previous version keeps serving', async (t) => {
  const topic = await createModelTopic(kafka, uniqueTopic('models-group'));
  const trainer = publisher(t, topic);
  await trainer.start();
  await trainer.publish(tinySnapshot(1));
  const skipped: ModelSkipReason[] = [];
  const feed = await startFeed(t, topic, skipped);
  await feed.caughtUp;
  assert.equal(feed.latest()?.version, 1);

  // Version 2 with one chunk cut short, version 3 with a chunk missing: written as a broken
  // trainer would, outside any transaction.
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  const truncated = modelMessages(2, 'now', encodeSnapshot(tinySnapshot(2)), 500);
  const cut = truncated.map((m, i) =>
    i === 0 ? { ...m, value: (m.value as Buffer).subarray(0, 100) } : m,
  );
  await producer.send({ topic, acks: -1, messages: cut });
  const partial = modelMessages(3, 'now', encodeSnapshot(tinySnapshot(3)), 500);
  await producer.send({ topic, acks: -1, messages: partial.slice(1) });
  await waitFor(() => skipped.length === 2, 20_000, 'both broken versions read');
  assert.deepEqual(skipped, ['checksum', 'missing-chunk']);
  assert.equal(feed.latest()?.version, 1, 'the previous version keeps serving');

  await trainer.publish(tinySnapshot(4));
  await waitFor(() => feed.latest()?.version === 4, 20_000, 'the next whole version served');
});

/** Sends one version's records in a transaction it leaves open, as a trainer mid-publish does. */
async function openTransaction(t: TestContext, topic: string, version: number) {
  const producer = kafka.producer({
    transactionalId: `${topic}-open-${version}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  t.after(() => producer.disconnect());
  const transaction = await producer.transaction();
  const messages = modelMessages(version, 'now', encodeSnapshot(tinySnapshot(version)), 500);
  await transaction.send({ topic, acks: -1, messages });
  return transaction;
}

/** Whether a promise settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), ms));
  return Promise.race([promise.then(() => true), timeout]);
}

/** A topic with version 1 committed and version 2 in a transaction left open. */
async function versionOneThenOpenTransaction(t: TestContext) {
  const topic = await createModelTopic(kafka, uniqueTopic('models-group'));
  const trainer = publisher(t, topic);
  await trainer.start();
  await trainer.publish(tinySnapshot(1));
  return { topic, transaction: await openTransaction(t, topic, 2) };
}

void test('a version committed while the feed starts is read before it calls itself caught up', async (t) => {
  const topic = await createModelTopic(kafka, uniqueTopic('models-group'));
  const transaction = await openTransaction(t, topic, 1);
  const feed = await startFeed(t, topic, []);
  assert.equal(await settlesWithin(feed.caughtUp, 1_500), false, 'waits for the open transaction');
  await transaction.commit();
  await feed.caughtUp;
  assert.equal(feed.latest()?.version, 1);
});

void test('a version aborted while the feed starts is not served, and the feed still catches up', async (t) => {
  const { topic, transaction } = await versionOneThenOpenTransaction(t);
  const feed = await startFeed(t, topic, []);
  assert.equal(await settlesWithin(feed.caughtUp, 1_500), false, 'waits for the open transaction');
  await transaction.abort();
  await feed.caughtUp;
  assert.equal(feed.latest()?.version, 1, 'the committed version serves, the aborted one never');
});

void test('a transaction left open holds the feed back only for the grace; its version arrives when it commits', async (t) => {
  const { topic, transaction } = await versionOneThenOpenTransaction(t);
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) });
  const feed = await startFeed(t, topic, [], 1_000, logger);
  assert.equal(await settlesWithin(feed.caughtUp, 10_000), true, 'caught up after the grace');
  assert.equal(feed.latest()?.version, 1, 'the committed version serves meanwhile');
  const warned = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    warned.map((w) => [w['msg'], w['graceMs'], w['servingVersion']]),
    [
      [
        'models topic: a transaction is still open after the grace; serving what was committed before it',
        1_000,
        1,
      ],
    ],
  );
  await transaction.commit();
  await waitFor(() => feed.latest()?.version === 2, 20_000, 'the version served once committed');
});

void test('a trainer whose transactional id was taken over is fenced: it cannot publish a stale version', async (t) => {
  const topic = await createModelTopic(kafka, uniqueTopic('models-group'));
  const old = publisher(t, topic);
  await old.start();
  await old.publish(tinySnapshot(1));
  const successor = publisher(t, topic);
  await successor.start();
  await assert.rejects(() => old.publish(tinySnapshot(2)));
  await successor.publish(tinySnapshot(2));
  const feed = await startFeed(t, topic, []);
  await feed.caughtUp;
  await waitFor(() => feed.latest()?.version === 2, 20_000, 'the successor’s version served');
  assert.deepEqual(
    feed.liveManifests().map((m) => m.version),
    [1, 2],
    'the topic holds version 1 and the successor’s version 2',
  );
});
