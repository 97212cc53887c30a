import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
// The full bundle registers the gradient functions tf.grads needs to check the hand-written ones.
import '@tensorflow/tfjs';
import { initBackend } from '../../../src/model/backend.js';
import {
  klDivergence,
  klGradients,
  softAssignment,
  targetDistribution,
} from '../../../src/model/soft-assignment.js';

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tol,
      `index ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

// Three points and two centroids in the plane; squared distances are [0,1], [1,0] and [1,2].
const z = [0, 0, 1, 0, 0, 1];
const mu = [0, 0, 1, 0];
// Student-t kernel 1 / (1 + d^2): [1, 1/2], [1/2, 1], [1/2, 1/3]
const qHand = [2 / 3, 1 / 3, 1 / 3, 2 / 3, 0.6, 0.4];

void describe('soft assignment, target and KL', () => {
  before(async () => {
    await initBackend();
  });

  void test('q follows the Student-t kernel with alpha 1, normalised per row', () => {
    const q = tf.tidy(() =>
      softAssignment(tf.tensor2d(z, [3, 2]), tf.tensor2d(mu, [2, 2]), 1).dataSync(),
    );
    assertClose(q, qHand);
  });

  void test('q with alpha 2 uses the exponent -(alpha+1)/2', () => {
    const q = tf.tidy(() =>
      softAssignment(tf.tensor2d(z, [3, 2]), tf.tensor2d(mu, [2, 2]), 2).dataSync(),
    );
    const k = (d2: number): number => (1 + d2 / 2) ** -1.5;
    const row = (a: number, b: number): number[] => [a / (a + b), b / (a + b)];
    assertClose(q, [...row(k(0), k(1)), ...row(k(1), k(0)), ...row(k(1), k(2))]);
  });

  void test('p squares q and divides by the soft cluster sizes', () => {
    const f = [2 / 3 + 1 / 3 + 0.6, 1 / 3 + 2 / 3 + 0.4];
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = [qHand[2 * i]! ** 2 / f[0]!, qHand[2 * i + 1]! ** 2 / f[1]!];
      expected.push(w[0]! / (w[0]! + w[1]!), w[1]! / (w[0]! + w[1]!));
    }
    const p = tf.tidy(() => targetDistribution(tf.tensor2d(qHand, [3, 2])).dataSync());
    assertClose(p, expected);
  });

  void test('p uses the given cluster sizes instead of the batch own sizes', () => {
    const p = tf.tidy(() =>
      targetDistribution(tf.tensor2d([0.5, 0.5], [1, 2]), tf.tensor1d([1, 3])).dataSync(),
    );
    // (0.25/1, 0.25/3) normalised
    assertClose(p, [0.75, 0.25]);
  });

  void test('KL(P||Q) is the row mean of sum p log(p/q)', () => {
    const p = [0.75, 0.25, 0.5, 0.5];
    const q = [0.5, 0.5, 0.25, 0.75];
    const expected =
      (0.75 * Math.log(1.5) +
        0.25 * Math.log(0.5) +
        0.5 * Math.log(2) +
        0.5 * Math.log(0.5 / 0.75)) /
      2;
    const kl = tf.tidy(
      () => klDivergence(tf.tensor2d(p, [2, 2]), tf.tensor2d(q, [2, 2])).dataSync()[0]!,
    );
    assert.ok(Math.abs(kl - expected) < 1e-6, `${kl} vs ${expected}`);
  });

  for (const alpha of [1, 2.5]) {
    void test(`the hand-written KL gradients equal tf.grads for alpha ${alpha}`, () => {
      const zt = tf.tensor2d([0.3, -0.2, 1.1, 0.4, -0.7, 0.9, 0.2, 0.2], [4, 2]);
      const mut = tf.tensor2d([0, 0, 1, 0.5, -1, 1], [3, 2]);
      const p = tf.tensor2d([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.1, 0.7, 0.4, 0.3, 0.3], [4, 3]);
      const auto = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        klDivergence(p, softAssignment(a as tf.Tensor2D, b as tf.Tensor2D, alpha)),
      )([zt, mut]);
      const hand = klGradients(zt, mut, p, alpha);
      assertClose(hand.dz.dataSync(), Array.from(auto[0]!.dataSync()), 1e-5);
      assertClose(hand.dmu.dataSync(), Array.from(auto[1]!.dataSync()), 1e-5);
      tf.dispose([zt, mut, p, ...auto, hand.dz, hand.dmu, hand.q, hand.loss]);
    });
  }
});
