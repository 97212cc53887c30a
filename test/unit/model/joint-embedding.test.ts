import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinEmbeddings } from '../../../src/model/joint-embedding.js';
import type { Matrix } from '../../../src/model/types.js';

const matrix = (rows: number[][]): Matrix => ({
  data: Float32Array.from(rows.flat()),
  rows: rows.length,
  cols: rows[0]!.length,
});

const rowOf = (m: Matrix, i: number): number[] =>
  Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));

const distance = (m: Matrix, a: number, b: number): number =>
  Math.hypot(...rowOf(m, a).map((v, c) => v - rowOf(m, b)[c]!));

void describe('joinEmbeddings', () => {
  void test('centres each embedding and scales it to a unit root-mean-square distance', () => {
    // The second embedding is the first one 1,000 times larger and shifted: after scaling, the
    // two halves of each joined row are equal.
    const first = matrix([
      [0, 1],
      [2, 3],
      [4, -1],
      [-2, 5],
    ]);
    const second = matrix(
      Array.from({ length: 4 }, (_, i) => rowOf(first, i).map((v) => 1000 * v + 7)),
    );
    const joined = joinEmbeddings([first, second]);
    assert.equal(joined.cols, 4);
    for (let i = 0; i < 4; i++) {
      const [a, b, c, d] = rowOf(joined, i);
      assert.ok(Math.abs(a! - c!) < 1e-4 && Math.abs(b! - d!) < 1e-4);
    }
    let squares = 0;
    for (let i = 0; i < 4; i++)
      squares += rowOf(joined, i)
        .slice(0, 2)
        .reduce((s, v) => s + v * v, 0);
    assert.ok(Math.abs(squares / 4 - 1) < 1e-5);
  });

  void test('two groups that one embedding merges stay apart when another separates them', () => {
    // Rows 0-1 and 2-3 are two groups: the first embedding puts all four at one point.
    const merged = matrix([
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    const separated = matrix([[0], [0.01], [5], [5.01]]);
    const joined = joinEmbeddings([merged, separated]);
    assert.ok(distance(joined, 0, 2) > 100 * distance(joined, 0, 1));
    // A constant embedding stays at zero instead of dividing by a zero scale.
    assert.ok(
      rowOf(joined, 0)
        .slice(0, 2)
        .every((v) => v === 0),
    );
  });

  void test('refuses embeddings of different rows', () => {
    assert.throws(() => joinEmbeddings([matrix([[1], [2]]), matrix([[1]])]), /same rows/);
  });
});
