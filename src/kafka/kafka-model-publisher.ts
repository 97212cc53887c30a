import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { DecStreamError } from '../errors.js';
import { encodeSnapshot } from '../model/snapshot-codec.js';
import type { ModelSnapshot } from '../model/types.js';
import type { Logger } from '../runtime/logger.js';
import type { ModelPublisher } from '../worker/ports.js';
import type { ModelManifest } from './model-messages.js';
import { modelMessages, versionTombstones } from './model-messages.js';
import { recordBudgetBytes } from './topic-limits.js';

export interface KafkaModelPublisherOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Fixed for the group: the next trainer's producer fences this one's. */
  readonly transactionalId: string;
  /** The models topic's `max.message.bytes`: each chunk, with its key, fits in one batch. */
  readonly maxMessageBytes: number;
  /** Versions left on the topic; older ones get tombstones. */
  readonly keepVersions: number;
  readonly logger: Logger;
}

/** Room left in a message for its key and record framing. */
const ChunkHeadroomBytes = 1024;

/**
 * Publishes model versions to the compacted models topic through a producer with one fixed
 * transactional id. Starting it initialises that id, which fences the previous trainer and aborts
 * its open transaction; from then on the previous trainer's publishes fail. Each version goes in
 * one transaction: its chunks, its manifest, and tombstones for versions beyond `keepVersions`.
 * After a failure the producer is not reused (re-initialising the id would fence the trainer that
 * took over): this publisher stays failed and the trainer's role must be re-won.
 */
export class KafkaModelPublisher implements ModelPublisher {
  private readonly options: KafkaModelPublisherOptions;
  private readonly producer: Producer;
  private readonly published: ModelManifest[] = [];
  private failed: unknown;
  private started = false;

  constructor(options: KafkaModelPublisherOptions) {
    this.options = options;
    this.producer = options.kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionTimeout: 60_000,
    });
  }

  /** Connects and fences the previous holder of the transactional id. */
  async start(): Promise<void> {
    await this.producer.connect();
    const fence = await this.producer.transaction();
    await fence.abort();
    this.started = true;
    this.options.logger.info('model publisher ready', {
      transactionalId: this.options.transactionalId,
      topic: this.options.topic,
    });
  }

  async publish(snapshot: ModelSnapshot): Promise<void> {
    if (this.failed !== undefined || !this.started) {
      throw new DecStreamError('MODEL_PUBLISHER_FENCED', 'this member no longer publishes models', {
        cause: this.failed,
      });
    }
    const { topic, maxMessageBytes } = this.options;
    const chunkBytes = Math.max(1, recordBudgetBytes(maxMessageBytes) - ChunkHeadroomBytes);
    const messages = modelMessages(
      snapshot.version,
      snapshot.createdAt,
      encodeSnapshot(snapshot),
      chunkBytes,
    );
    const manifest = JSON.parse(
      (messages[messages.length - 1]?.value as Buffer).toString(),
    ) as ModelManifest;
    const retired = this.published.slice(
      0,
      Math.max(0, this.published.length + 1 - this.options.keepVersions),
    );
    const transaction = await this.producer.transaction();
    try {
      // One message per request: the topic's limit bounds a record batch, not a single record.
      for (const message of [...messages, ...retired.flatMap(versionTombstones)]) {
        await transaction.send({ topic, acks: -1, messages: [message] });
      }
      await transaction.commit();
    } catch (error) {
      this.failed = error;
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    this.published.splice(0, retired.length);
    this.published.push(manifest);
    this.options.logger.info('model version published', {
      modelVersion: snapshot.version,
      bytes: manifest.bytes,
      chunks: manifest.chunks,
      retiredVersions: retired.map((m) => m.version),
    });
  }

  /** Versions this publisher knows are on the topic (it retires them in order), oldest first. */
  remember(manifests: readonly ModelManifest[]): void {
    this.published.push(...manifests);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
