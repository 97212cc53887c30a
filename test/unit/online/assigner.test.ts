import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { Assigner } from '../../../src/online/assigner.js';
import { forward, layersToTensors, disposeLayers } from '../../../src/model/dense-network.js';
import { softAssignment } from '../../../src/model/soft-assignment.js';
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

  for (const alpha of [1, 2.5]) {
    void test(`assign() matches the tensor Student-t soft assignment within 1e-5 (alpha ${alpha})`, () => {
      // 3 → 4 (ReLU) → 2 with fixed pseudo-random weights, three centroids.
      const wave = (n: number, phase: number): Float32Array =>
        Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + phase));
      const model: DecParameters = {
        encoder: [
          {
            inputSize: 3,
            outputSize: 4,
            weights: wave(12, 0),
            bias: wave(4, 1),
            activation: 'relu',
          },
          {
            inputSize: 4,
            outputSize: 2,
            weights: wave(8, 2),
            bias: wave(2, 3),
            activation: 'linear',
          },
        ],
        decoder: [],
        centroids: wave(6, 4),
        clusters: 3,
        embeddingSize: 2,
        alpha,
      };
      const x: Matrix = { data: wave(3 * 40, 5).map((v) => 2 * v), rows: 40, cols: 3 };
      const mine = new Assigner(model);
      const out = mine.assign(x);
      mine.dispose();
      const layers = layersToTensors(model.encoder);
      const expected = tf.tidy(() =>
        softAssignment(
          forward(tf.tensor2d(x.data, [x.rows, x.cols]), layers),
          tf.tensor2d(model.centroids, [3, 2]),
          alpha,
        ).dataSync(),
      );
      disposeLayers(layers);
      for (let i = 0; i < expected.length; i++) {
        assert.ok(Math.abs(out.q[i]! - expected[i]!) < 1e-5, `q[${i}]`);
      }
      for (let r = 0; r < x.rows; r++) {
        const row = Array.from(expected.subarray(r * 3, r * 3 + 3));
        assert.equal(out.cluster[r], row.indexOf(Math.max(...row)));
        assert.ok(Math.abs(out.confidence[r]! - Math.max(...row)) < 1e-5);
      }
    });
  }

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
