import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRowOrder, reorderRows } from '../../../src/model/canonical-order.js';
import { SeededRandom } from '../../../src/model/rng.js';
import type { Matrix } from '../../../src/model/types.js';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}

void describe('canonicalRowOrder', () => {
  void test('any order of the same rows is put into the same order', () => {
    const x = randomMatrix(200, 3, 1);
    const shuffled = reorderRows(x, new SeededRandom(2).permutation(x.rows));
    const a = reorderRows(x, canonicalRowOrder(x));
    const b = reorderRows(shuffled, canonicalRowOrder(shuffled));
    assert.deepEqual(a.data, b.data);
    assert.notDeepEqual(x.data, shuffled.data);
  });

  void test('it is a permutation, and duplicate rows stay side by side', () => {
    const x: Matrix = { data: Float32Array.from([1, 2, 3, 4, 1, 2, 5, 6]), rows: 4, cols: 2 };
    const order = canonicalRowOrder(x);
    assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
    const positions = [order.indexOf(0), order.indexOf(2)].sort();
    assert.equal(positions[1]! - positions[0]!, 1);
  });
});
