import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PoisonRecordError, UsageError } from '../../../src/errors.js';
import {
  SnapshotAssigner,
  assignRecords,
  trainSnapshot,
} from '../../../src/model/build-snapshot.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/model/snapshot-codec.js';

/** Two tight groups far apart on a vector field, plus a scalar with a large offset. */
const records = Array.from({ length: 40 }, (_, i) => {
  const side = i % 2 === 0 ? -1 : 1;
  const jitter = ((i * 37) % 11) / 100;
  return { v: [side * 5 + jitter, side * 5 - jitter], meta: { w: 1000 + side + jitter } };
});

const options = {
  clusters: 2,
  seed: 1,
  hiddenSizes: [8],
  embeddingSize: 2,
  pretrainEpochs: 5,
  kmeansRestarts: 2,
  maxIterations: 20,
  batchSize: 16,
  backend: 'cpu' as const,
};

void test('trainSnapshot() builds version 1 with the feature spec, standardisation and metrics', async () => {
  const before = Date.now();
  const snapshot = await trainSnapshot(records, ['v', 'meta.w'], options);
  assert.equal(snapshot.version, 1);
  assert.ok(Date.parse(snapshot.createdAt) >= before - 1000);
  assert.deepEqual(snapshot.featureSpec, { fields: ['v', 'meta.w'], widths: [2, 1] });
  assert.ok(Math.abs((snapshot.standardisation.mean[2] as number) - 1000) < 0.1);
  assert.equal(snapshot.parameters.clusters, 2);
  assert.equal(snapshot.metrics.samples, 40);
  assert.equal(snapshot.metrics.inputDims, 3);
  assert.deepEqual(decodeSnapshot(encodeSnapshot(snapshot)).featureSpec, snapshot.featureSpec);

  // The two groups land in different clusters; a poison record is reported, not thrown.
  const result = assignRecords(snapshot, [records[0], { v: [1] }, records[1]]);
  assert.deepEqual(Array.from(result.row), [0, -1, 1]);
  assert.equal(result.batch.rows, 2);
  assert.notEqual(result.batch.cluster[0], result.batch.cluster[1]);
  assert.equal(result.poisoned.length, 1);
  assert.equal(result.poisoned[0]?.index, 1);
  assert.equal(result.poisoned[0]?.error.field, 'v');

  const assigner = new SnapshotAssigner(snapshot);
  try {
    const empty = assigner.assignRecords([{ nothing: true }]);
    assert.equal(empty.batch.rows, 0);
    assert.equal(assigner.version, 1);
  } finally {
    assigner.dispose();
  }
});

void test('trainSnapshot() skips poison records through onPoison, or throws without it', async () => {
  const dirty = [{ v: [1, 'x'], meta: { w: 1 } }, ...records.slice(0, 10)];
  await assert.rejects(trainSnapshot(dirty, ['v', 'meta.w'], options), PoisonRecordError);
  const skipped: number[] = [];
  const snapshot = await trainSnapshot(
    dirty,
    ['v', 'meta.w'],
    { ...options, pretrainEpochs: 1, maxIterations: 1, version: 7 },
    { onPoison: (index) => skipped.push(index) },
  );
  assert.deepEqual(skipped, [0]);
  assert.equal(snapshot.version, 7);
  assert.equal(snapshot.metrics.samples, 10);
});

void test('trainSnapshot() refuses empty input and more clusters than records', async () => {
  await assert.rejects(trainSnapshot([], ['v'], options), UsageError);
  await assert.rejects(
    trainSnapshot(records.slice(0, 3), ['v'], { ...options, clusters: 4 }),
    /4 clusters in 3 records/,
  );
});
