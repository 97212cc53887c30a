import type { Labeller, OutputSink, PartitionBatch, SourceRecord } from '../ports.js';
import { OneUnitPipeline } from './one-unit-pipeline.js';
import { OverlappedPipeline } from './overlapped-pipeline.js';
import { SequentialPipeline } from './sequential-pipeline.js';
import type { OnlinePipeline, UnitSteps } from './unit-pipeline.js';

export interface PipelineChoice {
  /** Publish each batch as one unit; default: under exactly-once delivery. */
  readonly unitPerBatch: boolean | undefined;
  /** 1: sequential; 2 or more: the next chunk is labelled while the previous one publishes. */
  readonly maxInFlightBatches: number | undefined;
  readonly sink: Pick<OutputSink, 'delivery' | 'queuesInOrder'>;
  /** A labeller on this thread beside a labelling thread, if there is one. */
  readonly helper: Labeller | undefined;
}

/**
 * The online pipeline for the worker's settings, chosen once: a whole batch as one unit
 * (exactly-once), or one unit per chunk, either sequential or overlapped.
 */
export function chooseOnlinePipeline(steps: UnitSteps, choice: PipelineChoice): OnlinePipeline {
  const { sink, helper } = choice;
  const oneUnit = new OneUnitPipeline(steps, helper);
  if (choice.unitPerBatch ?? sink.delivery === 'exactly-once') return oneUnit;
  const chunked =
    (choice.maxInFlightBatches ?? 1) > 1
      ? new OverlappedPipeline(steps, sink.queuesInOrder === true, helper)
      : new SequentialPipeline(steps);
  if (helper === undefined) return chunked;
  return new OneChunkAsHalves(chunked, oneUnit, steps.batchMaxRecords);
}

/**
 * Beside a labelling thread, a batch of one chunk goes to the one-unit pipeline: it is one unit
 * either way, and so both threads can label half of it.
 */
class OneChunkAsHalves implements OnlinePipeline {
  readonly queuesUnits: boolean;

  constructor(
    private readonly chunked: OnlinePipeline,
    private readonly oneUnit: OnlinePipeline,
    private readonly batchMaxRecords: number,
  ) {
    this.queuesUnits = chunked.queuesUnits;
  }

  run(batch: PartitionBatch, records: readonly SourceRecord[]): Promise<void> {
    const pipeline = records.length <= this.batchMaxRecords ? this.oneUnit : this.chunked;
    return pipeline.run(batch, records);
  }
}
