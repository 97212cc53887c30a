import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { carryClusterIds, clusterIdsOf, keptIds } from '../../../src/model/cluster-ids.js';
import { tinySnapshot } from '../store/tiny-snapshot.js';

/** `n` copies of `label`. */
const times = (label: number, n: number): number[] => new Array<number>(n).fill(label);

void describe('published cluster ids', () => {
  void test('a snapshot without ids publishes each cluster under its index', () => {
    assert.deepEqual(clusterIdsOf(tinySnapshot()), [0, 1]);
    assert.deepEqual(clusterIdsOf({ ...tinySnapshot(), clusterIds: [4, 2] }), [4, 2]);
    assert.throws(() => clusterIdsOf({ ...tinySnapshot(), clusterIds: [4] }), /2 clusters but 1/);
  });

  void test('clusters that hold what their id held keep it, through small moves and merges', () => {
    // Cluster 1 loses 10 of its 40 records to cluster 0; cluster 2 takes half of 3's records.
    const before = [...times(0, 50), ...times(1, 40), ...times(2, 20), ...times(3, 20)];
    const after = [
      ...times(0, 50),
      ...times(1, 30),
      ...times(0, 10),
      ...times(2, 30),
      ...times(3, 10),
    ];
    const carried = carryClusterIds([0, 1, 2, 3], before, after);
    assert.deepEqual(carried.ids, [0, 1, 2, 3]);
    assert.deepEqual(carried.renewed, []);
  });

  void test('a cluster that is mostly a group another id held gets a fresh id above all others', () => {
    // The new cluster 2 is 30 records that were in id 0 (a newcomer split off it) and 5 of its own.
    const before = [...times(0, 60), ...times(0, 30), ...times(2, 5)];
    const after = [...times(0, 60), ...times(2, 30), ...times(2, 5)];
    const carried = carryClusterIds([0, 9, 4], before, after);
    assert.deepEqual(carried.ids, [0, 9, 10]);
    assert.deepEqual(carried.renewed, [{ retired: 4, id: 10 }]);
  });

  void test('too few records say nothing; a re-seeded cluster is new unless its records say otherwise', () => {
    // Cluster 1's 9 records all came from id 0: below the 10 it takes to call it a new group.
    const before = [...times(0, 50), ...times(0, 9)];
    const after = [...times(0, 50), ...times(1, 9)];
    assert.deepEqual(carryClusterIds([0, 1], before, after).ids, [0, 1]);
    assert.deepEqual(carryClusterIds([0, 1], before, after, { minRecords: 5 }).ids, [0, 2]);
    // Re-seeded: cluster 1 (9 records, too few to tell) and cluster 2 (none) are new groups;
    // cluster 0, re-seeded too, holds 50 records that were all in id 0, so it keeps that id.
    const reseeded = carryClusterIds([0, 1, 2], before, after, { reseeded: [0, 1, 2] });
    assert.deepEqual(reseeded.ids, [0, 3, 4]);
    assert.deepEqual(
      reseeded.renewed.map((r) => r.retired),
      [1, 2],
    );
  });

  void test('keptIds marks the clusters that publish the same id as before', () => {
    assert.deepEqual(keptIds([0, 1, 2], [0, 3, 2]), [true, false, true]);
    assert.deepEqual(keptIds([4, 1], [4, 1]), [true, true]);
  });
});
