import assert from 'node:assert/strict';
import { test } from 'node:test';

import { trainSnapshot } from '../../../src/model/build-snapshot.js';
import {
  dependenceBar,
  independentColumns,
  jarqueBera,
  spearmanCorrelation,
  strongestDependence,
  upperTailOfNormal,
} from '../../../src/model/column-screening.js';
import {
  columnName,
  describeLeftOutColumns,
  leftOutColumnNames,
} from '../../../src/model/left-out-columns.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import { SeededRandom } from '../../../src/model/rng.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/model/snapshot-codec.js';
import { fitStandardisation, leftOutColumns, standardise } from '../../../src/model/standardise.js';
import type { Matrix } from '../../../src/model/types.js';
import { gaussianMixture, tinyTraining, toRecords } from './mixture.js';

/** Appends `noise` columns of independent normal values (scales 0.5 to 3) after x's columns. */
function withNoiseColumns(x: Matrix, noise: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const cols = x.cols + noise;
  const data = new Float32Array(x.rows * cols);
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) data[r * cols + c] = x.data[r * x.cols + c] as number;
    for (let c = 0; c < noise; c++) data[r * cols + x.cols + c] = (0.5 + c * 0.5) * rng.normal();
  }
  return { data, rows: x.rows, cols };
}

/** A matrix from per-row functions of one shared random draw, one function per column. */
function columnsOf(
  rows: number,
  seed: number,
  ...columns: ((rng: SeededRandom) => number)[]
): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float32Array(rows * columns.length);
  for (let r = 0; r < rows; r++) {
    columns.forEach((column, c) => (data[r * columns.length + c] = column(rng)));
  }
  return { data, rows, cols: columns.length };
}

void test('the pure-noise columns beside a clustered table are the ones left out', () => {
  const { x } = gaussianMixture(600, 4, 3, 1);
  const table = withNoiseColumns(x, 5, 2);
  assert.deepEqual(independentColumns(table), [3, 4, 5, 6, 7]);
  assert.deepEqual(independentColumns(x), []);
});

void test('a curved dependence with no correlation keeps both columns', () => {
  // Points on a circle: the coordinates are uncorrelated but each pins the other down to two
  // values. The third column is noise.
  let angle = 0;
  const circle = columnsOf(
    800,
    3,
    (rng) => {
      angle = 2 * Math.PI * rng.next();
      return Math.cos(angle);
    },
    () => Math.sin(angle),
    (rng) => rng.normal(),
  );
  const strongest = strongestDependence(circle);
  assert.ok((strongest[0] as number) > 10, `circle z ${strongest[0]}`);
  assert.deepEqual(independentColumns(circle), [2]);
});

void test('a modest correlation in a small table is kept', () => {
  // 150 rows, correlation about 0.5 between the first two columns: the size of iris.
  let shared = 0;
  const small = columnsOf(
    150,
    4,
    (rng) => {
      shared = rng.normal();
      return shared + rng.normal();
    },
    (rng) => shared + rng.normal(),
    (rng) => rng.normal(),
  );
  assert.deepEqual(independentColumns(small), [2]);
});

void test('a binary column that follows the groups is kept; a constant one is left out', () => {
  let group = 0;
  const mixed = columnsOf(
    400,
    5,
    (rng) => {
      group = rng.next() < 0.5 ? 0 : 1;
      return group * 4 + rng.normal();
    },
    () => group,
    () => 7,
    (rng) => rng.normal(),
  );
  assert.deepEqual(independentColumns(mixed), [2, 3]);
});

void test('when no column depends on another, none is left out', () => {
  const noise = columnsOf(
    500,
    6,
    (rng) => rng.normal(),
    (rng) => rng.normal(),
    (rng) => rng.next(),
  );
  assert.deepEqual(independentColumns(noise), []);
});

void test('per-feature standardisation weights left-out columns 0; vector scaling screens nothing', () => {
  const { x } = gaussianMixture(600, 4, 3, 7);
  const table = withNoiseColumns(x, 2, 8);
  const screened = fitStandardisation(table, { mode: 'per-feature', screenColumns: true });
  assert.deepEqual(leftOutColumns(screened), [3, 4]);
  const z = standardise(table, screened);
  for (let r = 0; r < z.rows; r++) {
    assert.equal(z.data[r * z.cols + 3], 0);
    assert.equal(z.data[r * z.cols + 4], 0);
  }
  assert.equal(
    fitStandardisation(table, { mode: 'global', screenColumns: true }).weight,
    undefined,
  );
  assert.equal(fitStandardisation(table, { mode: 'per-feature' }).weight, undefined);
});

const threeClusters = tinyTraining(3, 32);

