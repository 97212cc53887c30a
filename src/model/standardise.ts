import { columnWeights, independentColumns } from './column-screening.js';
import type { Matrix, Standardisation } from './types.js';

/**
 * How features are scaled before training:
 * - 'per-feature': each column to mean 0, std 1 (tabular data with mixed units);
 * - 'global': one mean and std shared by all columns, which keeps the relative scale of
 *   comparable features such as pixels (a nearly always blank pixel is not blown up);
 * - 'none': identity (mean 0, std 1).
 */
export type ScalingMode = 'per-feature' | 'global' | 'none';

/** Standard deviations below this are treated as a constant feature and replaced by 1. */
export const MIN_STD = 1e-6;

export interface StandardisationOptions {
  readonly mode?: ScalingMode;
  /**
   * With 'per-feature' scaling, leave out the columns that are independent of every other column
   * (column-screening.ts): they get weight 0. The other modes never screen: 'global' is for vector
   * features, whose components are positions of one signal (pixels) that augmentation moves, and
   * 'none' keeps the inputs as they are.
   */
  readonly screenColumns?: boolean;
}

/**
 * Learns the per-feature mean and (population) standard deviation of x; constant features get std 1.
 * With `screenColumns`, also the weight that leaves out independent columns.
 */
export function fitStandardisation(
  x: Matrix,
  options: StandardisationOptions = {},
): Standardisation {
  const moments = fitMoments(x, options.mode ?? 'per-feature');
  if (options.screenColumns !== true || (options.mode ?? 'per-feature') !== 'per-feature') {
    return moments;
  }
  const weight = columnWeights(x.cols, independentColumns(x));
  return weight === undefined ? moments : { ...moments, weight };
}

/** Indices of the columns left out (weight 0), ascending. */
export function leftOutColumns(s: Standardisation): number[] {
  if (s.weight === undefined) return [];
  return Array.from(s.weight.keys()).filter((c) => s.weight?.[c] === 0);
}

function fitMoments(x: Matrix, mode: ScalingMode): Standardisation {
  const { rows, cols, data } = x;
  const mean = new Float32Array(cols);
  const std = new Float32Array(cols).fill(1);
  if (mode === 'none' || rows === 0) return { mean, std };

  // Two passes in float64: mean first, then squared deviations (numerically stable enough for
  // bounded features and cheap next to training).
  const sum = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) sum[c] = (sum[c] as number) + (data[base + c] as number);
  }
  if (mode === 'global') {
    let total = 0;
    for (let c = 0; c < cols; c++) total += sum[c] as number;
    const globalMean = total / (rows * cols);
    let squares = 0;
    for (let i = 0; i < data.length; i++) {
      const d = (data[i] as number) - globalMean;
      squares += d * d;
    }
    const globalStd = Math.sqrt(squares / (rows * cols));
    mean.fill(globalMean);
    std.fill(globalStd < MIN_STD ? 1 : globalStd);
    return { mean, std };
  }

  const means = new Float64Array(cols);
  for (let c = 0; c < cols; c++) means[c] = (sum[c] as number) / rows;
  const squares = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const d = (data[base + c] as number) - (means[c] as number);
      squares[c] = (squares[c] as number) + d * d;
    }
  }
  for (let c = 0; c < cols; c++) {
    const s = Math.sqrt((squares[c] as number) / rows);
    mean[c] = means[c] as number;
    std[c] = s < MIN_STD ? 1 : s;
  }
  return { mean, std };
}

function checkWidth(cols: number, s: Standardisation): void {
  if (s.mean.length !== cols || s.std.length !== cols) {
    throw new RangeError(
      `standardisation is for ${s.mean.length} features but the data has ${cols} columns`,
    );
  }
}

/** Returns a new matrix with (x - mean) / std applied column-wise. */
export function standardise(x: Matrix, s: Standardisation): Matrix {
  const out: Matrix = { data: new Float32Array(x.data), rows: x.rows, cols: x.cols };
  standardiseInPlace(out, s);
  return out;
}

/** Applies (x - mean) / std to every row of x, overwriting it; columns left out become 0. */
export function standardiseInPlace(x: Matrix, s: Standardisation): void {
  checkWidth(x.cols, s);
  standardiseRows(x.data, 0, x.rows, s);
}

/**
 * Applies (x - mean) / std to `rows` consecutive rows of `data` starting at row `firstRow`, in place,
 * without allocating: for buffers reused across batches on the online path.
 */
export function standardiseRows(
  data: Float32Array,
  firstRow: number,
  rows: number,
  s: Standardisation,
): void {
  const { mean, std, weight } = s;
  const cols = mean.length;
  let k = firstRow * cols;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      data[k] =
        weight?.[c] === 0 ? 0 : ((data[k] as number) - (mean[c] as number)) / (std[c] as number);
      k++;
    }
  }
}
