import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecParameters } from '../../../src/model/types.js';
import {
  RejectReason,
  defaultRefinementBounds,
  dyingClusters,
  judgeRefinement,
  matchByCentroids,
  matchByOverlap,
  permuteRows,
  relabel,
  reseedDyingClusters,
} from '../../../src/online/refinement-policy.js';

function parameters(centroids: number[], clusters: number, embeddingSize: number): DecParameters {
  return {
    encoder: [
      {
        inputSize: 2,
        outputSize: embeddingSize,
        weights: new Float32Array(2 * embeddingSize).fill(0.5),
        bias: new Float32Array(embeddingSize),
        activation: 'linear',
      },
    ],
    decoder: [],
    centroids: Float32Array.from(centroids),
    clusters,
    embeddingSize,
    alpha: 1,
  };
}

void describe('judgeRefinement', () => {
  const before = parameters([0, 0, 10, 0], 2, 2);

  void test('accepts a small step that lowers the loss', () => {
    const verdict = judgeRefinement(before, parameters([0.5, 0, 10, 0.5], 2, 2), {
      before: 0.2,
      after: 0.1,
    });
    assert.equal(verdict.accepted, true);
    assert.ok(Math.abs(verdict.centroidShift - 0.5) < 1e-6);
  });

  void test('rejects NaN in the loss, in a centroid or in an encoder weight', () => {
    const nanLoss = judgeRefinement(before, parameters([0, 0, 10, 0], 2, 2), {
      before: 0.2,
      after: NaN,
    });
    assert.equal(nanLoss.accepted, false);
    assert.equal(!nanLoss.accepted && nanLoss.reason, RejectReason.NaN);
    const nanCentroid = judgeRefinement(before, parameters([NaN, 0, 10, 0], 2, 2), {
      before: 0.2,
      after: 0.1,
    });
    assert.equal(!nanCentroid.accepted && nanCentroid.reason, RejectReason.NaN);
    const broken = parameters([0, 0, 10, 0], 2, 2);
    (broken.encoder[0]?.weights as Float32Array)[1] = Infinity;
    const nanWeight = judgeRefinement(before, broken, { before: 0.2, after: 0.1 });
    assert.equal(!nanWeight.accepted && nanWeight.reason, RejectReason.NaN);
  });

  void test('rejects a loss above the absolute bound or far above the loss before the step', () => {
    const bounds = { ...defaultRefinementBounds, maxLoss: 1 };
    const absolute = judgeRefinement(before, before, { before: 0.5, after: 1.5 }, bounds);
    assert.equal(!absolute.accepted && absolute.reason, RejectReason.LossBound);
    const ratio = judgeRefinement(before, before, { before: 0.1, after: 0.3 });
    assert.equal(!ratio.accepted && ratio.reason, RejectReason.LossBound);
  });

  void test('rejects a centroid that jumps further than the bounds allow', () => {
    const relative = judgeRefinement(before, parameters([0, 0, 10, 11], 2, 2), {
      before: 0.2,
      after: 0.1,
    });
    assert.equal(!relative.accepted && relative.reason, RejectReason.ShiftBound);
    const bounds = { ...defaultRefinementBounds, maxCentroidShift: 0.25 };
    const absolute = judgeRefinement(
      before,
      parameters([0.5, 0, 10, 0], 2, 2),
      { before: 0.2, after: 0.1 },
      bounds,
    );
    assert.equal(!absolute.accepted && absolute.reason, RejectReason.ShiftBound);
  });
});

