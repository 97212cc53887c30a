import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/model/backend.js';
import {
  mergedAgainst,
  nearestNeighbourGraph,
  normalisedCut,
} from '../../../src/model/partition-score.js';
import { SharedGraphs } from '../../../src/model/shared-graphs.js';
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

void describe('merges one partition makes that another keeps apart', () => {
  before(async () => {
    await initBackend();
  });

  // Three groups on a line: 3 rows around 1, 6 around 12.5, 8 around 33.5.
  const groups = [0, 1, 2, 10, 11, 12, 13, 14, 15, 30, 31, 32, 33, 34, 35, 36, 37];
  const x: Matrix = { data: Float32Array.from(groups), rows: groups.length, cols: 1 };
  const byGroup = (first: number, second: number, third: readonly number[]): Int32Array =>
    Int32Array.from(groups, (_, i) => (i < 3 ? first : i < 9 ? second : third[i - 9]!));

  void test('mergedAgainst() counts the smaller groups a cluster merges, and scorePair() charges it', async () => {
    const graph = await nearestNeighbourGraph(x, 2);
    // A merges the 3-row group into the 6-row one; B merges the 6-row group into the 8-row one.
    const a = byGroup(0, 0, Array(8).fill(1));
    const b = byGroup(0, 1, Array(8).fill(1));
    assert.equal(mergedAgainst(graph, 2, a, b, 2, 0.05), 3 / 17);
    assert.equal(mergedAgainst(graph, 2, b, a, 2, 0.05), 6 / 17);
    // The cut sees neither merge: both partitions cut no edge.
    assert.equal(normalisedCut(graph, 2, a, 2), 0);
    assert.equal(normalisedCut(graph, 2, b, 2), 0);
    const graphs = await SharedGraphs.build([x], { neighbours: 2, sampleRows: 100 });
    const pair = graphs.scorePair(a, b, 2, 0.05);
    assert.ok(pair.a < pair.b, `the smaller merge scores better: ${pair.a} vs ${pair.b}`);
  });

  void test('a rival that splits one group through its middle finds no merge', async () => {
    const graph = await nearestNeighbourGraph(x, 2);
    const whole = byGroup(0, 1, Array(8).fill(2));
    const halves = byGroup(0, 0, [1, 1, 1, 1, 2, 2, 2, 2]);
    assert.equal(mergedAgainst(graph, 2, whole, halves, 3, 0.05), 0);
    assert.equal(mergedAgainst(graph, 2, halves, whole, 3, 0.05), 3 / 17);
  });
});
