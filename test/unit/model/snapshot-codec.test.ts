import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { SnapshotError } from '../../../src/errors.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  readSnapshotSummary,
} from '../../../src/model/snapshot-codec.js';
import type { ModelSnapshot } from '../../../src/model/types.js';
import { tinySnapshot } from '../store/tiny-snapshot.js';

/** Rewrites the trailing sha256 so that a deliberately edited file passes the checksum. */
function reseal(bytes: Uint8Array): Uint8Array {
  const end = bytes.length - 32;
  bytes.set(createHash('sha256').update(bytes.subarray(0, end)).digest(), end);
  return bytes;
}

void test('a snapshot survives encode and decode bit for bit', () => {
  const original = tinySnapshot(3);
  const bytes = encodeSnapshot(original);
  const decoded = decodeSnapshot(bytes);
  assert.deepEqual(decoded, original);
  assert.ok(Number.isNaN(decoded.metrics.finalKl));
  assert.ok(decoded.parameters.centroids instanceof Float32Array);
  assert.deepEqual(encodeSnapshot(decoded), bytes);
});

void test('the summary reads version, time and sizes from the header alone', () => {
  const bytes = encodeSnapshot(tinySnapshot(9));
  const summary = readSnapshotSummary(bytes.subarray(0, 2000));
  assert.equal(summary.version, 9);
  assert.equal(summary.createdAt, '2026-01-02T03:04:05.678Z');
  assert.equal(summary.inputDims, 4);
  assert.equal(summary.clusters, 2);
});

void test('a single flipped byte anywhere after the prefix fails with SnapshotError', () => {
  const bytes = encodeSnapshot(tinySnapshot());
  for (const position of [20, Math.floor(bytes.length / 2), bytes.length - 40, bytes.length - 1]) {
    const corrupted = new Uint8Array(bytes);
    corrupted[position] = (corrupted[position] as number) ^ 0x01;
    assert.throws(() => decodeSnapshot(corrupted), SnapshotError, `byte ${position}`);
  }
});

void test('a truncated file and a file that is not a snapshot fail with SnapshotError', () => {
  const bytes = encodeSnapshot(tinySnapshot());
  assert.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 5)), SnapshotError);
  assert.throws(() => decodeSnapshot(bytes.subarray(0, 10)), SnapshotError);
  assert.throws(
    () => decodeSnapshot(new TextEncoder().encode('{"version":1,"createdAt":"now"}')),
    /bad magic/,
  );
});

void test('a snapshot of another format version fails with SnapshotError naming the version', () => {
  const bytes = new Uint8Array(encodeSnapshot(tinySnapshot()));
  new DataView(bytes.buffer).setUint32(8, 2, true);
  reseal(bytes);
  assert.throws(
    () => decodeSnapshot(bytes),
    (error: unknown) => error instanceof SnapshotError && /format version 2/.test(error.message),
  );
});

void test('a well-sealed snapshot whose shapes disagree fails with SnapshotError', () => {
  const base = tinySnapshot();
  const wrongCentroids: ModelSnapshot = {
    ...base,
    parameters: { ...base.parameters, centroids: new Float32Array(5) },
  };
  assert.throws(() => encodeSnapshot(wrongCentroids), SnapshotError);

  // Edit the header of a valid file so the first layer claims 5 inputs, then re-seal it.
  const bytes = encodeSnapshot(base);
  const text = new TextDecoder().decode(bytes);
  const from = text.indexOf('"inputSize":4');
  assert.ok(from > 0);
  const edited = new Uint8Array(bytes);
  edited.set(new TextEncoder().encode('"inputSize":5'), from);
  reseal(edited);
  assert.throws(
    () => decodeSnapshot(edited),
    (error: unknown) => error instanceof SnapshotError && /shapes do not match/.test(error.message),
  );
});

