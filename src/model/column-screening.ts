/**
 * Finds the columns of a table that share no information with any other column.
 *
 * Cluster structure shows up as dependence between columns: when the rows come from k groups, the
 * columns that tell the groups apart move together. A column that is independent of every other
 * column (a sensor that only records noise) cannot help find those groups. Standardised
 * like the rest it still weighs as much in every distance, and the autoencoder spends capacity
 * reconstructing it; with many such columns the groups drown (bench:suite's noise-feature sets).
 *
 * Each pair of columns gets two non-parametric tests of independence, both on ranks, so units and
 * monotone transforms do not matter:
 * - Spearman's rank correlation, which has the power for monotone trends in small tables
 *   (√(n − 1) ρ is standard normal under independence);
 * - the G-test on equal-frequency bins (ties stay in one bin, so a discrete column keeps its
 *   levels), which also sees curved dependence that has no correlation, such as the two coordinates
 *   of a spiral: G = 2 n I(a; b) with I the mutual information of the binned pair in nats, χ² with
 *   (levels(a) − 1)(levels(b) − 1) degrees of freedom under independence.
 * Pairs alone miss structure that no two columns show. When each cluster sits high on a column of
 * its own, any two of those columns are only weakly (negatively) related, less so the more clusters
 * there are, yet each column is fixed by the others taken together. So each column is also tested,
 * in the same two ways, against the leading principal components of the standardised table with its
 * own share taken out (a component score less the column's loading times the column): summaries of
 * all the other columns. A column independent of every other column is independent of those too.
 * A column is dependent when at least one of its tests is significant after Bonferroni's correction
 * for the number it takes (see FALSE_KEEP_RATE), and independent otherwise.
 *
 * Some structure hides from all of these tests: a column that marks two small groups far out on
 * either side, among many groups, shares almost no rank information with any other column or
 * linear summary. Such a column is far from normal, while the noise this screening is for is not, so
 * a column is only left out when it is also indistinguishable from a normal distribution by the
 * Jarque–Bera test of its skewness and kurtosis (a two-peaked column is kept, and so is one where a
 * single value holds more of the rows than one bin would: a binary or coded column, which no
 * normal column is).
 */
import { EigenvalueDecomposition, Matrix as DenseMatrix } from 'ml-matrix';

import type { Matrix } from './types.js';

/**
 * The chance that a column independent of every other column, and normal, is kept all the same:
 * its dependence tests together, and its normality test, each err this way with at most this
 * probability. Keeping a noise column costs little and leaving out a column that carries the
 * groups costs much, so the evidence asked for follows the number of tests a column takes rather
 * than a fixed bar: z = 3.8 in a 4-column table, 4.3 at 40 columns, 4.8 at 512.
 */
export const FALSE_KEEP_RATE = 0.001;

/** At most this many bins per column: 8 × 8 tables keep the G-test's χ² approximation sound. */
const MAX_BINS = 8;

/** At most this many leading principal components each column is also tested against. */
const COMPONENTS = 10;

/**
 * Wider tables are not screened: the pairwise tests grow with the square of the width (about 4 s
 * for 255 columns of 5,000 rows on one core, 13 s for 512).
 */
export const MAX_SCREENED_COLUMNS = 512;

/** Rows used for the test, evenly spaced; more add power the test does not need. */
const MAX_ROWS = 5000;

/** Every cell of a pair's table should expect at least this many rows (the usual χ² rule). */
const MIN_EXPECTED_PER_CELL = 5;

/**
 * Indices of the columns of `x` that are independent of every other column, ascending. Empty when
 * every column depends on another, and also when none does: then there is no shared structure to
 * protect, and leaving every column out would leave nothing to cluster. Empty, too, for fewer than
 * 3 columns and for more than MAX_SCREENED_COLUMNS.
 */
