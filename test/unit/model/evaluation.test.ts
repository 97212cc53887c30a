import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adjustedRandIndex,
  clusteringAccuracy,
  evaluateClustering,
  normalizedMutualInfo,
} from '../../../src/model/evaluation.js';

void describe('clustering evaluation', () => {
  void test('accuracy matches clusters to classes one to one (3x3 worked example)', () => {
    // Contingency (cluster → class): c1 → {0:2, 2:1}, c0 → {0:1, 2:2}, c2 → {1:3}.
    // Best matching c1→0, c2→1, c0→2 gives 2 + 3 + 2 = 7 of 9; mapping both c0 and c1 to 0 is not allowed.
    const truth = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    const pred = [1, 1, 0, 2, 2, 2, 0, 0, 1];
    assert.ok(Math.abs(clusteringAccuracy(truth, pred) - 7 / 9) < 1e-12);
  });

  void test('accuracy handles more clusters than classes', () => {
    assert.equal(clusteringAccuracy([0, 0, 1, 1], [0, 1, 2, 2]), 3 / 4);
  });

  void test('a relabelled perfect clustering scores 1 on every measure', () => {
    const r = evaluateClustering([0, 0, 1, 1, 2, 2], [2, 2, 0, 0, 1, 1]);
    assert.equal(r.n, 6);
    assert.equal(r.acc, 1);
    assert.ok(Math.abs(r.nmi - 1) < 1e-12);
    assert.ok(Math.abs(r.ari - 1) < 1e-12);
  });

  void test('independent labelings have NMI 0 and the worked ARI of -1/2', () => {
    // Σ C(n_jk,2) = 0, Σ C(a,2) = Σ C(b,2) = 2, E = 2·2/6, ARI = (0 − 2/3)/(2 − 2/3).
    assert.ok(Math.abs(normalizedMutualInfo([0, 0, 1, 1], [0, 1, 0, 1])) < 1e-12);
    assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]) + 0.5) < 1e-12);
  });

  void test('NMI of a partly right clustering matches the value worked by hand', () => {
    // truth [0,0,1,1], pred [0,0,0,1]: MI = ½ln2 + ¼ln(2/3) + ¼ln2... computed term by term.
    const mi =
      0.5 * Math.log((2 * 4) / (2 * 3)) +
      0.25 * Math.log((1 * 4) / (2 * 3)) +
      0.25 * Math.log((1 * 4) / (2 * 1));
    const ht = Math.log(2);
    const hp = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    assert.ok(
      Math.abs(normalizedMutualInfo([0, 0, 1, 1], [0, 0, 0, 1]) - mi / ((ht + hp) / 2)) < 1e-12,
    );
  });

  void test('mismatched lengths are rejected', () => {
    assert.throws(() => clusteringAccuracy([0, 1], [0]), RangeError);
  });
});
