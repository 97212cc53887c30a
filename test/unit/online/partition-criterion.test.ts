import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initBackend } from '../../../src/model/backend.js';
import { onlineKmeansPass } from '../../../src/online/online-kmeans.js';
import { SharedGraphs } from '../../../src/model/shared-graphs.js';
import { decidePromotion } from '../../../src/online/partition-criterion.js';
import { blobs } from '../../fixtures/refinement.js';

void describe('the partition criterion', () => {
  before(async () => {
    await initBackend('cpu');
  });

  void test('the true partition of separated blobs scores better than one cutting across them', async () => {
    const { x, labels } = blobs(60, 2);
    const graphs = await SharedGraphs.build([x], { neighbours: 8, sampleRows: 1000, seed: 1 });
    // Cut by the sign of the first coordinate into two, and a third id nobody gets: a worse partition.
    const across = Int32Array.from({ length: x.rows }, (_, i) => (x.data[2 * i]! < 0 ? 0 : 1));
    const truth = graphs.score(labels, 3);
    assert.ok(truth < 0.05, `true partition ${truth}`);
    assert.ok(graphs.score(across, 3) > truth + 0.2);
  });

  void test('a shadow is promoted only when it beats the serving score by the margin', () => {
    assert.equal(decidePromotion(0.2, 0.1, 0.05).promote, true);
    assert.equal(decidePromotion(0.2, 0.195, 0.05).promote, false, 'better, but inside the margin');
    assert.equal(decidePromotion(0.2, 0.3, 0.05).promote, false);
    assert.equal(decidePromotion(0.2, NaN, 0.05).promote, false);
    assert.match(decidePromotion(0.2, 0.1, 0.05).detail, /shadow 0\.1000, serving 0\.2000/);
  });

  void test('the records a shadow would relabel lower the bar by (1 - share)^charge', () => {
    // 25 % better than serving: enough for a 2 % margin with 10 % relabelled at charge 1 (bar
    // 0.2 × 0.98 × 0.9 = 0.1764), not with 30 % (bar 0.1372); charge 0 ignores relabelling.
    const few = decidePromotion(0.2, 0.15, 0.02, { changedShare: 0.1, charge: 1 });
    const many = decidePromotion(0.2, 0.15, 0.02, { changedShare: 0.3, charge: 1 });
    const free = decidePromotion(0.2, 0.15, 0.02, { changedShare: 0.3, charge: 0 });
    assert.equal(few.promote, true, few.detail);
    assert.equal(many.promote, false, many.detail);
    assert.equal(free.promote, true, free.detail);
    assert.match(many.detail, /bar 0\.1372 .*× 0\.700 for the 30\.0% of records it relabels/);
    // A shadow that gives a merged group its own cluster moves many records but scores far lower:
    // the price is a factor, so it still passes (bar 0.2 × 0.98 × 0.6^3 = 0.0423).
    assert.equal(decidePromotion(0.2, 0.02, 0.02, { changedShare: 0.4, charge: 3 }).promote, true);
  });

  void test('a shadow that would move more records between kept ids than the cap is not promoted, however good', () => {
    const capped = { changedShare: 0.05, charge: 0, maxReassignedShare: 0.03 };
    const over = decidePromotion(0.2, 0.01, 0.02, { ...capped, reassignedShare: 0.05 });
    const under = decidePromotion(0.2, 0.01, 0.02, { ...capped, reassignedShare: 0.02 });
    const atCap = decidePromotion(0.2, 0.01, 0.02, { ...capped, reassignedShare: 0.03 });
    assert.equal(over.promote, false);
    assert.equal(over.overCap, true);
    assert.match(
      over.detail,
      /move 5\.0% of the records between ids both versions keep, above the cap of 3\.0%/,
    );
    assert.equal(under.promote, true, under.detail);
    assert.equal(under.overCap, false);
    assert.equal(atCap.promote, true, 'the cap itself is allowed');
    // Under the cap the criterion still decides.
    assert.equal(decidePromotion(0.2, 0.3, 0.02, { ...capped, reassignedShare: 0 }).promote, false);
  });
});

void describe('onlineKmeansPass', () => {
  void test('moves each row’s nearest centroid a constant step towards it, in arrival order', () => {
    const centroids = Float32Array.from([0, 0, 10, 10]);
    const rows = { data: Float32Array.from([2, 0, 2, 0, 10, 12]), rows: 3, cols: 2 };
    const out = onlineKmeansPass(centroids, rows, 2, 0.5);
    // Centroid 0: 0 → 1 → 1.5 on x; centroid 1: 10 → 11 on y.
    assert.deepEqual(Array.from(out), [1.5, 0, 10, 11]);
    assert.deepEqual(Array.from(centroids), [0, 0, 10, 10], 'the input is untouched');
  });
});