export function independentColumns(x: Matrix): number[] {
  if (x.cols < 3 || x.cols > MAX_SCREENED_COLUMNS) return [];
  const bar = dependenceBar(x.cols);
  const strongest = strongestDependence(x);
  const independent = Array.from(strongest.keys()).filter((c) => (strongest[c] as number) < bar);
  if (independent.length === x.cols) return [];
  const rows = sampledRows(x.rows);
  // Jarque–Bera is χ² with 2 degrees of freedom, whose tail is exactly exp(−JB / 2).
  const normalBelow = -2 * Math.log(FALSE_KEEP_RATE);
  return independent.filter((c) => {
    const values = rows.map((r) => x.data[r * x.cols + c] as number);
    return !isDiscrete(values) && jarqueBera(values) < normalBelow;
  });
}

/**
 * The z-score one of a column's tests must reach for the column to count as dependent. Each column
 * takes two tests against each other column and each component (at most COMPONENTS), so a column
 * with no dependence passes one by chance with probability at most FALSE_KEEP_RATE when each test's
 * one-sided p must be below FALSE_KEEP_RATE / tests.
 */
export function dependenceBar(cols: number): number {
  const tests = 2 * (cols - 1 + Math.min(COMPONENTS, cols - 1));
  return normalQuantileAbove(FALSE_KEEP_RATE / tests);
}

/**
 * True when one value holds more than 1/MAX_BINS of the rows, as no normal column's value does. A
 * constant column is not counted: it carries nothing, and is left out.
 */
function isDiscrete(values: readonly number[]): boolean {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts.size > 1 && Math.max(...counts.values()) > values.length / MAX_BINS;
}

/**
 * n/6 (S² + (K − 3)²/4), S the skewness and K the kurtosis: χ²(2) for normal data. A constant
 * column counts as normal (0): it carries nothing either way.
 */
export function jarqueBera(values: readonly number[]): number {
  const n = values.length;
  const z = standardisedColumn(values);
  let m3 = 0;
  let m4 = 0;
  for (const v of z) {
    m3 += v ** 3;
    m4 += v ** 4;
  }
  if (m4 === 0) return 0;
  const skewness = m3 / n;
  const kurtosis = m4 / n;
  return (n / 6) * (skewness ** 2 + (kurtosis - 3) ** 2 / 4);
}

/**
 * P(Z > z) for a standard normal Z and z ≥ 0, by Abramowitz & Stegun 26.2.17: φ(z) times a
 * polynomial in t = 1 / (1 + 0.2316419 z), absolute error below 7.5e-8.
 */
export function upperTailOfNormal(z: number): number {
  const t = 1 / (1 + 0.2316419 * z);
  const poly =
    t *
    (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return (Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI)) * poly;
}

