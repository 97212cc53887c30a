/** The middle value, or the mean of the two middle values; NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, smallest and largest of several runs: how results are reported over seeds. */
export function spread(values: readonly number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * The q-quantile (0 < q ≤ 1) of ascending `sorted` by the nearest-rank rule: the smallest value
 * with at least a share q of the values at or below it. NaN for no values.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/** `value` rounded to `digits` decimals, for result files that stay readable. */
export function round(value: number, digits = 4): number {
  return Number(value.toFixed(digits));
}
