import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../../src/model/rng.js';
import {
  fadingCluster,
  mostGrownCluster,
  reseedFadingCluster,
  type FadingRule,
} from '../../../src/online/fading-cluster.js';
import type { Matrix } from '../../../src/model/types.js';

const dims = 4;

/**
 * A window of `count` Gaussian points (sd 1) around each centre, labelled as given; the encoder is
 * the identity (inputs and embeddings are the same points).
 */
function window(groups: readonly { centre: readonly number[]; count: number; label: number }[]): {
  inputs: Matrix;
  embeddings: Matrix;
  labels: Int32Array;
} {
  const rng = new SeededRandom(3);
  const rows = groups.reduce((n, g) => n + g.count, 0);
  const data = new Float32Array(rows * dims);
  const labels = new Int32Array(rows);
  let row = 0;
  for (const group of groups) {
    for (let i = 0; i < group.count; i++, row++) {
      for (let t = 0; t < dims; t++) data[row * dims + t] = (group.centre[t] ?? 0) + rng.normal();
      labels[row] = group.label;
    }
  }
  const points = { data, rows, cols: dims };
  return { inputs: points, embeddings: points, labels };
}

const rule: FadingRule = {
  minShare: 0.02,
  baselineShares: [0.25, 0.25, 0.25, 0.25],
  maxValley: 0.3,
};
// Four clusters at the bootstrap, on the axes 12 apart; cluster 3 has faded to 8 % of the window.
const centroids = Float32Array.from([0, 0, 0, 0, 12, 0, 0, 0, 0, 12, 0, 0, 0, 0, 12, 0]);
const fadedShares = [0.46, 0.23, 0.23, 0.08];

void describe('re-seeding a fading cluster', () => {
  void test('a fading cluster is one below half its bootstrap share but above the dying share', () => {
    assert.equal(fadingCluster([0.4, 0.3, 0.2, 0.1], rule), 3);
    assert.equal(fadingCluster([0.3, 0.3, 0.3, 0.1], { ...rule, minShare: 0.15 }), undefined);
    assert.equal(fadingCluster([0.25, 0.25, 0.25, 0.25], rule), undefined);
    assert.equal(mostGrownCluster([0.4, 0.3, 0.2, 0.1], rule.baselineShares), 0);
    assert.equal(mostGrownCluster([0.25, 0.25, 0.25, 0.25], rule.baselineShares), undefined);
  });

  void test('a grown cluster holding two separate groups gives one to the fading cluster', () => {
    // Cluster 0 holds its own group and a new one 10 away (the new group's records joined it).
    const w = window([
      { centre: [0, 0, 0, 0], count: 300, label: 0 },
      { centre: [-7, -7, 0, 0], count: 160, label: 0 },
      { centre: [12, 0, 0, 0], count: 230, label: 1 },
      { centre: [0, 12, 0, 0], count: 230, label: 2 },
      { centre: [0, 0, 12, 0], count: 80, label: 3 },
    ]);
    const result = reseedFadingCluster(centroids, dims, fadedShares, rule, w, 1);
    assert.deepEqual(
      result.events.map(({ cluster, splitFrom }) => ({ cluster, splitFrom })),
      [{ cluster: 3, splitFrom: 0 }],
    );
    assert.ok(result.valley < 0.05, `valley ${result.valley}`);
    const c = Array.from(result.centroids);
    // The donor keeps its own group; the fading id moves to the new group's mean.
    assert.ok(Math.hypot(c[0]!, c[1]!) < 0.5, `donor at ${c.slice(0, 4).join(', ')}`);
    assert.ok(Math.hypot(c[12]! + 7, c[13]! + 7) < 0.5, `re-seeded at ${c.slice(12).join(', ')}`);
    assert.deepEqual(c.slice(4, 12), Array.from(centroids.slice(4, 12)), 'the others stay');
  });

  void test('a cluster that only grew (one group) is not split', () => {
    const w = window([
      { centre: [0, 0, 0, 0], count: 460, label: 0 },
      { centre: [12, 0, 0, 0], count: 230, label: 1 },
      { centre: [0, 12, 0, 0], count: 230, label: 2 },
      { centre: [0, 0, 12, 0], count: 80, label: 3 },
    ]);
    const result = reseedFadingCluster(centroids, dims, fadedShares, rule, w, 1);
    assert.deepEqual(result.events, []);
    assert.ok(result.valley > 0.6, `a single group is dense in its middle: ${result.valley}`);
    assert.deepEqual(Array.from(result.centroids), Array.from(centroids));
  });

  void test('two groups that touch are not two separate groups', () => {
    // 3 standard deviations apart: a valley, but neighbour edges still cross it.
    const w = window([
      { centre: [0, 0, 0, 0], count: 300, label: 0 },
      { centre: [3, 0, 0, 0], count: 160, label: 0 },
      { centre: [12, 0, 0, 0], count: 230, label: 1 },
      { centre: [0, 12, 0, 0], count: 230, label: 2 },
      { centre: [0, 0, 12, 0], count: 80, label: 3 },
    ]);
    const result = reseedFadingCluster(centroids, dims, fadedShares, rule, w, 1);
    assert.deepEqual(result.events, [], `valley ${result.valley}`);
  });
});
