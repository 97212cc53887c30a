/**
 * Label, publish, label, publish: one chunk at a time, each published as its own unit before the
 * next is labelled (`DEC_MAX_IN_FLIGHT_BATCHES` = 1). The batch heartbeats while a unit publishes.
 */
import type { PartitionBatch, SourceRecord } from '../ports.js';
import type { OnlinePipeline, UnitSteps } from './unit-pipeline.js';
import { chunks, live, publishUnit } from './unit-pipeline.js';

export class SequentialPipeline implements OnlinePipeline {
  readonly queuesUnits = false;

  constructor(private readonly steps: UnitSteps) {}

  async run(batch: PartitionBatch, records: readonly SourceRecord[]): Promise<void> {
    let publishing: Promise<void> | undefined;
    try {
      for (const chunk of chunks(records, this.steps.batchMaxRecords)) {
        if (!live(batch)) break;
        await publishing;
        publishing = undefined;
        // A newer model is taken between chunks.
        await this.steps.nextVersion();
        const prepared = await this.steps.label(chunk);
        if (prepared === undefined || !live(batch)) break;
        publishing = publishUnit(this.steps, batch, prepared);
        await batch.heartbeat();
      }
    } catch (error) {
      // Never leave a unit publishing behind: after a rebalance it could commit under a new owner.
      await Promise.allSettled([publishing]);
      throw error;
    }
    await publishing;
  }
}
