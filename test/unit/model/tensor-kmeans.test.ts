import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { evaluateClustering } from '../../../src/model/evaluation.js';
import { kmeansRestarts } from '../../../src/model/kmeans-init.js';
import { kmeansParameters } from '../../../src/model/kmeans-model.js';
import { SeededRandom } from '../../../src/model/rng.js';
import { tensorKmeans } from '../../../src/model/tensor-kmeans.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import type { Matrix } from '../../../src/model/types.js';

/** Four blobs in 6 dimensions, one per corner of a square in the first two. */
function blobs(rows: number, seed: number): { x: Matrix; labels: Int32Array } {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(rows * 6);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % 4;
    labels[i] = c;
    for (let d = 0; d < 6; d++) data[i * 6 + d] = 0.5 * rng.normal();
    data[i * 6] = data[i * 6]! + (c % 2 === 0 ? -4 : 4);
    data[i * 6 + 1] = data[i * 6 + 1]! + (c < 2 ? -4 : 4);
  }
  return { x: { data, rows, cols: 6 }, labels };
}

void describe('tensorKmeans', () => {
  before(async () => {
    await initBackend();
  });

  void test('finds well separated blobs, deterministically for one seed, with no tensor left behind', async () => {
    const { x, labels } = blobs(400, 1);
    const before = tf.memory().numTensors;
    const a = await tensorKmeans(x, 4, 5, new SeededRandom(3));
    const b = await tensorKmeans(x, 4, 5, new SeededRandom(3));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(evaluateClustering(labels, a.labels).acc, 1);
    assert.deepEqual(a.centroids, b.centroids);
  });

  void test('reaches the inertia of ml-kmeans on the same data', async () => {
    const { x } = blobs(400, 2);
    const tensor = await tensorKmeans(x, 4, 5, new SeededRandom(1));
    const reference = kmeansRestarts(x, 4, 5, new SeededRandom(1));
    assert.ok(
      // Float32 distances through |x|^2 - 2 x.mu + |mu|^2 lose a little to cancellation.
      Math.abs(tensor.inertia - reference.inertia) / reference.inertia < 1e-2,
      `${tensor.inertia} vs ${reference.inertia}`,
    );
  });

  void test('leaves each centre at the mean of its rows when the clusters overlap', async () => {
    // Blobs two standard deviations apart: k-means++ seeds land far from the means, so the
    // centres only end right if every update step computes the means right (on the wasm
    // backend a float32 one-hot once read as denormals and left them near their seeds).
    const { x } = blobs(400, 4);
    const squeezed: Matrix = { ...x, data: x.data.map((v) => v / 4) };
    const fit = await tensorKmeans(squeezed, 4, 1, new SeededRandom(5));
    const { cols } = squeezed;
    const sums = new Float64Array(4 * cols);
    const counts = new Float64Array(4);
    fit.labels.forEach((label, row) => {
      counts[label]! += 1;
      for (let c = 0; c < cols; c++) sums[label * cols + c]! += squeezed.data[row * cols + c]!;
    });
    for (let j = 0; j < 4; j++) {
      for (let c = 0; c < cols; c++) {
        const mean = sums[j * cols + c]! / counts[j]!;
        assert.ok(
          Math.abs(fit.centroids[j * cols + c]! - mean) < 1e-4,
          `centre ${j}, column ${c}: ${fit.centroids[j * cols + c]} against the mean ${mean}`,
        );
      }
    }
  });
});

void describe('kmeansParameters', () => {
  void test('a k-means model labels every row with its nearest centre through the usual assigner', async () => {
    const { x } = blobs(200, 3);
    const fit = await tensorKmeans(x, 4, 3, new SeededRandom(1));
    const assigner = ModelVersion.ofParameters(kmeansParameters(fit.centroids, 4, 6, 1));
    try {
      const assigned = assigner.assign(x);
      assert.deepEqual([...assigned.cluster], [...fit.labels]);
      assert.ok(assigned.confidence.every((c) => c > 0.25 && c <= 1));
    } finally {
      assigner.dispose();
    }
  });
});