/** The z with P(Z > z) = p, for 1e-12 < p < 0.5, by bisection on upperTailOfNormal. */
function normalQuantileAbove(p: number): number {
  let low = 0;
  let high = 8;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (upperTailOfNormal(mid) > p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/**
 * For each column of `x`, the largest z-score of its tests against any other column: how far its
 * strongest dependence is from chance (below dependenceBar: indistinguishable from independence).
 */
export function strongestDependence(x: Matrix): Float64Array {
  const rows = sampledRows(x.rows);
  const bins = Math.max(
    2,
    Math.min(MAX_BINS, Math.floor(Math.sqrt(rows.length / MIN_EXPECTED_PER_CELL))),
  );
  const columns = Array.from({ length: x.cols }, (_, c) =>
    rows.map((r) => x.data[r * x.cols + c] as number),
  );
  const ranked = columns.map((values) => rankValues(values, bins));
  const strongest = new Float64Array(x.cols).fill(-Infinity);
  for (let a = 0; a < x.cols; a++) {
    for (let b = a + 1; b < x.cols; b++) {
      const z = dependenceZ(ranked[a] as RankedColumn, ranked[b] as RankedColumn);
      if (z > (strongest[a] as number)) strongest[a] = z;
      if (z > (strongest[b] as number)) strongest[b] = z;
    }
  }
  const summaries = new LeaveOneOutComponents(columns, Math.min(COMPONENTS, x.cols - 1));
  for (let c = 0; c < x.cols; c++) {
    for (let p = 0; p < summaries.count; p++) {
      const z = dependenceZ(ranked[c] as RankedColumn, rankValues(summaries.without(c, p), bins));
      if (z > (strongest[c] as number)) strongest[c] = z;
    }
  }
  return strongest;
}

/**
 * The leading principal components of the standardised columns (those above chance), and each
 * one's score with one
 * column's share taken out: score_p − V[c][p] · z_c, a linear summary of the other columns only.
 */
class LeaveOneOutComponents {
  readonly count: number;
  private readonly standardised: Float64Array[];
  /** loadings[p][c]: column c's weight in component p. */
  private readonly loadings: Float64Array[];
  private readonly scores: Float64Array[];

  constructor(columns: readonly number[][], count: number) {
    this.standardised = columns.map((values) => standardisedColumn(values));
    const n = columns[0]?.length ?? 0;
    const cols = columns.length;
    const correlation = DenseMatrix.zeros(cols, cols);
    for (let a = 0; a < cols; a++) {
      for (let b = a; b < cols; b++) {
        const value =
          dot(this.standardised[a] as Float64Array, this.standardised[b] as Float64Array) / n;
        correlation.set(a, b, value);
        correlation.set(b, a, value);
      }
    }
    const eigen = new EigenvalueDecomposition(correlation, { assumeSymmetric: true });
    // Only components above the largest eigenvalue that independent columns reach by chance, the
    // Marchenko–Pastur edge (1 + √(cols/n))²: below it a component is fitted to the sample's noise,
    // and its scores would track the very noise column being tested.
    const noiseEdge = (1 + Math.sqrt(cols / n)) ** 2;
    const order = eigen.realEigenvalues
      .map((value, index) => ({ value, index }))
      .filter(({ value }) => value > noiseEdge)
      .sort((p, q) => q.value - p.value)
      .slice(0, count);
    const vectors = eigen.eigenvectorMatrix;
    this.count = order.length;
    this.loadings = order.map(({ index }) => Float64Array.from(vectors.getColumn(index)));
    this.scores = this.loadings.map((loading) => {
      const score = new Float64Array(n);
      loading.forEach((weight, c) => {
        const z = this.standardised[c] as Float64Array;
        for (let i = 0; i < n; i++) score[i] = (score[i] as number) + weight * (z[i] as number);
      });
      return score;
    });
  }

  /** Component p's scores without column c's share. */
  without(c: number, p: number): number[] {
    const score = this.scores[p] as Float64Array;
    const weight = (this.loadings[p] as Float64Array)[c] as number;
    const z = this.standardised[c] as Float64Array;
    return Array.from(score, (value, i) => value - weight * (z[i] as number));
  }
}

function standardisedColumn(values: readonly number[]): Float64Array {
  const n = values.length;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  const std = Math.sqrt(squares / n);
  return Float64Array.from(values, (v) => (std > 0 ? (v - mean) / std : 0));
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/**
 * Per-column weights for the model's inputs: 0 for the columns left out, 1 for the rest; undefined
 * when no column is left out (the inputs stay exactly as standardised).
 */
export function columnWeights(cols: number, leftOut: readonly number[]): Float32Array | undefined {
  if (leftOut.length === 0) return undefined;
  const weight = new Float32Array(cols).fill(1);
  for (const c of leftOut) weight[c] = 0;
  return weight;
}

interface RankedColumn {
  /** Mid-rank of each sampled row, centred and scaled to unit length (zeros for a constant column). */
  readonly rank: Float64Array;
  /** Bin of each sampled row, 0 .. levels − 1. */
  readonly code: Uint8Array;
  /** Bins that hold at least one row. */
  readonly levels: number;
}

function sampledRows(rows: number): number[] {
  if (rows <= MAX_ROWS) return Array.from({ length: rows }, (_, i) => i);
  return Array.from({ length: MAX_ROWS }, (_, i) => Math.floor((i * rows) / MAX_ROWS));
}

/**
 * Mid-ranks, and equal-frequency bins from them: a row's bin is ⌊bins · (rank − ½) / n⌋, and tied
 * values share their mid-rank, so a constant column has one level and a binary column two.
 */
function rankValues(values: readonly number[], bins: number): RankedColumn {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => (values[i] as number) - (values[j] as number),
  );
  const raw = new Uint8Array(n);
  const rank = new Float64Array(n);
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end] as number] === values[order[start] as number]) end++;
    // The tied rows hold 0-based ranks start .. end − 1; their mid-rank, 1-based, less ½ is (start + end) / 2.
    const midRank = (start + end) / 2;
    const bin = Math.min(bins - 1, Math.floor((bins * midRank) / n));
    for (let i = start; i < end; i++) {
      raw[order[i] as number] = bin;
      rank[order[i] as number] = midRank;
    }
    start = end;
  }
  // Renumber the occupied bins 0 .. levels − 1.
  const index = new Int16Array(bins).fill(-1);
  let levels = 0;
  for (let b = 0; b < bins; b++) {
    if (raw.includes(b)) index[b] = levels++;
  }
  const code = raw.map((b) => index[b] as number);
  return { rank: centredUnit(rank), code, levels };
}

