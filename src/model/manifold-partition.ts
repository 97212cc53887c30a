/**
 * The manifold step of N2D (McConville et al., ICPR 2020): UMAP of the autoencoder's embedding
 * into k dimensions, then k-means there. UMAP keeps each point's neighbourhood and lets clusters
 * that the embedding bends stay whole, where k-means in the embedding cuts across them. The
 * partition it finds is then distilled into DEC's encoder and centroids (fine-tune.ts, TargetAnchor),
 * so serving stays one forward pass and needs no UMAP at all.
 */
import { UMAP } from 'umap-js';
import { kmeansRestarts } from './kmeans-init.js';
import type { SeededRandom } from './rng.js';
import type { Matrix } from './types.js';

export interface ManifoldPartitionOptions {
  readonly clusters: number;
  /** UMAP's neighbourhood size: N2D uses 20. */
  readonly neighbours: number;
  readonly kmeansRestarts: number;
}

export interface ManifoldPartition {
  readonly labels: Int32Array;
  /** The k-dimensional UMAP layout, row-major [rows, clusters]. */
  readonly layout: Matrix;
}

function toRows(x: Matrix): number[][] {
  return Array.from({ length: x.rows }, (_, i) =>
    Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)),
  );
}

/** UMAP (min_dist 0, N2D's setting: tight clumps) into k dimensions, then k-means with restarts. */
export function manifoldPartition(
  z: Matrix,
  options: ManifoldPartitionOptions,
  rng: SeededRandom,
): ManifoldPartition {
  const dims = options.clusters;
  const umap = new UMAP({
    nComponents: dims,
    nNeighbors: Math.min(options.neighbours, z.rows - 1),
    minDist: 0,
    random: () => rng.next(),
  });
  const fitted = umap.fit(toRows(z));
  const data = new Float32Array(z.rows * dims);
  fitted.forEach((row, i) => data.set(row, i * dims));
  const layout: Matrix = { data, rows: z.rows, cols: dims };
  const { labels } = kmeansRestarts(layout, options.clusters, options.kmeansRestarts, rng);
  return { labels, layout };
}

/** Row-major [clusters, cols] means of the rows of z in each cluster (0 for an empty cluster). */
export function clusterMeans(z: Matrix, labels: Int32Array, clusters: number): Float32Array {
  const sums = new Float64Array(clusters * z.cols);
  const counts = new Float64Array(clusters);
  for (let i = 0; i < z.rows; i++) {
    const c = labels[i]!;
    counts[c]! += 1;
    for (let d = 0; d < z.cols; d++) sums[c * z.cols + d]! += z.data[i * z.cols + d]!;
  }
  const means = new Float32Array(clusters * z.cols);
  for (let c = 0; c < clusters; c++) {
    for (let d = 0; d < z.cols; d++) {
      means[c * z.cols + d] = counts[c]! > 0 ? sums[c * z.cols + d]! / counts[c]! : 0;
    }
  }
  return means;
}
