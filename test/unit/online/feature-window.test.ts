import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FeatureWindow } from '../../../src/online/feature-window.js';

void describe('FeatureWindow', () => {
  const rows = (values: number[]): { data: Float32Array; rows: number; cols: number } => ({
    data: Float32Array.from(values.flatMap((v) => [v, -v])),
    rows: values.length,
    cols: 2,
  });

  void test('keeps the newest rows, oldest first, once it wraps around', () => {
    const window = new FeatureWindow(3);
    window.push(rows([1, 2]));
    window.push(rows([3, 4]));
    const snap = window.snapshot();
    assert.equal(snap.rows, 3);
    assert.deepEqual(Array.from(snap.data), [2, -2, 3, -3, 4, -4]);
    window.push(rows([5, 6, 7, 8, 9]));
    assert.deepEqual(Array.from(window.snapshot().data), [7, -7, 8, -8, 9, -9]);
  });

  void test('the snapshot is a copy that later pushes do not change', () => {
    const window = new FeatureWindow(2);
    window.push(rows([1]));
    const snap = window.snapshot();
    window.push(rows([2, 3]));
    assert.deepEqual(Array.from(snap.data), [1, -1]);
  });
});
