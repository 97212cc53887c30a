/**
 * Shared plumbing for integration tests against the real broker named by KAFKA_BROKERS
 * (`npm test` starts the local one when the variable is unset).
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { registerCompressionCodecs } from '../../src/kafka/compression.js';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  KafkaConfig,
  Producer,
  ProducerConfig,
} from 'kafkajs';

/** How a client authenticates and encrypts (a secured broker); plaintext when empty. */
export type KafkaSecurity = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/** The bootstrap servers from KAFKA_BROKERS (comma-separated); throws when it is unset. */
export function kafkaBrokers(): string[] {
  const brokers = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) {
    throw new Error(
      'KAFKA_BROKERS is not set. Run integration tests through `npm test`, which starts a local ' +
        'broker, or set KAFKA_BROKERS=host:port to use a running one.',
    );
  }
  return brokers;
}

/** A topic (or group, or transactional id) name no other test or run will use. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** KAFKAJS_LOG_LEVEL=error|warn|info|debug makes the client talk; tests keep it quiet by default. */
function clientLogLevel(): logLevel {
  switch (process.env.KAFKAJS_LOG_LEVEL?.toLowerCase()) {
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    case 'debug':
      return logLevel.DEBUG;
    default:
      return logLevel.NOTHING;
  }
}

/**
 * A kafkajs client for tests. It reads what the worker writes, so it needs the worker's codecs
 * (lz4 by default) in this thread's kafkajs.
 */
export function testKafka(
  brokers: string[] = kafkaBrokers(),
  clientId = 'dec-stream-test',
  security: KafkaSecurity = {},
): Kafka {
  registerCompressionCodecs();
  return new Kafka({ ...security, clientId, brokers, logLevel: clientLogLevel() });
}

/**
 * Waits until `topic`'s leaders answer. A leader in the metadata does not yet mean the leader hosts
 * the partition (KRaft applies a new topic asynchronously); ListOffsets is answered by the
 * partition leader itself.
 */
export async function waitUntilServed(admin: Admin, topic: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await admin.fetchTopicOffsets(topic);
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    `topic ${topic} served by its leader`,
  );
}

/** Creates the topics (one replica each) and waits until every partition has a leader. */
export async function createTopics(
  brokers: string[],
  topics: { topic: string; numPartitions?: number }[],
  security: KafkaSecurity = {},
): Promise<void> {
  const admin = testKafka(brokers, 'dec-stream-test-admin', security).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(({ topic, numPartitions }) => ({
        topic,
        numPartitions: numPartitions ?? 1,
        replicationFactor: 1,
      })),
    });
    for (const { topic } of topics) await waitUntilServed(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

/** Polls `predicate` every 50 ms until it holds; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Clients that disconnect themselves when the test ends. */
export interface TestKafkaClients {
  readonly brokers: string[];
  readonly kafka: Kafka;
  producer(config?: ProducerConfig): Promise<Producer>;
  consumer(config: ConsumerConfig): Promise<Consumer>;
  admin(): Promise<Admin>;
}

/**
 * Connected kafkajs clients for one test; each is disconnected in `t.after`, so a failing
 * assertion never leaves a client (or the test process) hanging. Consumers default to a 250 ms
 * fetch wait so they stop quickly.
 */
export function withKafka(t: TestContext): TestKafkaClients {
  const brokers = kafkaBrokers();
  const kafka = testKafka(brokers);
  const open: { disconnect(): Promise<void> }[] = [];
  t.after(async () => {
    await Promise.allSettled(open.reverse().map((client) => client.disconnect()));
  });
  async function connected<C extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
    client: C,
  ): Promise<C> {
    open.push(client);
    await client.connect();
    return client;
  }
  return {
    brokers,
    kafka,
    producer: (config) => connected(kafka.producer(config)),
    // A short fetch wait keeps disconnect() quick: kafkajs lets the in-flight fetch finish first.
    consumer: (config) => connected(kafka.consumer({ maxWaitTimeInMs: 250, ...config })),
    admin: () => connected(kafka.admin()),
  };
}
