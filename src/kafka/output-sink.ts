import type { Admin, Consumer, Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { OutputCompression } from '../config/config.js';
import type { Logger } from '../runtime/logger.js';
import { compressionType } from './compression.js';
import { encodedHeadersOf } from './encoded-headers.js';
import { lostMembership } from './group-membership.js';
import type { OutboundMessage, OutputSink, PublishUnit } from '../worker/ports.js';

/** Where units go and how they are produced. */
export interface SinkTopicsOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly outputTopic: string;
  readonly dlqTopic: string;
  readonly logger: Logger;
  /** Largest produce request; default DefaultMaxRequestBytes. */
  readonly maxRequestBytes?: number;
  /** Codec of the batches written; default none. */
  readonly compression?: OutputCompression;
}

export interface OutputSinkOptions extends SinkTopicsOptions {
  /** The input consumer: at-least-once commits through it. */
  readonly consumer: Consumer;
}

export interface ExactlyOnceSinkOptions extends SinkTopicsOptions {
  readonly transactionalIdPrefix: string;
  readonly transactionTimeoutMs?: number;
}

/**
 * Brokers refuse a record batch above `message.max.bytes` (1 MiB by default), and kafkajs sends
 * all of a request's records for one partition as one batch: requests are cut to stay below it.
 */
export const DefaultMaxRequestBytes = 900_000;

function messageBytes(message: OutboundMessage): number {
  let bytes = 64 + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  const headers = message.headers;
  const encoded = encodedHeadersOf(headers);
  if (encoded !== undefined) return bytes + encoded.length;
  for (const name of Object.keys(headers)) {
    const value = headers[name] as Buffer | string | (Buffer | string)[];
    if (Array.isArray(value)) {
      for (const v of value) bytes += name.length + headerBytes(v) + 8;
    } else {
      bytes += name.length + headerBytes(value) + 8;
    }
  }
  return bytes;
}

function headerBytes(value: Buffer | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** The unit's records as produce requests of at most `maxBytes` each (a larger record goes alone). */
export function produceRequests(
  unit: PublishUnit,
  outputTopic: string,
  dlqTopic: string,
  maxBytes: number = DefaultMaxRequestBytes,
): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let currentBytes = 0;
  const flush = (): void => {
    if (current.size === 0) return;
    requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    currentBytes = 0;
  };
  const add = (topic: string, messages: readonly OutboundMessage[]): void => {
    for (const message of messages) {
      const bytes = messageBytes(message);
      if (currentBytes > 0 && currentBytes + bytes > maxBytes) flush();
      const list = current.get(topic) ?? [];
      // kafkajs only reads what it sends: the labelled record's own object is handed over.
      list.push(message);
      current.set(topic, list);
      currentBytes += bytes;
    }
  };
  add(outputTopic, unit.labelled);
  add(dlqTopic, unit.deadLetters);
  flush();
  return requests;
}

/**
 * The produce half of at-least-once: a unit's labelled records and dead letters with acks=all, one
 * request in flight (so order holds). Retries are finite so that a lost cluster ends in a failed
 * worker (and a restart) rather than a silent stall. Committing is the caller's.
 */
export class UnitProducer {
  private readonly options: SinkTopicsOptions;
  private readonly producer: Producer;

