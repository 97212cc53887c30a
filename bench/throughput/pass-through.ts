/**
 * The baseline: consume, produce the same records to the output topic, commit; no model. Two
 * clients, each used the way the worker uses kafkajs: batches of at most `chunk` records, produced
 * with acks=all, then the offset committed, one unit at a time, reading read_committed.
 */
import type {
  Consumer as PlatformaticConsumer,
  Message as PlatformaticMessage,
} from '@platformatic/kafka';
import {
  Consumer as PConsumer,
  FetchIsolationLevels,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer as PProducer,
} from '@platformatic/kafka';
import type { IHeaders } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { DefaultMaxRequestBytes, produceRequests } from '../../src/kafka/output-sink.js';
import type { OutboundMessage } from '../../src/worker/ports.js';
import type { Meter } from './meter.js';
import { fetchBytesPerPartition } from './settings.js';
import { benchKafka } from './topics.js';

export interface PassThroughJob {
  readonly brokers: readonly string[];
  readonly inputTopic: string;
  readonly outputTopic: string;
  readonly groupId: string;
  /** Records per produce + commit unit (the worker's DEC_BATCH_MAX_RECORDS). */
  readonly chunk: number;
}

export interface Running {
  close(): Promise<void>;
}

/** kafkajs, configured like src/kafka/kafka-record-stream.ts and the at-least-once sink. */
export async function kafkajsPassThrough(job: PassThroughJob, meter: Meter): Promise<Running> {
  const kafka = benchKafka(job.brokers, 'bench-pass-kafkajs');
  const consumer = kafka.consumer({
    groupId: job.groupId,
    readUncommitted: false,
    sessionTimeout: 15_000,
    heartbeatInterval: 3_000,
    maxBytesPerPartition: fetchBytesPerPartition(),
    maxWaitTimeInMs: 500,
  });
  const producer = kafka.producer({
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [job.inputTopic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const records = batch.messages;
      if (records.length === 0) return;
      meter.start();
      for (let from = 0; from < records.length; from += job.chunk) {
        if (!payload.isRunning() || payload.isStale()) return;
        const part = records.slice(from, from + job.chunk);
        const messages: OutboundMessage[] = part.map((m) => ({
          key: m.key,
          value: m.value,
          headers: definedHeaders(m.headers),
        }));
        const last = part[part.length - 1]!.offset;
        // Cut like the worker's sink: a partition's records in one request stay below the
        // broker's message.max.bytes (a fetched partition batch often maps to one partition).
        const unit = {
          topic: batch.topic,
          partition: batch.partition,
          nextOffset: String(BigInt(last) + 1n),
          labelled: messages,
          deadLetters: [],
        };
        for (const request of produceRequests(unit, job.outputTopic, job.outputTopic)) {
          await producer.sendBatch({ topicMessages: request, acks: -1 });
        }
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) },
        ]);
        payload.resolveOffset(last);
        meter.add(part.length);
        await payload.heartbeat();
      }
    },
  });
  return {
    close: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

/**
 * @platformatic/kafka 1.x: a consumer stream read one message at a time; a unit is closed when
 * `chunk` messages were read or nothing more is buffered, then produced (acks=all) and committed.
 */
export async function platformaticPassThrough(job: PassThroughJob, meter: Meter): Promise<Running> {
  const consumer: PlatformaticConsumer = new PConsumer({
    clientId: 'bench-pass-platformatic',
    groupId: job.groupId,
    bootstrapBrokers: [...job.brokers],
    sessionTimeout: 15_000,
    heartbeatInterval: 3_000,
    maxWaitTime: 500,
    maxBytesPerPartition: fetchBytesPerPartition(),
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  const producer = new PProducer({
    clientId: 'bench-pass-platformatic-out',
    bootstrapBrokers: [...job.brokers],
    acks: ProduceAcks.ALL,
  });
  const stream = await consumer.consume({
    topics: [job.inputTopic],
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
  });
  let stopped = false;
  const pending: PlatformaticMessage[] = [];
  const flush = async (): Promise<void> => {
    const unit = pending.splice(0, pending.length);
    if (unit.length === 0) return;
    // Requests below the broker's message.max.bytes, as the worker cuts them.
    for (const part of cutBelow(unit, DefaultMaxRequestBytes)) {
      await producer.send({
        messages: part.map((m) => ({
          topic: job.outputTopic,
          key: m.key,
          value: m.value,
          headers: m.headers,
        })),
        acks: ProduceAcks.ALL,
      });
    }
    // The last message of each partition commits everything before it in that partition.
    const lastOfPartition = new Map<number, PlatformaticMessage>();
    for (const m of unit) lastOfPartition.set(m.partition, m);
    await Promise.all(
      [...lastOfPartition.values()].map(
        (m) =>
          new Promise<void>((resolve, reject) => {
            void m.commit((error) => (error == null ? resolve() : reject(error)));
          }),
      ),
    );
    meter.add(unit.length);
  };
  const loop = (async () => {
    for await (const message of stream) {
      if (stopped) break;
      meter.start();
      pending.push(message);
      if (pending.length >= job.chunk || stream.readableLength === 0) await flush();
    }
  })();
  return {
    close: async () => {
      stopped = true;
      await stream.close();
      await loop.catch(() => undefined);
      await new Promise<void>((resolve, reject) => {
        consumer.close(true, (error) => (error == null ? resolve() : reject(error)));
      });
      await producer.close();
    },
  };
}

/** kafkajs header values without the undefined ones its type allows. */
function definedHeaders(headers: IHeaders | undefined): OutboundMessage['headers'] {
  const out: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Consecutive runs of `messages` whose keys and values stay below `maxBytes` (one at least). */
function cutBelow(
  messages: readonly PlatformaticMessage[],
  maxBytes: number,
): PlatformaticMessage[][] {
  const parts: PlatformaticMessage[][] = [];
  let current: PlatformaticMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}
