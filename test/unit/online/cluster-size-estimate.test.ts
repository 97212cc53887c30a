import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterSizeEstimate, decayFactor } from '../../../src/online/cluster-size-estimate.js';

const close = (actual: number, expected: number, tolerance = 1e-6): void =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not within ${tolerance} of ${expected}`,
  );

void describe('ClusterSizeEstimate', () => {
  void test('the decay factor halves a weight after exactly one half-life of records', () => {
    const a = decayFactor(100);
    close(Math.pow(a, 100), 0.5, 1e-12);
    close(a, Math.exp(Math.log(0.5) / 100), 1e-15);
  });

  void test('an old observation weighs half after half-life records and a quarter after two', () => {
    const estimate = new ClusterSizeEstimate(2, 50);
    estimate.observeHard(new Int32Array(10).fill(0));
    close(estimate.sizes()[0] ?? NaN, 10, 1e-5);
    estimate.observeHard(new Int32Array(50).fill(1));
    close(estimate.sizes()[0] ?? NaN, 5, 1e-4);
    close(estimate.sizes()[1] ?? NaN, 50, 1e-4);
    estimate.observeHard(new Int32Array(50).fill(1));
    close(estimate.sizes()[0] ?? NaN, 2.5, 1e-4);
    // The first fifty records of cluster 1 are one half-life old now: 50·½ + 50.
    close(estimate.sizes()[1] ?? NaN, 75, 1e-3);
  });

  void test('soft assignments add their probabilities to every cluster after decaying the old weight', () => {
    const estimate = new ClusterSizeEstimate(3, 1, [8, 0, 0]);
    estimate.observeSoft(Float32Array.from([0.5, 0.25, 0.25, 0, 1, 0]), 2);
    // a^2 = 1/4 with a half-life of one record.
    const sizes = estimate.sizes();
    close(sizes[0] ?? NaN, 8 / 4 + 0.5, 1e-6);
    close(sizes[1] ?? NaN, 1.25, 1e-6);
    close(sizes[2] ?? NaN, 0.25, 1e-6);
    assert.equal(estimate.records, 2);
  });

  void test('a stream that moves to a new cluster shifts the shares within a few half-lives', () => {
    const estimate = new ClusterSizeEstimate(2, 200);
    for (let i = 0; i < 10; i++) estimate.observeHard(new Int32Array(100).fill(0));
    for (let i = 0; i < 10; i++) estimate.observeHard(new Int32Array(100).fill(1));
    const shares = estimate.shares();
    // Five half-lives later the old cluster keeps 2^-5 of its (saturated) weight.
    assert.ok((shares[1] ?? 0) > 0.95, `share of the new cluster is ${shares[1]}`);
  });

  void test('split moves half the donor weight to the receiver, and shares stay uniform before any data', () => {
    const estimate = new ClusterSizeEstimate(3, 100);
    assert.deepEqual(Array.from(estimate.shares()), [1 / 3, 1 / 3, 1 / 3]);
    estimate.reset([10, 0.001, 4]);
    estimate.split(0, 1);
    assert.deepEqual(Array.from(estimate.sizes()), [5, 5, 4]);
  });

  void test('a non-positive half-life is refused', () => {
    assert.throws(() => decayFactor(0), RangeError);
    assert.throws(() => new ClusterSizeEstimate(2, -5), RangeError);
  });
});
