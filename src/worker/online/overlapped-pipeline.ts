/**
 * The next chunk is labelled while the previous one is published (`DEC_MAX_IN_FLIGHT_BATCHES` ≥ 2).
 * Publishing stays in offset order, one unit per chunk, and a failed unit stops the ones after it.
 * A sink that publishes one unit at a time has at most one; a sink that queues units in order gets
 * the next one before the previous one is acknowledged (at most two: the one it writes and the
 * next), so it never waits for this thread between two units.
 */
import type { Labeller, PartitionBatch, SourceRecord } from '../ports.js';
import type { OnlinePipeline, PreparedUnit, UnitSteps } from './unit-pipeline.js';
import { chunks, live, publishUnit } from './unit-pipeline.js';

/** A chunk being labelled, and whether its labelling has finished. */
interface LabelSlot {
  readonly labelled: Promise<PreparedUnit | undefined>;
  settled: boolean;
}

function labelSlot(labelled: Promise<PreparedUnit | undefined>): LabelSlot {
  const slot: LabelSlot = { labelled, settled: false };
  const settle = (): void => {
    slot.settled = true;
  };
  // Also marks a failure as handled until the slot is awaited.
  labelled.then(settle, settle);
  return slot;
}

/** The units handed to the sink and not yet published, oldest first. */
class UnitsWithSink {
  private readonly units: Promise<void>[] = [];

  add(unit: Promise<void>): void {
    this.units.push(unit);
  }

  /** Waits for the oldest units until fewer than `most` remain. */
  async below(most: number): Promise<void> {
    while (this.units.length >= most) await this.units.shift();
  }

  /** Waits for every unit, in order: a later one's failure may be an earlier one's. */
  async drain(): Promise<void> {
    while (this.units.length > 0) await this.units.shift();
  }

  /** Waits for every unit to settle, ignoring failures. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.units);
  }
}

export class OverlappedPipeline implements OnlinePipeline {
  readonly queuesUnits: boolean;
  private readonly unitsAtOnce: number;

  /**
   * @param queuesUnits whether the sink queues units in order (then two units may be with it).
   * @param helper beside a labelling thread, a labeller on this thread: when the thread has not
   *   finished a chunk by the time it could be published, this thread labels the next one
   *   meanwhile instead of waiting.
   */
  constructor(
    private readonly steps: UnitSteps,
    queuesUnits: boolean,
    private readonly helper: Labeller | undefined,
  ) {
    this.queuesUnits = queuesUnits;
    this.unitsAtOnce = queuesUnits ? 2 : 1;
  }

  async run(batch: PartitionBatch, records: readonly SourceRecord[]): Promise<void> {
    const list = [...chunks(records, this.steps.batchMaxRecords)];
    const slots: LabelSlot[] = [];
    const ask = async (i: number, labeller?: Labeller): Promise<LabelSlot> => {
      // A newer model is taken between chunks.
      await this.steps.nextVersion();
      const slot = labelSlot(this.steps.label(list[i] as SourceRecord[], labeller));
      slots[i] = slot;
      return slot;
    };
    const sink = new UnitsWithSink();
    try {
      for (let i = 0; i < list.length; i++) {
        if (!live(batch)) break;
        // Labelled while the units before it are with the sink (by the helper, or on the thread).
        const slot = slots[i] ?? (await ask(i));
        await sink.below(this.unitsAtOnce);
        // The thread has not finished it (a batch just began, or the thread gets less CPU than
        // this one): rather than wait, this thread labels the chunk after it meanwhile.
        const next = i + 1;
        if (this.helper !== undefined && !slot.settled && next < list.length) {
          if (slots[next] === undefined && live(batch)) await ask(next, this.helper);
        }
        const prepared = await slot.labelled;
        if (prepared === undefined || !live(batch)) break;
        sink.add(publishUnit(this.steps, batch, prepared));
        await batch.heartbeat();
      }
    } catch (error) {
      // Never leave a unit publishing behind: after a rebalance it could commit under a new owner.
      await sink.settle();
      throw error;
    }
    await sink.drain();
  }
}
