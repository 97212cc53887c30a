import kafkajs from 'kafkajs';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../runtime/logger.js';
import type { RecordLimits } from '../worker/record-limits.js';

// Node cannot see this export of kafkajs's CommonJS entry by name; the default import holds it.
const { ConfigResourceTypes } = kafkajs;

/** Kafka's default `message.max.bytes` (1 MiB plus the 12-byte log overhead). */
export const DefaultMaxMessageBytes = 1_048_588;

/**
 * Bytes of a record batch beside its records: the v2 batch header (base offset 8, length 4,
 * leader epoch 4, magic 1, CRC 4, attributes 2, last offset delta 4, first and max timestamp 16,
 * producer id 8, producer epoch 2, base sequence 4, record count 4 = 61). The broker compares the
 * whole batch, header included, with `max.message.bytes`.
 */
export const RecordBatchOverheadBytes = 61;

/**
 * The broker checks the batch as written, that is compressed. On data that does not compress,
 * the codecs grow their input a little: snappy by at most n/6 + 32 bytes, lz4, zstd and gzip by
 * less. So a record counts as 7/6 of itself plus this much.
 */
const compressionSlackBytes = 32;

/**
 * The largest record, as the worker counts it (an uncompressed upper bound, see outboundBytes),
 * that is sure to fit in one batch under `maxMessageBytes`, whatever the codec.
 */
export function recordBudgetBytes(maxMessageBytes: number): number {
  const room = maxMessageBytes - RecordBatchOverheadBytes - compressionSlackBytes;
  return Math.max(0, Math.floor((room * 6) / 7));
}

/** `max.message.bytes` of the output and dead-letter topics, as the broker reports them. */
export interface TopicMessageLimits {
  readonly outputMaxMessageBytes: number;
  readonly dlqMaxMessageBytes: number;
}

export function recordLimitsOf(limits: TopicMessageLimits): RecordLimits {
  return {
    labelledBytes: recordBudgetBytes(limits.outputMaxMessageBytes),
    deadLetterBytes: recordBudgetBytes(limits.dlqMaxMessageBytes),
  };
}

/**
 * Reads `max.message.bytes` of both topics; a topic the broker does not answer for takes the
 * broker's `message.max.bytes`, and without that Kafka's default.
 */
export async function fetchTopicMessageLimits(
  kafka: Kafka,
  topics: { readonly output: string; readonly dlq: string },
  logger: Logger,
): Promise<TopicMessageLimits> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const byTopic = await topicLimits(admin, [topics.output, topics.dlq]);
    const missing = [topics.output, topics.dlq].some((t) => byTopic.get(t) === undefined);
    const fallback = missing ? await brokerLimit(admin) : DefaultMaxMessageBytes;
    const limits = {
      outputMaxMessageBytes: byTopic.get(topics.output) ?? fallback,
      dlqMaxMessageBytes: byTopic.get(topics.dlq) ?? fallback,
    };
    logger.info('output topic size limits', { ...limits });
    return limits;
  } finally {
    await admin.disconnect();
  }
}

async function topicLimits(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [...new Set(topics)].map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ['max.message.bytes'],
    })),
  });
  const limits = new Map<string, number>();
  for (const resource of described.resources) {
    const value = positiveInteger(
      resource.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue,
    );
    if (resource.errorCode === 0 && value !== undefined) limits.set(resource.resourceName, value);
  }
  return limits;
}

/** The smallest `message.max.bytes` of the cluster's brokers, or Kafka's default. */
async function brokerLimit(admin: Admin): Promise<number> {
  const { brokers } = await admin.describeCluster();
  if (brokers.length === 0) return DefaultMaxMessageBytes;
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: brokers.map((b) => ({
      type: ConfigResourceTypes.BROKER,
      name: String(b.nodeId),
      configNames: ['message.max.bytes'],
    })),
  });
  const values = described.resources.flatMap((r) => {
    const value = positiveInteger(
      r.configEntries.find((e) => e.configName === 'message.max.bytes')?.configValue,
    );
    return value === undefined ? [] : [value];
  });
  return values.length === 0 ? DefaultMaxMessageBytes : Math.min(...values);
}

function positiveInteger(text: string | undefined): number | undefined {
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** `max.message.bytes` of one topic (the models topic), else the brokers' limit. */
export async function fetchTopicMessageLimit(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await topicLimits(admin, [topic])).get(topic) ?? (await brokerLimit(admin));
  } finally {
    await admin.disconnect();
  }
}
