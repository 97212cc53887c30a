import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelledData } from '../../../bench/data/synthetic-mixture.js';
import { clusterSizes } from '../../../bench/suite/synthetic.js';
import { SMALL_MAX_ROWS, SUITE, suiteDatasets } from '../../../bench/suite/datasets.js';
import type { SuiteDataset } from '../../../bench/suite/datasets.js';

const cache = new Map<string, LabelledData>();
function load(set: SuiteDataset): LabelledData {
  let data = cache.get(set.name);
  if (data === undefined) {
    data = set.load();
    cache.set(set.name, data);
  }
  return data;
}

function column(data: LabelledData, c: number): Float64Array {
  const { x } = data;
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = x.data[i * x.cols + c]!;
  return out;
}

function std(values: Float64Array): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}

/** One-way ANOVA F statistic of a column against the labels: near 1 when independent of them. */
function anovaF(values: Float64Array, labels: Int32Array, k: number): number {
  const n = values.length;
  const sum = new Float64Array(k);
  const count = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    sum[labels[i]!]! += values[i]!;
    count[labels[i]!]! += 1;
  }
  const mean = values.reduce((s, v) => s + v, 0) / n;
  let between = 0;
  for (let c = 0; c < k; c++) between += count[c]! * (sum[c]! / count[c]! - mean) ** 2;
  let within = 0;
  for (let i = 0; i < n; i++) within += (values[i]! - sum[labels[i]!]! / count[labels[i]!]!) ** 2;
  return between / (k - 1) / (within / (n - k));
}

function statedCount(set: SuiteDataset, pattern: RegExp): number {
  const match = pattern.exec(set.description);
  assert.ok(match, `${set.name}: description states no count`);
  return Number(match[1]);
}

