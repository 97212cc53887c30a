import { SeededRandom } from '../../../src/model/rng.js';
import type { Matrix } from '../../../src/model/types.js';

/**
 * `clusters` well separated Gaussian blobs (unit spread) in `dims` dimensions, centred at ±10 on
 * each axis in turn (+10 e_0, +10 e_1, ..., then -10 e_0, ...: at least 14 apart), rows dealt
 * round-robin to the blobs. At most 2 * dims clusters.
 */
export function gaussianMixture(
  rows: number,
  clusters: number,
  dims: number,
  seed: number,
): { x: Matrix; labels: Int32Array } {
  if (clusters > 2 * dims) throw new RangeError(`at most ${2 * dims} blobs in ${dims} dimensions`);
  const rng = new SeededRandom(seed);
  const centres = Array.from({ length: clusters }, (_, c) =>
    Array.from({ length: dims }, (_, d) => (d === c % dims ? (c < dims ? 10 : -10) : 0)),
  );
  const data = new Float32Array(rows * dims);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % clusters;
    labels[i] = c;
    for (let d = 0; d < dims; d++) data[i * dims + d] = centres[c]![d]! + rng.normal();
  }
  return { x: { data, rows, cols: dims }, labels };
}

/** The rows of x as records with fields f0, f1, ... */
export function toRecords(x: Matrix): { records: Record<string, number>[]; fields: string[] } {
  const fields = Array.from({ length: x.cols }, (_, c) => `f${c}`);
  const records = Array.from({ length: x.rows }, (_, i) =>
    Object.fromEntries(fields.map((f, c) => [f, x.data[i * x.cols + c]!])),
  );
  return { records, fields };
}

/** trainSnapshot options for a network small enough to train on a few hundred rows in a second. */
export function tinyTraining(clusters: number, batchSize: number) {
  return {
    clusters,
    seed: 1,
    hiddenSizes: [8],
    embeddingSize: 2,
    pretrainEpochs: 5,
    kmeansRestarts: 2,
    maxIterations: 20,
    batchSize,
    backend: 'cpu' as const,
  };
}
