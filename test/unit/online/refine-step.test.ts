import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/model/backend.js';
import { initDenseLayers } from '../../../src/model/dense-network.js';
import { SeededRandom } from '../../../src/model/rng.js';
import { refineStep } from '../../../src/online/refine-step.js';
import type { DecParameters, Matrix } from '../../../src/model/types.js';

function model(): DecParameters {
  const rng = new SeededRandom(11);
  return {
    encoder: initDenseLayers([3, 6, 2], rng),
    decoder: initDenseLayers([2, 6, 3], rng),
    centroids: Float32Array.of(0.5, 0, -0.5, 0.2, 0, -0.6),
    clusters: 3,
    embeddingSize: 2,
    alpha: 1,
  };
}

function batch(): Matrix {
  const rng = new SeededRandom(12);
  const rows = 48;
  const data = new Float32Array(rows * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, rows, cols: 3 };
}

function deepCopy(p: DecParameters): DecParameters {
  return structuredClone(p);
}

void describe('refineStep', () => {
  before(async () => {
    await initBackend();
  });

  for (const updateEncoder of [false, true]) {
    void test(`a step lowers KL on a fixed batch (updateEncoder ${updateEncoder})`, () => {
      const p = model();
      const sizes = Float32Array.of(16, 16, 16);
      const out = refineStep(p, batch(), sizes, {
        learningRate: 0.05,
        updateEncoder,
        gamma: 0,
        steps: 3,
      });
      assert.ok(out.loss < out.lossBefore, `${out.loss} < ${out.lossBefore}`);
      assert.ok(out.centroidShift > 0);
      assert.ok(out.labelChangeFraction >= 0 && out.labelChangeFraction <= 1);
      const total = out.clusterSizes.reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(total - 48) < 1e-3);
    });
  }

  void test('the input parameters are left untouched and a new object is returned', () => {
    const p = model();
    const copy = deepCopy(p);
    const out = refineStep(p, batch(), Float32Array.of(10, 20, 18), {
      learningRate: 0.1,
      updateEncoder: true,
      gamma: 0.1,
      batchSize: 16,
    });
    assert.deepEqual(p, copy);
    assert.notEqual(out.parameters, p);
    assert.notDeepEqual(out.parameters.centroids, p.centroids);
    assert.notDeepEqual(out.parameters.decoder[0]!.weights, p.decoder[0]!.weights);
  });

  void test('only the centroids move when the encoder is frozen', () => {
    const p = model();
    const out = refineStep(p, batch(), Float32Array.of(16, 16, 16), {
      learningRate: 0.1,
      updateEncoder: false,
      gamma: 0.1,
    });
    assert.deepEqual(out.parameters.encoder, p.encoder);
    assert.notDeepEqual(out.parameters.centroids, p.centroids);
  });

  void test('the target uses the supplied cluster sizes, not the batch own', () => {
    const p = model();
    const a = refineStep(p, batch(), Float32Array.of(1, 1, 46), {
      learningRate: 0.05,
      updateEncoder: false,
      gamma: 0,
    });
    const b = refineStep(p, batch(), Float32Array.of(46, 1, 1), {
      learningRate: 0.05,
      updateEncoder: false,
      gamma: 0,
    });
    assert.notEqual(a.lossBefore, b.lossBefore);
  });

  void test('refinement leaks no tensors and rejects a wrong number of sizes', () => {
    const before = tf.memory().numTensors;
    refineStep(model(), batch(), Float32Array.of(16, 16, 16), {
      learningRate: 0.05,
      updateEncoder: true,
      gamma: 0.1,
    });
    assert.equal(tf.memory().numTensors, before);
    assert.throws(
      () =>
        refineStep(model(), batch(), Float32Array.of(1, 2), {
          learningRate: 0.05,
          updateEncoder: true,
          gamma: 0,
        }),
      /clusterSizes/,
    );
    assert.equal(tf.memory().numTensors, before);
  });
});