function centredUnit(v: Float64Array): Float64Array {
  let mean = 0;
  for (const value of v) mean += value;
  mean /= v.length;
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = (v[i] as number) - mean;
    norm += (v[i] as number) ** 2;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
  return v;
}

/** The stronger of the two tests' z-scores for one pair of columns. */
function dependenceZ(a: RankedColumn, b: RankedColumn): number {
  return Math.max(spearmanZ(a, b), gTestZ(a, b));
}

/** Spearman's rank correlation of a and b: mid-ranks for ties, 0 when either is constant. */
export function spearmanCorrelation(a: readonly number[], b: readonly number[]): number {
  return rankCorrelation(rankValues(a, MAX_BINS), rankValues(b, MAX_BINS));
}

/** √(n − 1) |ρ|, which is standard normal under independence. */
function spearmanZ(a: RankedColumn, b: RankedColumn): number {
  return Math.sqrt(a.rank.length - 1) * Math.abs(rankCorrelation(a, b));
}

/** ρ as the dot product of the centred, unit-length ranks. */
function rankCorrelation(a: RankedColumn, b: RankedColumn): number {
  let rho = 0;
  for (let i = 0; i < a.rank.length; i++) rho += (a.rank[i] as number) * (b.rank[i] as number);
  return rho;
}

/**
 * The G-test of independence of two binned columns as a z-score. G = 2 Σ O ln(O n / (row · col))
 * over the non-empty cells; under independence G ~ χ²(df), and by Wilson–Hilferty (G/df)^(1/3) is
 * close to normal with mean 1 − 2/(9 df) and variance 2/(9 df).
 */
function gTestZ(a: RankedColumn, b: RankedColumn): number {
  if (a.levels < 2 || b.levels < 2) return 0;
  const n = a.code.length;
  const counts = new Float64Array(a.levels * b.levels);
  for (let i = 0; i < n; i++) {
    const cell = (a.code[i] as number) * b.levels + (b.code[i] as number);
    counts[cell] = (counts[cell] as number) + 1;
  }
  const rowTotals = new Float64Array(a.levels);
  const colTotals = new Float64Array(b.levels);
  for (let i = 0; i < a.levels; i++) {
    for (let j = 0; j < b.levels; j++) {
      const o = counts[i * b.levels + j] as number;
      rowTotals[i] = (rowTotals[i] as number) + o;
      colTotals[j] = (colTotals[j] as number) + o;
    }
  }
  let g = 0;
  for (let i = 0; i < a.levels; i++) {
    for (let j = 0; j < b.levels; j++) {
      const o = counts[i * b.levels + j] as number;
      if (o > 0) g += o * Math.log((o * n) / ((rowTotals[i] as number) * (colTotals[j] as number)));
    }
  }
  g *= 2;
  const df = (a.levels - 1) * (b.levels - 1);
  const v = 2 / (9 * df);
  return (Math.cbrt(g / df) - (1 - v)) / Math.sqrt(v);
}