void describe('re-seeding', () => {
  void test('finds the clusters under the share threshold, smallest first', () => {
    assert.deepEqual(dyingClusters([0.5, 0.002, 0.497, 0.001], { minShare: 0.01 }), [3, 1]);
    assert.deepEqual(dyingClusters([0.5, 0.5], { minShare: 0.01 }), []);
  });

  void test('a cluster the bootstrap made small is dying only once it falls below half that share', () => {
    const baselineShares = [0.496, 0.008, 0.496];
    // Cluster 1 was born at 0.8 %: at 0.7 % it holds its size; at 0.3 % it has lost most of it.
    assert.deepEqual(dyingClusters([0.5, 0.007, 0.493], { minShare: 0.01, baselineShares }), []);
    assert.deepEqual(dyingClusters([0.5, 0.003, 0.497], { minShare: 0.01, baselineShares }), [1]);
    // A cluster born large that shrinks under the threshold is dying as before.
    assert.deepEqual(dyingClusters([0.005, 0.008, 0.987], { minShare: 0.01, baselineShares }), [0]);
  });

  void test('a dying cluster takes one half of the largest cluster, whose id keeps the nearer half', () => {
    // Cluster 0 covers two groups (around x=-1 and x=+3); cluster 1 is far away and dying.
    const centroids = Float32Array.from([0, 0, 50, 50, 20, 0]);
    const points = [-1.1, 0, -0.9, 0, -1, 0.1, -1, -0.1, 2.9, 0, 3.1, 0, 20, 0];
    const labels = Int32Array.from([0, 0, 0, 0, 0, 0, 2]);
    const result = reseedDyingClusters(
      centroids,
      3,
      2,
      [0.85, 0.001, 0.149],
      { minShare: 0.01 },
      {
        embeddings: { data: Float32Array.from(points), rows: 7, cols: 2 },
        labels,
      },
    );
    assert.deepEqual(result.events, [{ cluster: 1, splitFrom: 0 }]);
    const c = Array.from(result.centroids);
    // Donor keeps the bigger, nearer group around (-1, 0); the dying id gets the group at (3, 0).
    assert.ok(
      Math.abs((c[0] ?? NaN) + 1) < 1e-5 && Math.abs(c[1] ?? NaN) < 1e-5,
      `donor at ${c.slice(0, 2).join(', ')}`,
    );
    assert.ok(
      Math.abs((c[2] ?? NaN) - 3) < 1e-5 && Math.abs(c[3] ?? NaN) < 1e-5,
      `reseeded at ${c.slice(2, 4).join(', ')}`,
    );
    assert.deepEqual(c.slice(4), [20, 0], 'the other cluster does not move');
    assert.ok(Math.abs((result.shares[0] ?? 0) - 0.425) < 1e-9);
    assert.ok(Math.abs((result.shares[1] ?? 0) - 0.425) < 1e-9);
    assert.deepEqual(Array.from(centroids), [0, 0, 50, 50, 20, 0], 'the input is untouched');
  });

  void test('with no members to split, the donor is nudged apart deterministically', () => {
    const centroids = Float32Array.from([0, 0, 9, 9]);
    const window = {
      embeddings: { data: new Float32Array(0), rows: 0, cols: 2 },
      labels: new Int32Array(0),
    };
    const a = reseedDyingClusters(centroids, 2, 2, [0.999, 0.001], { minShare: 0.01 }, window, 7);
    const b = reseedDyingClusters(centroids, 2, 2, [0.999, 0.001], { minShare: 0.01 }, window, 7);
    assert.deepEqual(Array.from(a.centroids), Array.from(b.centroids));
    assert.notDeepEqual(Array.from(a.centroids.slice(0, 2)), Array.from(a.centroids.slice(2, 4)));
    assert.deepEqual(a.events, [{ cluster: 1, splitFrom: 0 }]);
  });
});

void describe('cluster id matching', () => {
  void test('matches new centroids to the nearest old ones (Hungarian) and restores the old order', () => {
    const old = Float32Array.from([0, 0, 10, 0, 0, 10]);
    const shuffled = Float32Array.from([0.1, 9.9, 0.2, 0.1, 9.8, 0.2]);
    const permutation = matchByCentroids(old, shuffled, 3, 2);
    assert.deepEqual(Array.from(permutation), [1, 2, 0]);
    const reordered = permuteRows(shuffled, permutation, 2);
    assert.deepEqual(
      Array.from(reordered),
      Array.from(Float32Array.from([0.2, 0.1, 9.8, 0.2, 0.1, 9.9])),
    );
  });

  void test('matches by assignment overlap when the embeddings differ, and relabels predictions', () => {
    const oldLabels = [0, 0, 0, 1, 1, 2, 2, 2];
    const newLabels = [2, 2, 1, 0, 0, 1, 1, 1];
    const permutation = matchByOverlap(oldLabels, newLabels, 3);
    assert.deepEqual(Array.from(permutation), [2, 0, 1]);
    assert.deepEqual(Array.from(relabel(newLabels, permutation)), [0, 0, 2, 1, 1, 2, 2, 2]);
  });
});
