/**
 * The manifold step of N2D (McConville et al., ICPR 2020): UMAP of the autoencoder's embedding
 * into k dimensions, then k-means there. UMAP keeps each point's neighbourhood and lets clusters
 * that the embedding bends stay whole, where k-means in the embedding cuts across them. The
 * partition it finds is then distilled into DEC's encoder and centroids (fine-tune.ts, TargetAnchor),
 * so serving stays one forward pass and needs no UMAP at all.
 */
import { UMAP } from 'umap-js';
import { distinctRows, expandRows } from './distinct-rows.js';
import { kmeansRestarts } from './kmeans-init.js';
import { yieldToEventLoop } from './pretrain.js';
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

/** UMAP epochs between yields to the event loop. */
const EPOCHS_PER_YIELD = 10;

/**
 * UMAP (min_dist 0, N2D's setting: tight clumps) of z into `dims` dimensions, row-major
 * [rows, dims]. When some row has as many copies as a neighbourhood holds, those copies would
 * be one another's only neighbours, an island of the graph (distinct-rows.ts); then only z's
 * distinct rows are laid out and every copy takes its row's place, so k-means in the layout still
 * counts every copy. Tables with fewer copies are laid out as they are. The layout is optimised
 * epoch by epoch with yields in between, so a worker's consumer keeps its heartbeat during a
 * bootstrap.
 */
export async function umapLayout(
  z: Matrix,
  dims: number,
  neighbours: number,
  rng: SeededRandom,
): Promise<Matrix> {
  const { distinct, indexOf, mostCopies } = distinctRows(z);
  if (mostCopies < Math.min(neighbours, z.rows - 1) || distinct.rows <= dims) {
    return layoutRows(z, dims, neighbours, rng);
  }
  return expandRows(await layoutRows(distinct, dims, neighbours, rng), indexOf);
}

async function layoutRows(
  z: Matrix,
  dims: number,
  neighbours: number,
  rng: SeededRandom,
): Promise<Matrix> {
  const umap = new UMAP({
    nComponents: dims,
    nNeighbors: Math.min(neighbours, z.rows - 1),
    minDist: 0,
    random: () => rng.next(),
  });
  const epochs = umap.initializeFit(toRows(z));
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (epoch % EPOCHS_PER_YIELD === 0) await yieldToEventLoop();
    umap.step();
  }
  const fitted = umap.getEmbedding();
  const data = new Float32Array(z.rows * dims);
  fitted.forEach((row, i) => data.set(row, i * dims));
  return { data, rows: z.rows, cols: dims };
}

/** UMAP into k dimensions (N2D), then k-means with restarts there. */
export async function manifoldPartition(
  z: Matrix,
  options: ManifoldPartitionOptions,
  rng: SeededRandom,
): Promise<ManifoldPartition> {
  const layout = await umapLayout(z, options.clusters, options.neighbours, rng);
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
