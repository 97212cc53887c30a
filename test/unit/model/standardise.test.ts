import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  fitStandardisation,
  standardise,
  standardiseInPlace,
  standardiseRows,
} from '../../../src/model/standardise.js';
import type { Matrix } from '../../../src/model/types.js';

// Column 0: 1, 2, 3 (mean 2, population std sqrt(2/3)); column 1 is constant 5.
const x: Matrix = { data: Float32Array.from([1, 5, 2, 5, 3, 5]), rows: 3, cols: 2 };

void test('fitStandardisation() learns column means and population standard deviations', () => {
  const s = fitStandardisation(x);
  assert.ok(Math.abs((s.mean[0] as number) - 2) < 1e-6);
  assert.ok(Math.abs((s.std[0] as number) - Math.sqrt(2 / 3)) < 1e-6);
  assert.equal(s.mean[1], 5);
});

void test('a constant feature gets std 1 and standardises to exactly 0', () => {
  const s = fitStandardisation(x);
  assert.equal(s.std[1], 1);
  const z = standardise(x, s);
  assert.deepEqual([z.data[1], z.data[3], z.data[5]], [0, 0, 0]);
  assert.ok(z.data.every((v) => Number.isFinite(v)));
});

void test('standardise() returns a new matrix and leaves the input untouched', () => {
  const before = Array.from(x.data);
  const z = standardise(x, fitStandardisation(x));
  assert.deepEqual(Array.from(x.data), before);
  assert.notEqual(z.data, x.data);
  assert.ok(Math.abs((z.data[0] as number) + Math.sqrt(3 / 2)) < 1e-5);
});

void test('standardiseInPlace() and standardiseRows() give the same values as standardise()', () => {
  const s = fitStandardisation(x);
  const expected = standardise(x, s);
  const inPlace: Matrix = { data: new Float32Array(x.data), rows: 3, cols: 2 };
  standardiseInPlace(inPlace, s);
  assert.deepEqual(inPlace.data, expected.data);
  const rows = new Float32Array(x.data);
  standardiseRows(rows, 1, 2, s);
  assert.deepEqual(rows.subarray(2), expected.data.subarray(2));
  assert.deepEqual(rows.subarray(0, 2), x.data.subarray(0, 2));
});

void test('standardiseInPlace() refuses data of the wrong width', () => {
  const s = fitStandardisation(x);
  assert.throws(
    () => standardiseInPlace({ data: new Float32Array(3), rows: 1, cols: 3 }, s),
    RangeError,
  );
});

void test('global scaling shares one mean and std across columns; none is the identity', () => {
  const g = fitStandardisation(x, { mode: 'global' });
  assert.ok(Math.abs((g.mean[0] as number) - 3.5) < 1e-6);
  assert.equal(g.mean[0], g.mean[1]);
  assert.equal(g.std[0], g.std[1]);
  const n = fitStandardisation(x, { mode: 'none' });
  assert.deepEqual(Array.from(n.mean), [0, 0]);
  assert.deepEqual(Array.from(n.std), [1, 1]);
});
