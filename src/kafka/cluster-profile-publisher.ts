import type { Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { ClusterProfileEncoder } from '../codec/cluster-profile-codec.js';
import type { ClusterProfile } from '../model/cluster-profile.js';
import type { ClusterProfileSink } from '../worker/ports.js';

/** The header the labelled records carry too (ModelVersionHeader, worker/serving-model.ts). */
const modelVersionHeader = 'dec-model-version';

/**
 * Writes cluster profiles to the compacted clusters topic: key = cluster id as decimal text, so
 * compaction keeps each cluster's latest profile, and a retired id gets a tombstone. One request
 * with acks=all per model version; the producer connects on the first one.
 */
export class KafkaClusterProfileSink implements ClusterProfileSink {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly encode: ClusterProfileEncoder,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async publish(
    profiles: readonly ClusterProfile[],
    retired: readonly number[] = [],
  ): Promise<void> {
    if (profiles.length === 0) return;
    this.connected ??= this.producer.connect();
    await this.connected;
    const headers = { [modelVersionHeader]: String(profiles[0]!.modelVersion) };
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [
        ...profiles.map((profile) => ({
          key: String(profile.cluster),
          value: this.encode(profile),
          headers,
        })),
        // A tombstone: compaction drops the retired id's record, so the topic holds the live ids.
        ...retired.map((id) => ({ key: String(id), value: null, headers })),
      ],
    });
  }

  async close(): Promise<void> {
    if (this.connected === undefined) return;
    await this.producer.disconnect();
  }
}