void test('a trained model ignores its left-out columns, and its snapshot keeps which they are', async () => {
  const { x } = gaussianMixture(240, 3, 2, 11);
  const { records, fields } = toRecords(withNoiseColumns(x, 2, 12));
  const messages: string[] = [];
  const snapshot = await trainSnapshot(records, fields, threeClusters, {
    log: (message) => messages.push(message),
  });
  assert.deepEqual(leftOutColumnNames(snapshot.standardisation, snapshot.featureSpec), [
    'f2',
    'f3',
  ]);
  assert.ok(
    messages.some((m) => m.startsWith('left out 2 of 4 feature columns') && m.includes('f2, f3')),
    messages.join('\n'),
  );
  const decoded = decodeSnapshot(encodeSnapshot(snapshot));
  assert.deepEqual(Array.from(decoded.standardisation.weight ?? []), [1, 1, 0, 0]);

  // Whatever a left-out column holds, even a value that would overflow once scaled, the label
  // and confidence stay the same.
  const model = new ModelVersion(decoded);
  try {
    const original = records.slice(0, 20);
    const changed = original.map((r) => ({ ...r, f2: 3.0e38, f3: -(r.f3 ?? 0) * 1000 }));
    const a = model.assign(model.features(original).x);
    const b = model.assign(model.features(changed).x);
    assert.deepEqual(Array.from(b.cluster), Array.from(a.cluster));
    assert.deepEqual(Array.from(b.confidence), Array.from(a.confidence));
  } finally {
    model.dispose();
  }

  const kept = await trainSnapshot(records, fields, { ...threeClusters, columnScreening: false });
  assert.equal(kept.standardisation.weight, undefined);
});

void test('left-out columns are named by field, and by position inside a vector field', () => {
  const spec = { fields: ['v', 'meta.w', 'u'], widths: [3, 1, 2] };
  assert.deepEqual(
    [0, 2, 3, 4, 5].map((c) => columnName(spec, c)),
    ['v[0]', 'v[2]', 'meta.w', 'u[0]', 'u[1]'],
  );
  assert.throws(() => columnName(spec, 6), RangeError);
  const names = Array.from({ length: 12 }, (_, i) => `c${i}`);
  assert.equal(describeLeftOutColumns([], 5), undefined);
  assert.equal(
    describeLeftOutColumns(names, 40),
    'left out 12 of 40 feature columns, independent of every other column: ' +
      'c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 2 more',
  );
});

void test('the Jarque–Bera statistic is small for normal values and large for two peaks', () => {
  const rng = new SeededRandom(9);
  const normal = Array.from({ length: 2000 }, () => rng.normal());
  const twoPeaks = Array.from(
    { length: 2000 },
    (_, i) => (i % 2 === 0 ? -3 : 3) + rng.normal() * 0.3,
  );
  assert.ok(jarqueBera(normal) < 10, `normal ${jarqueBera(normal)}`);
  assert.ok(jarqueBera(twoPeaks) > 100, `two peaks ${jarqueBera(twoPeaks)}`);
  assert.equal(jarqueBera([4, 4, 4]), 0);
});

void test('a two-peaked column and a uniform id are kept even when no other column tracks them', () => {
  let shared = 0;
  const table = columnsOf(
    1000,
    10,
    (rng) => {
      shared = rng.normal();
      return shared + 0.3 * rng.normal();
    },
    (rng) => shared + 0.3 * rng.normal(),
    (rng) => (rng.next() < 0.5 ? -3 : 3) + 0.5 * rng.normal(),
    (rng) => rng.normal(),
    (rng) => Math.floor(rng.next() * 1e6),
  );
  assert.deepEqual(independentColumns(table), [3]);
});

void test('in a small table a coded column and a weak correlation are kept, plain noise is not', () => {
  // 100 rows: a correlation of about 0.45 between the first two columns, a 0/1 code seen 15 % of
  // the time and independent of the rest, and a normal noise column.
  let shared = 0;
  const table = columnsOf(
    100,
    13,
    (rng) => {
      shared = rng.normal();
      return shared + 1.1 * rng.normal();
    },
    (rng) => shared + 1.1 * rng.normal(),
    (rng) => (rng.next() < 0.15 ? 1 : 0),
    (rng) => rng.normal(),
  );
  assert.deepEqual(independentColumns(table), [3]);
});

void test('the normal tail and the dependence bar match their tables', () => {
  // P(Z > 1.96) = 0.025, P(Z > 3) = 0.00135, P(Z > 4) = 3.17e-5.
  assert.ok(Math.abs(upperTailOfNormal(1.959964) - 0.025) < 1e-6);
  assert.ok(Math.abs(upperTailOfNormal(3) - 0.0013499) < 1e-6);
  assert.ok(Math.abs(upperTailOfNormal(4) / 3.1671e-5 - 1) < 0.01);
  // 4 columns: 2 × (3 + 3) tests at 0.001 / 12 each, z = 3.76; more columns, a higher bar.
  assert.ok(Math.abs(dependenceBar(4) - 3.76) < 0.01, `bar ${dependenceBar(4)}`);
  assert.ok(dependenceBar(40) > dependenceBar(4) && dependenceBar(512) > dependenceBar(40));
});

void test("Spearman's correlation uses mid-ranks for ties and is 0 for a constant column", () => {
  assert.equal(spearmanCorrelation([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.ok(Math.abs(spearmanCorrelation([1, 2, 3, 4], [9, 4, 1, 0]) + 1) < 1e-12);
  // Ranks 1, 2.5, 2.5, 4 against 1, 2, 3, 4: ρ = 4.5 / √(4.5 · 5).
  assert.ok(
    Math.abs(spearmanCorrelation([1, 5, 5, 9], [1, 2, 3, 4]) - 4.5 / Math.sqrt(22.5)) < 1e-12,
  );
  assert.equal(spearmanCorrelation([3, 3, 3], [1, 2, 3]), 0);
});
