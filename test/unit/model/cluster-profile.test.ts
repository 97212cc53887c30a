import assert from 'node:assert/strict';
import { test } from 'node:test';

import { trainSnapshot } from '../../../src/model/build-snapshot.js';
import { clusterProfiles, forwardLayers } from '../../../src/model/cluster-profile.js';
import { clusterStatistics } from '../../../src/model/cluster-statistics.js';
import { kmeansParameters } from '../../../src/model/kmeans-model.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/model/snapshot-codec.js';
import { fitStandardisation, standardise } from '../../../src/model/standardise.js';
import type { Matrix, ModelSnapshot } from '../../../src/model/types.js';
import { resolveDecOptions } from '../../../src/model/defaults.js';
import { versionStatistics } from '../../../src/model/version-statistics.js';
import { SeededRandom } from '../../../src/model/rng.js';

/**
 * Three Gaussian blobs on features of very different scales: `income` in the tens of thousands,
 * `age` in years, `ratio` around one. Each feature's standard deviation within a blob is a tenth
 * of the distance between blob means, so the clusters are plain to see.
 */
const centres = [
  { income: 20_000, age: 25, ratio: 0.5 },
  { income: 60_000, age: 45, ratio: 1.5 },
  { income: 100_000, age: 65, ratio: 2.5 },
] as const;
const spread = { income: 4_000, age: 2, ratio: 0.1 };

function gaussianRecords(perBlob: number, seed: number): Record<string, number>[] {
  const rng = new SeededRandom(seed);
  const normal = (): number => rng.normal();
  const out: Record<string, number>[] = [];
  for (let i = 0; i < perBlob; i++) {
    for (const c of centres) {
      out.push({
        income: c.income + spread.income * normal(),
        age: c.age + spread.age * normal(),
        ratio: c.ratio + spread.ratio * normal(),
      });
    }
  }
  return out;
}

function asMatrix(records: readonly Record<string, number>[], fields: readonly string[]): Matrix {
  const data = new Float32Array(records.length * fields.length);
  records.forEach((r, i) => fields.forEach((f, j) => (data[i * fields.length + j] = r[f] ?? 0)));
  return { data, rows: records.length, cols: fields.length };
}

/** The cluster whose prototype lies nearest `centre`, and that prototype as a record. */
function prototypeNear(
  snapshot: ModelSnapshot,
  centre: Record<string, number>,
): Record<string, number> {
  const records = clusterProfiles(snapshot).map((p) =>
    Object.fromEntries((p.prototype ?? []).map((f) => [f.field, f.values[0] as number])),
  );
  const scaled = (r: Record<string, number>): number =>
    Object.keys(centre).reduce(
      (sum, f) => sum + (((r[f] ?? 0) - (centre[f] ?? 0)) / spread[f as keyof typeof spread]) ** 2,
      0,
    );
  return records.reduce((best, r) => (scaled(r) < scaled(best) ? r : best));
}

const fields = ['income', 'age', 'ratio'];

