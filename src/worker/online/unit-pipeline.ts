/**
 * What the online loop does with one fetched batch of one partition: cut it into units, label
 * them and hand them to the sink. There is one pipeline per publishing discipline, chosen once when
 * the worker is built (`chooseOnlinePipeline`), so each reads on its own.
 */
import type { LabelledChunk, Labeller, PartitionBatch, SourceRecord } from '../ports.js';

/** A chunk labelled and ready to publish. */
export interface PreparedUnit {
  readonly chunk: LabelledChunk;
  readonly records: number;
  readonly version: number;
  readonly lastOffset: string;
  readonly labelSeconds: number;
  /** The serving model trained on these records: the bootstrap window, labelled once it serves. */
  readonly trainedOn?: boolean;
}

/** What a pipeline asks of the worker: the steps every discipline shares. */
export interface UnitSteps {
  /** Most records in one labelled chunk. */
  readonly batchMaxRecords: number;
  /** Serves a newer version from the refiner, if there is one; called between chunks. */
  nextVersion(): Promise<void>;
  /** Labels a chunk with the version serving now (on `labeller`, by default the worker's own). */
  label(records: readonly SourceRecord[], labeller?: Labeller): Promise<PreparedUnit | undefined>;
  /** Publishes labelled chunks of the batch's partition as one unit and commits past them. */
  deliver(batch: PartitionBatch, parts: readonly PreparedUnit[]): Promise<void>;
}

/** Labels and publishes the unpublished records of one batch, in offset order. */
export interface OnlinePipeline {
  /**
   * Whether units go to a sink that queues them in order: the sink then keeps each partition's
   * units in order and stops after a failure itself, so batches of several partitions may be
   * handled at once.
   */
  readonly queuesUnits: boolean;
  run(batch: PartitionBatch, records: readonly SourceRecord[]): Promise<void>;
}

/** Whether the batch may still publish: its stream runs and a rebalance has not taken it away. */
export function live(batch: PartitionBatch): boolean {
  return batch.isRunning() && !batch.isStale();
}

/**
 * Hands one labelled chunk to the sink as its own unit and resolves the batch past it once it is
 * published. The promise is awaited later; a failure meanwhile does not count as unhandled.
 */
export function publishUnit(
  steps: UnitSteps,
  batch: PartitionBatch,
  prepared: PreparedUnit,
): Promise<void> {
  const published = steps.deliver(batch, [prepared]).then(() => batch.resolve(prepared.lastOffset));
  published.catch(() => undefined);
  return published;
}

/** Consecutive slices of at most `size` records. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  const step = Math.max(1, size);
  for (let i = 0; i < items.length; i += step) yield items.slice(i, i + step);
}
