import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { layoutOfEmbedding } from '../../../src/model/cluster-count-spaces.js';
import { distinctRows, expandRows } from '../../../src/model/distinct-rows.js';
import { SeededRandom } from '../../../src/model/rng.js';
import {
  ClusterCountCriterion,
  recommendClusterCount,
  scoreClusterCounts,
} from '../../../src/model/suggest-k.js';
import type { Matrix } from '../../../src/model/types.js';
import { gaussianMixture } from './mixture.js';

/** Every row of x repeated `copies` times, the copies spread through the table. */
function repeated(x: Matrix, copies: number): Matrix {
  const data = new Float32Array(x.rows * copies * x.cols);
  for (let copy = 0; copy < copies; copy++) data.set(x.data, copy * x.rows * x.cols);
  return { data, rows: x.rows * copies, cols: x.cols };
}

const rowOf = (x: Matrix, i: number): number[] =>
  Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols));

void describe('distinctRows', () => {
  void test('keeps the first copy of each row in order and maps every row back to it', () => {
    const x: Matrix = { data: Float32Array.from([1, 2, 3, 4, 1, 2, 5, 6, 3, 4]), rows: 5, cols: 2 };
    const { distinct, indexOf, mostCopies } = distinctRows(x);
    assert.deepEqual(Array.from(distinct.data), [1, 2, 3, 4, 5, 6]);
    assert.equal(distinct.rows, 3);
    assert.deepEqual(Array.from(indexOf), [0, 1, 0, 2, 1]);
    assert.equal(mostCopies, 2);
    assert.deepEqual(expandRows(distinct, indexOf), x);
  });

  void test('tells apart rows that differ in one value only', () => {
    const x: Matrix = { data: Float32Array.from([0, 1, 0, 1.0000001, 0, 1]), rows: 3, cols: 2 };
    assert.equal(distinctRows(x).distinct.rows, 2);
  });
});

void describe('the UMAP layout of a table with repeated rows', () => {
  // 3 blobs of 12 distinct rows each, every row 30 times: more copies than UMAP's 20 neighbours,
  // as in a table of scores from 1 to 10.
  const { x } = gaussianMixture(36, 3, 4, 17);
  const table = repeated(x, 30);

  void test('gives every copy of a row the same place', async () => {
    const { layout } = await layoutOfEmbedding(table, 1, 3);
    for (const i of [0, 7, 35]) {
      for (const copy of [1, 29]) assert.deepEqual(rowOf(layout, i + 36 * copy), rowOf(layout, i));
    }
  });

  void test('lays a table whose rows repeat fewer times than a neighbourhood out as it is', async () => {
    // 5 copies of each row, under UMAP's 20 neighbours: every copy keeps its own place.
    const { layout } = await layoutOfEmbedding(repeated(x, 5), 1, 3);
    assert.notDeepEqual(rowOf(layout, 36), rowOf(layout, 0));
  });

  void test('still shows the blobs: the silhouette of k-means there recommends 3', async () => {
    const { layout } = await layoutOfEmbedding(table, 1, 3);
    const scores = await scoreClusterCounts(layout, { min: 2, max: 8 }, new SeededRandom(2), {
      restarts: 3,
    });
    assert.equal(recommendClusterCount(scores, ClusterCountCriterion.Silhouette, 0.01), 3);
  });
});
