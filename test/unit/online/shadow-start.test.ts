import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agreedPartition } from '../../../src/online/shadow-start.js';

/** `count` copies of each label in turn: runs([[0, 2], [1, 3]]) is 0, 0, 1, 1, 1. */
function runs(parts: readonly (readonly [number, number])[]): Int32Array {
  return Int32Array.from(parts.flatMap(([label, count]) => new Array<number>(count).fill(label)));
}

void describe('agreedPartition', () => {
  void test('where both models hold the same groups, the serving borders and ids stay', () => {
    // prettier-ignore
    const serving = runs([[0, 50], [1, 50], [2, 50]]);
    // The fresh model numbers the groups otherwise and draws the first border 5 records later.
    // prettier-ignore
    const fresh = runs([[2, 55], [0, 45], [1, 50]]);
    assert.deepEqual(agreedPartition(serving, fresh, 3), serving);
  });

  void test('a group the serving model split and one it merged take the fresh clusters', () => {
    // Serving: group A (50 records) split over ids 0 and 2; groups B (50) and C (30) both under 1.
    // prettier-ignore
    const serving = runs([[0, 25], [2, 25], [1, 80]]);
    // Fresh: A, B and C each whole, numbered 2, 0 and 1.
    // prettier-ignore
    const fresh = runs([[2, 50], [0, 50], [1, 30]]);
    const agreed = agreedPartition(serving, fresh, 3);
    // B is the same group as serving id 1 (each holds more than half of the other), so it keeps
    // id 1; A and C take the ids left, whole.
    assert.deepEqual(Array.from(new Set(agreed.subarray(50, 100))), [1]);
    const a = new Set(agreed.subarray(0, 50));
    const c = new Set(agreed.subarray(100));
    assert.equal(a.size, 1);
    assert.equal(c.size, 1);
    assert.deepEqual(new Set([...a, ...c, 1]), new Set([0, 1, 2]));
  });

  void test('labels of different records are refused', () => {
    assert.throws(() => agreedPartition(new Int32Array(3), new Int32Array(4), 2), /3 serving/);
  });
});