void test('the k-means model kind: each prototype is its centroid unscaled, near the true mean', () => {
  const records = gaussianRecords(60, 3);
  const raw = asMatrix(records, fields);
  const standardisation = fitStandardisation(raw);
  const x = standardise(raw, standardisation);
  // Centroids at the true centres, in standardised units (what k-means converges to).
  const centroids = Float32Array.from(
    centres.flatMap((c) =>
      fields.map(
        (f, j) =>
          ((c[f as keyof typeof c] as number) - (standardisation.mean[j] as number)) /
          (standardisation.std[j] as number),
      ),
    ),
  );
  const parameters = kmeansParameters(centroids, 3, 3, 1);
  const snapshot: ModelSnapshot = {
    formatVersion: 1,
    version: 4,
    createdAt: new Date(0).toISOString(),
    featureSpec: { fields, widths: [1, 1, 1] },
    standardisation,
    options: resolveDecOptions({ clusters: 3 }, 3, x.rows),
    parameters,
    metrics: {
      backend: 'cpu',
      samples: x.rows,
      inputDims: 3,
      modelKind: 'kmeans',
      pretrainEpochs: 0,
      pretrainLoss: 0,
      kmeansInertia: 0,
      clusterIterations: 0,
      finalKl: 0,
      finalLabelChangeFraction: 0,
      clusterSizes: [60, 60, 60],
      reconstructionError: 0,
      pretrainSamplesPerSecond: 0,
      wallMs: { pretrain: 0, kmeans: 0, cluster: 0 },
    },
    clusterStatistics: versionStatistics(parameters, x, standardisation),
  };
  const profiles = clusterProfiles(snapshot);
  assert.equal(profiles.length, 3);
  profiles.forEach((profile, c) => {
    const centre = centres[c] as Record<string, number>;
    const prototype = Object.fromEntries(
      (profile.prototype ?? []).map((f) => [f.field, f.values[0]]),
    );
    for (const f of fields) {
      assert.ok(
        Math.abs((prototype[f] as number) - (centre[f] as number)) < 1e-3 * (centre[f] as number),
        `cluster ${c} ${f}: ${prototype[f]} vs ${centre[f]}`,
      );
    }
    assert.equal(profile.modelVersion, 4);
    assert.ok(Math.abs(profile.share - 1 / 3) < 0.02, `share ${profile.share}`);
    assert.ok(profile.meanConfidence !== null && profile.meanConfidence > 0.5);
    assert.equal(profile.nearest.length, 5);
    assert.ok(
      profile.nearest.every((m, i, all) => i === 0 || m.distance >= (all[i - 1]?.distance ?? 0)),
    );
    // Every feature separates these blobs: the outer ones lie about 1.2 sd from the overall mean.
    assert.equal(profile.topFeatures.length, 3);
  });
  // The statistics survive the snapshot codec.
  const decoded = decodeSnapshot(encodeSnapshot(snapshot));
  assert.deepEqual(clusterProfiles(decoded), profiles);
});

void test('a small DEC model: prototypes decode to the input units, each near its true mean', async () => {
  const records = gaussianRecords(80, 5);
  const snapshot = await trainSnapshot(records, fields, {
    clusters: 3,
    seed: 2,
    hiddenSizes: [16],
    embeddingSize: 3,
    pretrainEpochs: 60,
    maxIterations: 150,
    batchSize: 32,
    guard: false,
    initialisation: 'kmeans',
    method: 'idec',
    backend: 'cpu',
  });
  assert.equal(snapshot.metrics.modelKind, 'dec');
  for (const centre of centres) {
    const prototype = prototypeNear(snapshot, centre);
    for (const f of fields) {
      const sd = spread[f as keyof typeof spread];
      // Within 1.5 within-blob standard deviations (blob means lie 10 apart).
      assert.ok(
        Math.abs((prototype[f] as number) - (centre[f as keyof typeof centre] as number)) <
          1.5 * sd,
        `${f}: prototype ${prototype[f]} vs mean ${centre[f as keyof typeof centre]}`,
      );
    }
  }
});

void test('profiles name the one feature that separates a planted cluster', () => {
  // Four features of noise, shared by all records; a planted cluster differs only in `signal`.
  const rng = new SeededRandom(9);
  const random = (): number => rng.next();
  const rows = 400;
  const dims = 5;
  const data = new Float32Array(rows * dims);
  const cluster = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const planted = i % 4 === 0;
    cluster[i] = planted ? 1 : 0;
    for (let d = 0; d < dims; d++) data[i * dims + d] = 10 * (random() - 0.5);
    data[i * dims + 2] = (planted ? 30 : 0) + (random() - 0.5);
  }
  const x: Matrix = { data, rows, cols: dims };
  const identity = { mean: new Float32Array(dims), std: new Float32Array(dims).fill(1) };
  const stats = clusterStatistics(
    x,
    {
      rows,
      clusters: 2,
      cluster,
      confidence: new Float32Array(rows).fill(0.9),
      q: new Float32Array(rows * 2),
      distance: Float32Array.from({ length: rows }, (_, i) => i),
    },
    identity,
    { ids: Array.from({ length: rows }, (_, i) => `0:${i}`) },
  );
  const snapshot: ModelSnapshot = {
    formatVersion: 1,
    version: 1,
    createdAt: new Date(0).toISOString(),
    featureSpec: { fields: ['a', 'b', 'signal', 'c', 'd'], widths: [1, 1, 1, 1, 1] },
    standardisation: identity,
    options: resolveDecOptions({ clusters: 2 }, dims, rows),
    parameters: kmeansParameters(new Float32Array(2 * dims), 2, dims, 1),
    metrics: {
      backend: 'cpu',
      samples: rows,
      inputDims: dims,
      pretrainEpochs: 0,
      pretrainLoss: 0,
      kmeansInertia: 0,
      clusterIterations: 0,
      finalKl: 0,
      finalLabelChangeFraction: 0,
      clusterSizes: [],
      reconstructionError: 0,
      pretrainSamplesPerSecond: 0,
      wallMs: { pretrain: 0, kmeans: 0, cluster: 0 },
    },
    clusterStatistics: stats,
  };
  const planted = clusterProfiles(snapshot)[1];
  assert.ok(planted !== undefined);
  assert.equal(planted.share, 0.25);
  assert.equal(planted.topFeatures[0]?.feature, 'signal');
  assert.ok((planted.topFeatures[0]?.z ?? 0) > 1.5);
  assert.ok(Math.abs((planted.topFeatures[0]?.clusterMean ?? 0) - 30) < 0.2);
  assert.ok(planted.topFeatures.slice(1).every((f) => Math.abs(f.z) < 0.5));
  // The records nearest its centroid, by id, nearest first.
  assert.deepEqual(
    planted.nearest.map((m) => m.id),
    ['0:0', '0:4', '0:8', '0:12', '0:16'],
  );
});

