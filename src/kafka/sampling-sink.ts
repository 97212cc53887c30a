import type { Consumer } from 'kafkajs';
import type { OutputSink, PublishUnit } from '../worker/ports.js';

/** How often the trainer's position is committed at most: it is a sample, not an output. */
const CommitIntervalMs = 5_000;

/**
 * The trainer's sink in scale-out: the trainer labels the input only to learn from it (its
 * refinement window), so nothing is written. Its own group's offsets are committed every few
 * seconds, so the next trainer samples on from about where this one stopped instead of reading
 * the topic from the start.
 */
export class SamplingSink implements OutputSink {
  readonly delivery = 'at-least-once' as const;
  private readonly pending = new Map<
    string,
    { topic: string; partition: number; offset: string }
  >();
  private lastCommitMs = 0;

  constructor(private readonly consumer: Consumer) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** kafkajs starts from the group's committed offset: nothing below it is fetched. */
  claim(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  release(topic: string, partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) this.pending.delete(`${topic}:${partition}`);
    return Promise.resolve();
  }

  async publish(unit: PublishUnit): Promise<void> {
    const { topic, partition, nextOffset } = unit;
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset: nextOffset });
    if (Date.now() - this.lastCommitMs < CommitIntervalMs) return;
    await this.commit();
  }

  async close(): Promise<void> {
    await this.commit();
  }

  private async commit(): Promise<void> {
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.lastCommitMs = Date.now();
    // Best effort: a commit refused during a rebalance only means the next trainer samples a
    // little of the same input again.
    if (offsets.length > 0) await this.consumer.commitOffsets(offsets).catch(() => undefined);
  }
}
