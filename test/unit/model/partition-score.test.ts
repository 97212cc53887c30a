import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/model/backend.js';
import { nearestNeighbourGraph, normalisedCut } from '../../../src/model/partition-score.js';
import type { Matrix } from '../../../src/model/types.js';

/** Points on a line at 0, 1, 2, 10, 11, 12: two groups of three. */
const line: Matrix = { data: Float32Array.from([0, 1, 2, 10, 11, 12]), rows: 6, cols: 1 };

void describe('partition scores', () => {
  before(async () => {
    await initBackend();
  });

  void test('nearestNeighbourGraph() lists each row’s nearest other rows, nearest first', async () => {
    const graph = await nearestNeighbourGraph(line, 2);
    assert.deepEqual([...graph.subarray(0, 2)], [1, 2]);
    assert.deepEqual([...graph.subarray(2, 4)].sort(), [0, 2]);
    assert.deepEqual([...graph.subarray(6, 8)], [4, 5]);
  });

  void test('normalisedCut() is 0 for clusters no edge leaves and grows with the edges cut', async () => {
    const graph = await nearestNeighbourGraph(line, 2);
    assert.equal(normalisedCut(graph, 2, Int32Array.from([0, 0, 0, 1, 1, 1]), 2), 0);
    const across = normalisedCut(graph, 2, Int32Array.from([0, 0, 1, 1, 1, 1]), 2);
    assert.ok(across > 0.2, String(across));
    // An empty cluster counts as fully cut.
    assert.equal(normalisedCut(graph, 2, new Int32Array(6), 2), 0.5);
  });
});