void test('encoding refuses a model whose layers do not chain from the feature width', () => {
  const base = tinySnapshot();
  const wider: ModelSnapshot = {
    ...base,
    featureSpec: { fields: ['a', 'v'], widths: [1, 4] },
  };
  assert.throws(() => encodeSnapshot(wider), SnapshotError);
});

void test('cluster statistics round-trip through the header; files without them still load', () => {
  const base = tinySnapshot();
  assert.equal(decodeSnapshot(encodeSnapshot(base)).clusterStatistics, undefined);
  const statistics = {
    rows: 3,
    counts: [3, 0],
    // An empty cluster's mean confidence is NaN, which JSON cannot hold directly.
    meanConfidence: [0.75, NaN],
    mean: Float32Array.from([1, 2, 3, 4]),
    std: Float32Array.from([0.5, 0, 1, 2]),
    clusterMeans: Float32Array.from([1, 2, 3, 4, 1, 2, 3, 4]),
    members: [
      { cluster: 0, id: '2:17', confidence: 0.9, distance: 0.25 },
      { cluster: 0, confidence: 0.6, distance: 1.5 },
    ],
    memberFeatures: Float32Array.from([1, 2, 3, 4, -1, -2, -3, 1e-7]),
  };
  const decoded = decodeSnapshot(encodeSnapshot({ ...base, clusterStatistics: statistics }));
  assert.deepEqual(decoded.clusterStatistics, statistics);

  // Statistics that do not fit the model are a corrupt file, not silently dropped.
  const misfit = encodeSnapshot({
    ...base,
    clusterStatistics: { ...statistics, clusterMeans: new Float32Array(3) },
  });
  assert.throws(() => decodeSnapshot(misfit), SnapshotError);

  // Statistics too large for a header any reader accepts (16 MiB) are left out, not the version.
  const huge = {
    ...statistics,
    members: [{ cluster: 0, id: 'x'.repeat(17 * 2 ** 20), confidence: 1, distance: 0 }],
    memberFeatures: new Float32Array(4),
  };
  const kept = decodeSnapshot(encodeSnapshot({ ...base, clusterStatistics: huge }));
  assert.equal(kept.clusterStatistics, undefined);
  assert.deepEqual(kept.parameters.centroids, base.parameters.centroids);
});

void test('column weights round-trip; weights other than 0 and 1, or of the wrong width, are refused', () => {
  const base = tinySnapshot();
  const dims = base.standardisation.mean.length;
  const weight = new Float32Array(dims).fill(1);
  weight[0] = 0;
  const screened: ModelSnapshot = { ...base, standardisation: { ...base.standardisation, weight } };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(screened)).standardisation.weight, weight);
  assert.equal(decodeSnapshot(encodeSnapshot(base)).standardisation.weight, undefined);
  const half = Float32Array.from(weight, (w) => w / 2);
  const badValue: ModelSnapshot = {
    ...base,
    standardisation: { ...base.standardisation, weight: half },
  };
  assert.throws(() => encodeSnapshot(badValue), /weight must be \d+ values of 0 or 1/);
  const badWidth: ModelSnapshot = {
    ...base,
    standardisation: { ...base.standardisation, weight: new Float32Array(dims + 1).fill(1) },
  };
  assert.throws(() => encodeSnapshot(badWidth), SnapshotError);
});

void test('published cluster ids round-trip; ids that repeat, are negative or miscounted are refused', () => {
  const renewed: ModelSnapshot = { ...tinySnapshot(4), clusterIds: [0, 7] };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(renewed)).clusterIds, [0, 7]);
  assert.equal(decodeSnapshot(encodeSnapshot(tinySnapshot(4))).clusterIds, undefined);
  for (const clusterIds of [
    [3, 3],
    [0, -1],
    [0, 1, 2],
    [0, 1.5],
  ]) {
    assert.throws(
      () => encodeSnapshot({ ...tinySnapshot(4), clusterIds }),
      /cluster ids must be 2 distinct non-negative integers/,
      JSON.stringify(clusterIds),
    );
  }
});
