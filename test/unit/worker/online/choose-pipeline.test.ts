import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InProcessLabeller } from '../../../../src/worker/labeller/in-process-labeller.js';
import { JsonCodec } from '../../../../src/codec/json-codec.js';
import { chooseOnlinePipeline } from '../../../../src/worker/online/choose-pipeline.js';
import { OneUnitPipeline } from '../../../../src/worker/online/one-unit-pipeline.js';
import { OverlappedPipeline } from '../../../../src/worker/online/overlapped-pipeline.js';
import { SequentialPipeline } from '../../../../src/worker/online/sequential-pipeline.js';
import type { UnitSteps } from '../../../../src/worker/online/unit-pipeline.js';
import type { OutputSink } from '../../../../src/worker/ports.js';

const steps: UnitSteps = {
  batchMaxRecords: 10,
  nextVersion: () => Promise.resolve(),
  label: () => Promise.resolve(undefined),
  deliver: () => Promise.resolve(),
};

function choose(
  sink: Pick<OutputSink, 'delivery' | 'queuesInOrder'>,
  settings: { unitPerBatch?: boolean; maxInFlightBatches?: number } = {},
): ReturnType<typeof chooseOnlinePipeline> {
  return chooseOnlinePipeline(steps, {
    unitPerBatch: settings.unitPerBatch,
    maxInFlightBatches: settings.maxInFlightBatches,
    sink,
    helper: undefined,
  });
}

void test('the pipeline follows the delivery mode and how many batches may be in flight', () => {
  const atLeastOnce = { delivery: 'at-least-once', queuesInOrder: false } as const;
  const queuing = { delivery: 'at-least-once', queuesInOrder: true } as const;
  const exactlyOnce = { delivery: 'exactly-once', queuesInOrder: false } as const;

  assert.ok(choose(exactlyOnce, { maxInFlightBatches: 2 }) instanceof OneUnitPipeline);
  assert.ok(choose(atLeastOnce, { unitPerBatch: true }) instanceof OneUnitPipeline);
  assert.ok(choose(exactlyOnce, { unitPerBatch: false }) instanceof SequentialPipeline);
  assert.ok(choose(atLeastOnce) instanceof SequentialPipeline);
  assert.ok(choose(queuing, { maxInFlightBatches: 1 }) instanceof SequentialPipeline);
  assert.ok(choose(atLeastOnce, { maxInFlightBatches: 2 }) instanceof OverlappedPipeline);

  // Only an overlapped pipeline into a sink that queues units in order queues them.
  assert.equal(choose(queuing, { maxInFlightBatches: 2 }).queuesUnits, true);
  assert.equal(choose(atLeastOnce, { maxInFlightBatches: 2 }).queuesUnits, false);
  assert.equal(choose(queuing, { maxInFlightBatches: 2, unitPerBatch: true }).queuesUnits, false);
});

void test('beside a labelling thread a batch of one chunk goes to the one-unit pipeline', async () => {
  const labelled: number[] = [];
  const delivered: number[][] = [];
  const helper = new InProcessLabeller(new JsonCodec());
  const pipeline = chooseOnlinePipeline(
    {
      ...steps,
      label: (records) => {
        labelled.push(records.length);
        const lastOffset = records[records.length - 1]?.offset ?? '0';
        return Promise.resolve({
          chunk: undefined as never,
          records: records.length,
          version: 1,
          lastOffset,
          labelSeconds: 0,
        });
      },
      deliver: (_batch, parts) => {
        delivered.push(parts.map((p) => p.records));
        return Promise.resolve();
      },
    },
    {
      unitPerBatch: undefined,
      maxInFlightBatches: 1,
      sink: { delivery: 'at-least-once', queuesInOrder: false },
      helper,
    },
  );
  const resolved: string[] = [];
  const batch = {
    topic: 'in',
    partition: 0,
    highWatermark: '100',
    records: [],
    isRunning: () => true,
    isStale: () => false,
    resolve: (offset: string) => resolved.push(offset),
    heartbeat: () => Promise.resolve(),
  };
  const records = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      topic: 'in',
      partition: 0,
      offset: String(i),
      key: null,
      value: null,
      headers: {},
      timestampMs: 0,
    }));

  // Ten records, one chunk: labelled in two halves, published as one unit.
  await pipeline.run(batch, records(10));
  assert.deepEqual(labelled, [5, 5]);
  assert.deepEqual(delivered, [[5, 5]]);
  // Twenty-five records: three chunks, each labelled and published as its own unit.
  labelled.length = 0;
  delivered.length = 0;
  await pipeline.run(batch, records(25));
  assert.deepEqual(labelled, [10, 10, 5]);
  assert.deepEqual(delivered, [[10], [10], [5]]);
  assert.deepEqual(resolved, ['9', '9', '19', '24']);
  await helper.close();
});
