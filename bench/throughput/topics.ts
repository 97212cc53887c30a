/** Topic plumbing for the benchmark: creation, bulk loading and rate-limited production. */
import { randomBytes } from 'node:crypto';
import type { Message, Producer } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { registerCompressionCodecs } from '../../src/kafka/compression.js';

export function benchKafka(brokers: readonly string[], clientId = 'dec-bench'): Kafka {
  // Its consumers read what the worker writes (lz4 by default): they need the worker's codecs.
  registerCompressionCodecs();
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING });
}

/** A name no earlier run used. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export async function createTopics(
  kafka: Kafka,
  topics: readonly { topic: string; partitions: number }[],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(({ topic, partitions }) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics], timeout: 30_000 });
  } catch {
    // Left-over topics only cost disk in the benchmark broker.
  } finally {
    await admin.disconnect();
  }
}

function loaderProducer(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
}

/**
 * Writes every record to `topic` as fast as the client allows (several requests in flight),
 * keyed, uncompressed, acks=all. Returns the wall time in seconds.
 */
export async function loadTopic(
  kafka: Kafka,
  topic: string,
  keys: readonly Buffer[],
  values: readonly Buffer[],
  options: { chunk?: number; inFlight?: number } = {},
): Promise<number> {
  const chunk = options.chunk ?? 2_000;
  const inFlight = options.inFlight ?? 4;
  const producer = loaderProducer(kafka);
  await producer.connect();
  const started = performance.now();
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < values.length) {
        const from = next;
        next = Math.min(values.length, next + chunk);
        const messages: Message[] = [];
        for (let i = from; i < next; i++) {
          messages.push({ key: keys[i], value: values[i] ?? null });
        }
        await producer.send({ topic, messages, acks: -1 });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, () => lane()));
  } finally {
    await producer.disconnect();
  }
  return (performance.now() - started) / 1000;
}

/** Header carrying the send time (epoch ms) of a latency probe; the worker copies headers. */
export const SentAtHeader = 'bench-sent-ms';

/**
 * Produces `values` (cycled) at `ratePerSecond` for `seconds`, in small batches every
 * `tickMs`, each record stamped with its send time (record timestamp and header). Returns the
 * number of records sent.
 */
export async function produceAtRate(
  kafka: Kafka,
  topic: string,
  keys: readonly Buffer[],
  values: readonly Buffer[],
  ratePerSecond: number,
  seconds: number,
  tickMs = 5,
  maxPerSend = 2000,
): Promise<number> {
  const producer = loaderProducer(kafka);
  await producer.connect();
  let sent = 0;
  try {
    const started = performance.now();
    const endMs = seconds * 1000;
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= endMs) break;
      // A stall (a slow first send while a new topic's leaders settle, a busy machine) leaves
      // many records due at once: they go out in sends of at most maxPerSend records, so no
      // partition's batch outgrows the broker's message size limit.
      const due = Math.min(Math.floor((elapsed / 1000) * ratePerSecond), sent + maxPerSend);
      if (due > sent) {
        const now = Date.now();
        const stamp = String(now);
        const messages: Message[] = [];
        for (; sent < due; sent++) {
          const i = sent % values.length;
          messages.push({
            key: keys[i],
            value: values[i] ?? null,
            timestamp: stamp,
            headers: { [SentAtHeader]: stamp },
          });
        }
        await producer.send({ topic, messages, acks: 1 });
      }
      if (due < Math.floor((elapsed / 1000) * ratePerSecond)) continue;
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}
