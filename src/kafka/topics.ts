import type { Kafka } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';

/**
 * Creates the output and dead-letter topics when they are missing, with as many partitions as the
 * input topic (so keys keep their partition). `compacted` topics (the clusters topic: one small
 * record per key and version) get one partition and cleanup.policy=compact. Topics that exist are
 * left as they are.
 */
export async function ensureOutputTopics(
  kafka: Kafka,
  topics: {
    readonly input: string;
    readonly outputs: readonly string[];
    readonly compacted?: readonly string[];
  },
  logger: Logger,
): Promise<void> {
  const compacted = new Set(topics.compacted ?? []);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set([...topics.outputs, ...compacted])].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    let numPartitions = 1;
    if (existing.has(topics.input)) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topics.input] });
      numPartitions = Math.max(1, metadata.topics[0]?.partitions.length ?? 1);
    }
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) =>
        compacted.has(topic)
          ? {
              topic,
              numPartitions: 1,
              configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
            }
          : { topic, numPartitions },
      ),
    });
    logger.info('topics created', { topics: missing, numPartitions, compacted: [...compacted] });
  } finally {
    await admin.disconnect();
  }
}