void test('a snapshot without statistics or decoder still has shares; vector fields list positions', () => {
  const dims = 4;
  const spec = { fields: ['pixels'], widths: [dims] };
  const standardisation = {
    mean: new Float32Array(dims).fill(2),
    std: new Float32Array(dims).fill(3),
  };
  const parameters = { ...kmeansParameters(new Float32Array(2 * dims), 2, dims, 1), decoder: [] };
  const base: ModelSnapshot = {
    formatVersion: 1,
    version: 2,
    createdAt: new Date(0).toISOString(),
    featureSpec: spec,
    standardisation,
    options: resolveDecOptions({ clusters: 2 }, dims, 10),
    parameters,
    metrics: {
      backend: 'cpu',
      samples: 10,
      inputDims: dims,
      pretrainEpochs: 0,
      pretrainLoss: 0,
      kmeansInertia: 0,
      clusterIterations: 0,
      finalKl: 0,
      finalLabelChangeFraction: 0,
      clusterSizes: [3, 7],
      reconstructionError: 0,
      pretrainSamplesPerSecond: 0,
      wallMs: { pretrain: 0, kmeans: 0, cluster: 0 },
    },
  };
  const bare = clusterProfiles(base);
  assert.deepEqual(
    bare.map((p) => [p.share, p.prototype, p.meanConfidence, p.topFeatures.length]),
    [
      [0.3, null, null, 0],
      [0.7, null, null, 0],
    ],
  );
  // With statistics, a decoder-less model shows its cluster means; position 1 sets cluster 1 apart.
  const x: Matrix = {
    data: Float32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0]),
    rows: 3,
    cols: dims,
  };
  const stats = clusterStatistics(
    x,
    {
      rows: 3,
      clusters: 2,
      cluster: Int32Array.from([0, 0, 1]),
      confidence: Float32Array.from([1, 1, 1]),
      q: new Float32Array(6),
      distance: new Float32Array(3),
    },
    standardisation,
  );
  const [, second] = clusterProfiles({ ...base, clusterStatistics: stats });
  assert.deepEqual(second?.prototype, [{ field: 'pixels', values: [2, 17, 2, 2] }]);
  assert.equal(second?.topPositions[0]?.field, 'pixels');
  assert.equal(second?.topPositions[0]?.positions[0]?.feature, 'pixels[1]');
});

void test('forwardLayers() applies weights, bias and ReLU row by row', () => {
  const layer = {
    inputSize: 2,
    outputSize: 2,
    weights: Float32Array.from([1, -1, 2, 1]),
    bias: Float32Array.from([0.5, 0]),
    activation: 'relu' as const,
  };
  // [1, 1] -> [1+2+0.5, -1+1+0] = [3.5, 0]; [0, -1] -> [-2+0.5, -1] -> relu [0, 0]
  assert.deepEqual(
    Array.from(forwardLayers(Float32Array.from([1, 1, 0, -1]), 2, [layer])),
    [3.5, 0, 0, 0],
  );
});
