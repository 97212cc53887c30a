import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// The full bundle registers the gradient functions tf.grads needs to check the hand-written ones.
import '@tensorflow/tfjs';
import { initBackend } from '../../../src/model/backend.js';
import {
  backward,
  forward,
  forwardWithActivations,
  initDenseLayers,
  layersToTensors,
  mseWithGradient,
  type LayerTensors,
} from '../../../src/model/dense-network.js';
import { SeededRandom } from '../../../src/model/rng.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

void describe('dense network', () => {
  before(async () => {
    await initBackend();
  });

  void test('hand-written backward pass equals tf.grads on a tiny autoencoder', () => {
    const layers = layersToTensors(initDenseLayers([5, 4, 3, 2, 3, 4, 5], new SeededRandom(3)));
    const rng = new SeededRandom(9);
    const x = tf.tensor2d(
      Array.from({ length: 6 * 5 }, () => rng.normal()),
      [6, 5],
    );
    const params = layers.flatMap((l) => [l.w, l.b]);
    const lossOf = (...ps: tf.Tensor[]): tf.Scalar => {
      const rebuilt: LayerTensors[] = layers.map((l, i) => ({
        w: ps[2 * i] as tf.Tensor2D,
        b: ps[2 * i + 1] as tf.Tensor1D,
        activation: l.activation,
      }));
      let a: tf.Tensor2D = x;
      for (const l of rebuilt) {
        const zz = tf.add<tf.Tensor2D>(tf.matMul(a, l.w), l.b);
        a = l.activation === 'relu' ? tf.relu(zz) : zz;
      }
      return tf.mean(tf.square(tf.sub(a, x)));
    };
    const auto = tf.grads(lossOf)(params);
    const acts = forwardWithActivations(x, layers);
    const { loss, gradient } = mseWithGradient(acts[acts.length - 1]!, x);
    const { grads } = backward(layers, acts, gradient, false);
    assert.ok(Math.abs(loss.dataSync()[0]! - lossOf(...params).dataSync()[0]!) < 1e-6);
    grads.forEach((g, i) => {
      assert.ok(maxAbsDiff(g.dw.dataSync(), auto[2 * i]!.dataSync()) < 1e-5, `dW of layer ${i}`);
      assert.ok(
        maxAbsDiff(g.db.dataSync(), auto[2 * i + 1]!.dataSync()) < 1e-5,
        `db of layer ${i}`,
      );
    });
  });

  void test('the input gradient equals tf.grad with respect to the input', () => {
    const layers = layersToTensors(initDenseLayers([3, 4, 2], new SeededRandom(5)));
    const x = tf.tensor2d([0.5, -1, 2, 1, 0.3, -0.2], [2, 3]);
    const target = tf.tensor2d([1, 0, 0, 1], [2, 2]);
    const auto = tf.grad(
      (input: tf.Tensor) => mseWithGradient(forward(input as tf.Tensor2D, layers), target).loss,
    )(x);
    const acts = forwardWithActivations(x, layers);
    const { gradient } = mseWithGradient(acts[acts.length - 1]!, target);
    const { inputGradient } = backward(layers, acts, gradient, true);
    assert.ok(maxAbsDiff(inputGradient!.dataSync(), auto.dataSync()) < 1e-6);
  });

  void test('Glorot-uniform weights stay within the limit and hidden layers use ReLU', () => {
    const layers = initDenseLayers([10, 6, 2], new SeededRandom(1));
    const limit = Math.sqrt(6 / 16);
    assert.ok(layers[0]!.weights.every((w) => Math.abs(w) <= limit));
    assert.ok(layers[0]!.weights.some((w) => w !== 0));
    assert.deepEqual(
      layers.map((l) => l.activation),
      ['relu', 'linear'],
    );
  });
});