  constructor(options: SinkTopicsOptions) {
    this.options = options;
    this.producer = options.kafka.producer({
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
  }

  async produce(unit: PublishUnit): Promise<void> {
    const { outputTopic, dlqTopic, maxRequestBytes } = this.options;
    const compression = compressionType(this.options.compression ?? 'none');
    for (const request of produceRequests(unit, outputTopic, dlqTopic, maxRequestBytes)) {
      await this.producer.sendBatch({ topicMessages: request, acks: -1, compression });
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/**
 * At-least-once: labelled records and dead letters are produced (UnitProducer), and only then is
 * the offset committed. A crash in between re-labels the unit; a retried produce may duplicate
 * records, which at-least-once allows.
 */
export class AtLeastOnceSink implements OutputSink {
  readonly delivery = 'at-least-once' as const;
  private readonly consumer: Consumer;
  private readonly producer: UnitProducer;

  constructor(options: OutputSinkOptions) {
    this.consumer = options.consumer;
    this.producer = new UnitProducer(options);
  }

  async start(): Promise<void> {
    await this.producer.start();
  }

  claim(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  async publish(unit: PublishUnit): Promise<void> {
    await this.producer.produce(unit);
    await commitUnit(this.consumer, unit);
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

/**
 * Commits the input offset after `unit` through the group member that read it. A commit refused
 * because the group dropped this member is rethrown as the coordinator's own error, so that the
 * consumer rejoins and fetches the unit again (at-least-once repeats it) instead of crashing.
 */
export async function commitUnit(consumer: Consumer, unit: PublishUnit): Promise<void> {
  try {
    await consumer.commitOffsets([
      { topic: unit.topic, partition: unit.partition, offset: unit.nextOffset },
    ]);
  } catch (error) {
    throw lostMembership(error) ?? error;
  }
}

/**
 * Exactly-once with Kafka transactions. kafkajs does not implement KIP-447 (consumer group
 * metadata in TxnOffsetCommit), so each assigned input partition gets its own transactional
 * producer with the id `<prefix>-<group>-<topic>-<partition>`. Whoever owns a partition after a
 * rebalance or a restart initialises the producer of that id, which bumps its epoch: the previous
 * owner (a zombie) is fenced and its open transaction aborted. Only then are the committed offsets
 * read, so records a zombie committed just before it was fenced are skipped, not repeated.
 *
 * Each unit (labelled records, dead letters and the input offset) is one transaction; consumers of
 * the output topic must read read_committed.
 */
export class ExactlyOnceSink implements OutputSink {
  readonly delivery = 'exactly-once' as const;
  private readonly options: ExactlyOnceSinkOptions;
  private readonly producers = new Map<string, Producer>();
  private readonly admin: Admin;

  constructor(options: ExactlyOnceSinkOptions) {
    this.options = options;
    this.admin = options.kafka.admin();
  }

  /** The transactional id of one input partition. */
  transactionalId(topic: string, partition: number): string {
    const { transactionalIdPrefix, groupId } = this.options;
    return `${transactionalIdPrefix}-${groupId}-${topic}-${partition}`;
  }

  async start(): Promise<void> {
    await this.admin.connect();
  }

  async claim(topic: string, partition: number): Promise<string | undefined> {
    const id = this.transactionalId(topic, partition);
    if (!this.producers.has(id)) {
      const producer = this.options.kafka.producer({
        transactionalId: id,
        idempotent: true,
        // kafkajs's advice for idempotent producers: never give up on a retriable error. The
        // short first back-off is for CONCURRENT_TRANSACTIONS, which the broker answers while it
        // still writes the previous commit's markers (milliseconds); the client default (200 ms)
        // would stall the partition for that long several times per hundred transactions.
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 20, maxRetryTime: 10_000 },
        createPartitioner: Partitioners.DefaultPartitioner,
        maxInFlightRequests: 1,
        transactionTimeout: this.options.transactionTimeoutMs ?? 60_000,
      });
      await producer.connect();
      // The first transaction initialises the producer id of `id`: this is what fences a zombie.
      const fence = await producer.transaction();
      await fence.abort();
      this.producers.set(id, producer);
      this.options.logger.info('transactional producer ready', {
        transactionalId: id,
        partition,
      });
    }
    const offsets = await this.admin.fetchOffsets({
      groupId: this.options.groupId,
      topics: [topic],
    });
    const entry = offsets
      .find((t) => t.topic === topic)
      ?.partitions.find((p) => p.partition === partition);
    if (entry === undefined || entry.offset === '-1') return undefined;
    return entry.offset;
  }

  async release(topic: string, partitions: readonly number[]): Promise<void> {
    await Promise.all(
      partitions.map(async (partition) => {
        const id = this.transactionalId(topic, partition);
        const producer = this.producers.get(id);
        this.producers.delete(id);
        await producer?.disconnect();
      }),
    );
  }

  async publish(unit: PublishUnit): Promise<void> {
    const id = this.transactionalId(unit.topic, unit.partition);
    if (!this.producers.has(id)) await this.claim(unit.topic, unit.partition);
    const producer = this.producers.get(id) as Producer;
    const transaction = await producer.transaction();
    try {
      const { outputTopic, dlqTopic, maxRequestBytes } = this.options;
      const compression = compressionType(this.options.compression ?? 'none');
      for (const request of produceRequests(unit, outputTopic, dlqTopic, maxRequestBytes)) {
        await transaction.sendBatch({ topicMessages: request, acks: -1, compression });
      }
      await transaction.sendOffsets({
        consumerGroupId: this.options.groupId,
        topics: [
          {
            topic: unit.topic,
            partitions: [{ partition: unit.partition, offset: unit.nextOffset }],
          },
        ],
      });
      await transaction.commit();
    } catch (error) {
      try {
        await transaction.abort();
      } catch (abortError) {
        this.options.logger.warn('transaction abort failed', { transactionalId: id, abortError });
      }
      // A producer in an unknown state is not reused: the next unit fences and starts afresh.
      this.producers.delete(id);
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const producers = [...this.producers.values()];
    this.producers.clear();
    const results = await Promise.allSettled([
      ...producers.map((p) => p.disconnect()),
      this.admin.disconnect(),
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}
