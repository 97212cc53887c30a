import type { Kafka } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';

/**
 * Creates the output and dead-letter topics when they are missing, with as many partitions as the
 * input topic (so keys keep their partition). Topics that exist are left as they are.
 */
export async function ensureOutputTopics(
  kafka: Kafka,
  topics: { readonly input: string; readonly outputs: readonly string[] },
  logger: Logger,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics.outputs)].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    let numPartitions = 1;
    if (existing.has(topics.input)) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topics.input] });
      numPartitions = Math.max(1, metadata.topics[0]?.partitions.length ?? 1);
    }
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions })),
    });
    logger.info('topics created', { topics: missing, numPartitions });
  } finally {
    await admin.disconnect();
  }
}
