/**
 * A whole batch as one unit (exactly-once's discipline, where the units of a batch form one
 * transaction): label it chunk by chunk, then publish all of it at once. A stale batch publishes
 * nothing; a stopping stream publishes the chunks labelled so far.
 */
import type { Labeller, PartitionBatch, SourceRecord } from '../ports.js';
import type { OnlinePipeline, PreparedUnit, UnitSteps } from './unit-pipeline.js';
import { chunks, live } from './unit-pipeline.js';

export class OneUnitPipeline implements OnlinePipeline {
  readonly queuesUnits = false;

  /**
   * @param helper beside a labelling thread, a labeller on this thread that labels every other
   *   chunk, since this thread has nothing else to do until the whole unit is labelled.
   */
  constructor(
    private readonly steps: UnitSteps,
    private readonly helper: Labeller | undefined,
  ) {}

  async run(batch: PartitionBatch, records: readonly SourceRecord[]): Promise<void> {
    const parts: PreparedUnit[] = [];
    const labelling =
      this.helper === undefined
        ? this.labelOneByOne(batch, records)
        : this.labelOnBothThreads(batch, records, this.helper);
    for (const labelled of labelling) {
      const prepared = await labelled;
      if (prepared === undefined) break;
      parts.push(prepared);
    }
    const last = parts[parts.length - 1];
    if (last === undefined || batch.isStale()) return;
    await this.steps.deliver(batch, parts);
    batch.resolve(last.lastOffset);
    await batch.heartbeat();
  }

  /** Chunk after chunk, each labelled once the caller has taken the one before. */
  private *labelOneByOne(
    batch: PartitionBatch,
    records: readonly SourceRecord[],
  ): Generator<Promise<PreparedUnit | undefined>> {
    for (const chunk of chunks(records, this.steps.batchMaxRecords)) {
      yield (async () => {
        if (!live(batch)) return undefined;
        // A newer model is taken between chunks, as when chunks publish one by one.
        await this.steps.nextVersion();
        return this.steps.label(chunk);
      })();
    }
  }

  /**
   * The chunks of the unit, being labelled, in offset order. The version is taken once for the
   * unit: the thread gets the even chunks at once and this thread labels the odd ones meanwhile. A
   * unit of one chunk is labelled in two halves, one on each thread.
   */
  private labelOnBothThreads(
    batch: PartitionBatch,
    records: readonly SourceRecord[],
    helper: Labeller,
  ): Promise<PreparedUnit | undefined>[] {
    const size = this.steps.batchMaxRecords;
    const list = [
      ...chunks(records, records.length <= size ? Math.ceil(records.length / 2) : size),
    ];
    const swapped = this.steps.nextVersion();
    const onThread = list.map((chunk, i) =>
      i % 2 === 0 ? swapped.then(() => this.labelWhileLive(batch, chunk)) : undefined,
    );
    for (const labelled of onThread) labelled?.catch(() => undefined);
    // The odd chunks one after the other here, while the thread works through the even ones.
    let here: Promise<unknown> = swapped;
    return list.map((chunk, i) => {
      const onItsThread = onThread[i];
      if (onItsThread !== undefined) return onItsThread;
      const labelled = here.then(
        () => this.labelWhileLive(batch, chunk, helper),
        () => undefined,
      );
      labelled.catch(() => undefined);
      here = labelled;
      return labelled;
    });
  }

  /** Labels `chunk` unless the batch stopped running or went stale. */
  private labelWhileLive(
    batch: PartitionBatch,
    chunk: readonly SourceRecord[],
    labeller?: Labeller,
  ): Promise<PreparedUnit | undefined> {
    if (!live(batch)) return Promise.resolve(undefined);
    return this.steps.label(chunk, labeller);
  }
}
