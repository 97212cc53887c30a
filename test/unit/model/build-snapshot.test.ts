import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PoisonRecordError, UsageError } from '../../../src/errors.js';
import { resolveScaling, trainSnapshot } from '../../../src/model/build-snapshot.js';
import { ModelVersion, assignRecords } from '../../../src/model/model-version.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/model/snapshot-codec.js';
import { tinyTraining } from './mixture.js';

/** Two tight groups far apart on a vector field, plus a scalar with a large offset. */
const records = Array.from({ length: 40 }, (_, i) => {
  const side = i % 2 === 0 ? -1 : 1;
  const jitter = ((i * 37) % 11) / 100;
  return { v: [side * 5 + jitter, side * 5 - jitter], meta: { w: 1000 + side + jitter } };
});

const options = tinyTraining(2, 16);

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
  assert.equal(result.rejected.length, 1);
  assert.equal(result.rejected[0]?.index, 1);
  assert.equal(result.rejected[0]?.error.field, 'v');

  const model = new ModelVersion(snapshot);
  try {
    const empty = model.assignRecords([{ nothing: true }]);
    assert.equal(empty.batch.rows, 0);
    assert.equal(model.version, 1);
  } finally {
    model.dispose();
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

void test('auto scaling shares one scale across vector fields and scales scalars per feature', () => {
  assert.equal(resolveScaling('auto', [784]), 'global');
  assert.equal(resolveScaling('auto', [2, 3]), 'global');
  assert.equal(resolveScaling('auto', [2, 1]), 'per-feature');
  assert.equal(resolveScaling('auto', [1, 1]), 'per-feature');
  assert.equal(resolveScaling('none', [784]), 'none');
});

/** 4 × 4 images: a bright bar on the left or on the right. */
const images = Array.from({ length: 32 }, (_, i) => {
  const column = i % 2 === 0 ? 0 : 3;
  const pixels = Array.from({ length: 16 }, (_, p) =>
    p % 4 === column ? 1 : 0.05 * ((i + p) % 3),
  );
  return { pixels };
});
const imageOptions = {
  ...options,
  // About the deep model's training: with the guard on, k-means serves these trivial bars.
  guard: false,
  imageAugmentation: { width: 4, height: 4, maxShift: 0.5, maxRotationDegrees: 10 },
};

void test('image augmentation trains deterministically, keeps its spec in the snapshot and finds both bars', async () => {
  const a = await trainSnapshot(images, ['pixels'], imageOptions);
  const b = await trainSnapshot(images, ['pixels'], imageOptions);
  assert.deepEqual(a.parameters.centroids, b.parameters.centroids);
  assert.deepEqual(a.parameters.encoder[0]?.weights, b.parameters.encoder[0]?.weights);
  const plain = await trainSnapshot(images, ['pixels'], { ...options, guard: false });
  assert.notDeepEqual(a.parameters.encoder[0]?.weights, plain.parameters.encoder[0]?.weights);
  // 'auto' gave one shared scale; the spec survives the snapshot codec.
  assert.equal(new Set(a.standardisation.std).size, 1);
  assert.deepEqual(decodeSnapshot(encodeSnapshot(a)).options.imageAugmentation, {
    width: 4,
    height: 4,
    maxShift: 0.5,
    maxRotationDegrees: 10,
  });
  const result = assignRecords(a, images.slice(0, 2));
  assert.notEqual(result.batch.cluster[0], result.batch.cluster[1]);
});

void test('image augmentation refuses per-feature scaling and images of the wrong size', async () => {
  await assert.rejects(
    trainSnapshot(images, ['pixels'], { ...imageOptions, scaling: 'per-feature' }),
    (e: unknown) => e instanceof UsageError && /needs scaling 'global' or 'none'/.test(e.message),
  );
  await assert.rejects(
    trainSnapshot(images, ['pixels'], {
      ...imageOptions,
      imageAugmentation: { ...imageOptions.imageAugmentation, width: 5 },
    }),
    (e: unknown) =>
      e instanceof UsageError && /5x4 has 20 pixels but records have 16/.test(e.message),
  );
});

void test('the default pipeline trains the same model for the same records and seed, in any record order', async () => {
  // Two interleaved rings' worth of points: enough structure for every stage (the manifold start,
  // distillation, the guard) to run, small enough to train in seconds.
  const ring = Array.from({ length: 120 }, (_, i) => {
    const angle = (i * 2.399963) % (2 * Math.PI);
    const radius = i % 2 === 0 ? 1 : 3;
    return { x: radius * Math.cos(angle), y: radius * Math.sin(angle), z: ((i * 7) % 5) / 50 };
  });
  const defaults = { clusters: 2, seed: 3, backend: 'cpu' as const, hiddenSizes: [16, 16] };
  const a = await trainSnapshot(ring, ['x', 'y', 'z'], defaults);
  const b = await trainSnapshot(ring, ['x', 'y', 'z'], defaults);
  const reversed = await trainSnapshot([...ring].reverse(), ['x', 'y', 'z'], defaults);
  for (const other of [b, reversed]) {
    assert.deepEqual(other.parameters, a.parameters);
    assert.deepEqual(other.standardisation, a.standardisation);
    assert.deepEqual(other.metrics.selection, a.metrics.selection);
  }
  const otherSeed = await trainSnapshot(ring, ['x', 'y', 'z'], { ...defaults, seed: 4 });
  assert.notDeepEqual(otherSeed.metrics.selection, a.metrics.selection);
});
