import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { Assigner } from '../../../src/online/assigner.js';
import type { DecParameters, Matrix } from '../../../src/model/types.js';

/** Identity encoder 2 → 2 (linear), identity decoder, centroids at (0,0) and (4,0). */
const parameters: DecParameters = {
  encoder: [
    {
      inputSize: 2,
      outputSize: 2,
      weights: Float32Array.of(1, 0, 0, 1),
      bias: new Float32Array(2),
      activation: 'linear',
    },
  ],
  decoder: [
    {
      inputSize: 2,
      outputSize: 2,
      weights: Float32Array.of(1, 0, 0, 1),
      bias: Float32Array.of(0, 1),
      activation: 'linear',
    },
  ],
  centroids: Float32Array.of(0, 0, 4, 0),
  clusters: 2,
  embeddingSize: 2,
  alpha: 1,
};

const points: Matrix = { data: Float32Array.of(0, 1, 4, 0, 3, 0), rows: 3, cols: 2 };

void describe('Assigner', () => {
  let assigner: Assigner;
  before(async () => {
    await initBackend();
    assigner = new Assigner(parameters);
  });
  after(() => assigner.dispose());

  void test('assign() puts each point in the cluster of its nearest centroid with q, confidence and distance', () => {
    const out = assigner.assign(points);
    assert.deepEqual(Array.from(out.cluster), [0, 1, 1]);
    // Row 0: d² = [1, 17] → kernel [1/2, 1/18] → q = [0.9, 0.1].
    assert.ok(Math.abs(out.q[0]! - 0.9) < 1e-6);
    assert.ok(Math.abs(out.confidence[0]! - 0.9) < 1e-6);
    assert.ok(Math.abs(out.distance[0]! - 1) < 1e-6);
    assert.ok(Math.abs(out.distance[2]! - 1) < 1e-6);
    assert.equal(out.q.length, 6);
    assert.equal(out.rows, 3);
  });

  void test('assign() on a batch larger than one chunk agrees with row-by-row assignment', () => {
    const rows = 5000;
    const data = new Float32Array(rows * 2);
    for (let i = 0; i < rows; i++) data[i * 2] = (i % 50) / 10;
    const all = assigner.assign({ data, rows, cols: 2 });
    for (const i of [0, 19, 21, 4999]) {
      const one = assigner.assign({ data: data.slice(i * 2, i * 2 + 2), rows: 1, cols: 2 });
      assert.equal(all.cluster[i], one.cluster[0]);
    }
  });

  void test('assign(), embed() and reconstructionError() leak no tensors', () => {
    const before = tf.memory().numTensors;
    assigner.assign(points);
    assigner.embed(points);
    assigner.reconstructionError(points);
    assert.equal(tf.memory().numTensors, before);
  });

  void test('reconstructionError() is the per-row mean squared error', () => {
    // The decoder adds 1 to the second coordinate: error (0² + 1²)/2 on every row.
    assert.deepEqual(Array.from(assigner.reconstructionError(points)), [0.5, 0.5, 0.5]);
    assert.deepEqual(Array.from(assigner.embed(points).data), Array.from(points.data));
  });

  void test('a batch with the wrong width is refused', () => {
    assert.throws(
      () => assigner.assign({ data: new Float32Array(3), rows: 1, cols: 3 }),
      /expects 2/,
    );
  });

  void test('dispose() frees the model tensors', () => {
    const before = tf.memory().numTensors;
    const a = new Assigner(parameters);
    a.dispose();
    a.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