test('the suite has at least 16 data sets, at least 6 in each half, with unique kebab-case names', () => {
  assert.ok(SUITE.length >= 16);
  assert.ok(suiteDatasets({ half: 'tuning' }).length >= 6);
  assert.ok(suiteDatasets({ half: 'held-out' }).length >= 6);
  assert.equal(new Set(SUITE.map((d) => d.name)).size, SUITE.length);
  for (const d of SUITE) assert.match(d.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  for (const family of ['synthetic', 'real', 'image'] as const) {
    for (const half of ['tuning', 'held-out'] as const) {
      assert.ok(
        SUITE.some((d) => d.family === family && d.half === half),
        `${family} ${half}`,
      );
    }
  }
});

test('every data set loads a consistent, finite matrix whose labels cover 0..k-1', () => {
  for (const set of SUITE) {
    const { x, labels } = load(set);
    assert.equal(x.rows * x.cols, x.data.length, set.name);
    assert.equal(labels.length, x.rows, set.name);
    const seen = new Set<number>();
    for (const l of labels) {
      assert.ok(l >= 0 && l < set.clusters, `${set.name}: label ${l}`);
      seen.add(l);
    }
    assert.equal(seen.size, set.clusters, `${set.name}: every class present`);
    assert.ok(
      x.data.every((v) => Number.isFinite(v)),
      `${set.name}: finite values`,
    );
  }
});

test('synthetic data sets have 1,500 to 3,000 rows and 4 to 100 columns', () => {
  for (const set of SUITE.filter((d) => d.family === 'synthetic')) {
    const { x } = load(set);
    assert.ok(x.rows >= 1500 && x.rows <= 3000, `${set.name}: ${x.rows} rows`);
    assert.ok(x.cols >= 4 && x.cols <= 100, `${set.name}: ${x.cols} cols`);
  }
});

test('loading a data set twice gives the same data', () => {
  for (const set of SUITE) {
    const again = set.load();
    const first = load(set);
    assert.deepEqual(again.labels, first.labels, set.name);
    assert.deepEqual(again.x.data, first.x.data, set.name);
  }
});

test('the scales sets have column standard deviations at least 1e4 apart', () => {
  for (const set of SUITE.filter((d) => d.name.startsWith('scales-'))) {
    const data = load(set);
    const stds = Array.from({ length: data.x.cols }, (_, c) => std(column(data, c)));
    assert.ok(Math.max(...stds) / Math.min(...stds) >= 1e4, set.name);
  }
});

test('the duplicates sets have as many identical column pairs as they state', () => {
  for (const set of SUITE.filter((d) => d.name.startsWith('duplicates-'))) {
    const data = load(set);
    const stated = statedCount(set, /(\d+) exact copies/);
    const keys = Array.from({ length: data.x.cols }, (_, c) => column(data, c).join(','));
    const distinct = new Set(keys).size;
    assert.equal(data.x.cols - distinct, stated, set.name);
  }
});

test('the imbalanced sets have a largest to smallest class ratio between 5 and 10', () => {
  for (const set of SUITE.filter((d) => d.name.startsWith('imbalanced-'))) {
    const { labels } = load(set);
    const counts = new Array<number>(set.clusters).fill(0);
    for (const l of labels) counts[l]! += 1;
    const ratio = Math.max(...counts) / Math.min(...counts);
    assert.ok(ratio >= 5 && ratio <= 10, `${set.name}: ${ratio}`);
  }
});

test('the noise-features sets have exactly the stated number of columns independent of the labels', () => {
  for (const set of SUITE.filter((d) => d.name.startsWith('noise-features-'))) {
    const data = load(set);
    const stated = statedCount(set, /(\d+) pure-noise columns/);
    const fs = Array.from({ length: data.x.cols }, (_, c) =>
      anovaF(column(data, c), data.labels, set.clusters),
    );
    // Independent columns: F ~ F(k-1, n-k), far below 5; informative ones far above.
    assert.equal(
      fs.filter((f) => f < 5).length,
      stated,
      `${set.name}: ${fs.map((f) => f.toFixed(1)).join(' ')}`,
    );
  }
});

test('the Student-t sets have heavy tails (a column with excess kurtosis above 1)', () => {
  for (const set of SUITE.filter((d) => d.name.startsWith('student-t'))) {
    const data = load(set);
    const kurtosis = Array.from({ length: data.x.cols }, (_, c) => {
      const v = column(data, c);
      const mean = v.reduce((s, a) => s + a, 0) / v.length;
      const m2 = v.reduce((s, a) => s + (a - mean) ** 2, 0) / v.length;
      const m4 = v.reduce((s, a) => s + (a - mean) ** 4, 0) / v.length;
      return m4 / (m2 * m2) - 3;
    });
    assert.ok(Math.max(...kurtosis) > 1, `${set.name}: ${Math.max(...kurtosis)}`);
  }
});

test('clusterSizes() sums to the row count and keeps the largest to smallest ratio', () => {
  const sizes = clusterSizes(2000, 6, 10);
  assert.equal(
    sizes.reduce((s, n) => s + n, 0),
    2000,
  );
  assert.ok(Math.abs(Math.max(...sizes) / Math.min(...sizes) - 10) < 0.2);
  assert.deepEqual(clusterSizes(9, 3), [3, 3, 3]);
});

test('the small selection has about 6 sets from both halves, each at most 1,000 rows', () => {
  const small = suiteDatasets({ small: true });
  assert.ok(small.length >= 6);
  assert.ok(small.some((d) => d.half === 'tuning') && small.some((d) => d.half === 'held-out'));
  assert.equal(new Set(small.map((d) => d.name)).size, small.length);
  for (const set of small) {
    const { x, labels } = set.load();
    assert.ok(x.rows <= SMALL_MAX_ROWS, `${set.name}: ${x.rows}`);
    assert.equal(new Set(labels).size, set.clusters, `${set.name}: every class present`);
    assert.deepEqual(set.load().x.data, x.data, `${set.name}: deterministic`);
  }
  assert.equal(
    suiteDatasets({ small: true, half: 'held-out' }).every((d) => d.half === 'held-out'),
    true,
  );
});
