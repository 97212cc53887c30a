/**
 * Unsupervised scores of a partition, for choosing among candidate models without labels.
 *
 * Each candidate (k-means on the inputs, the deep model) is judged in spaces it shares with the
 * others, never only in its own embedding, where a model always looks good (Wang & Ye 2024). The
 * score is the normalised cut of the partition on k-nearest-neighbour graphs: the share of each
 * cluster's edges that leave it, averaged over clusters,
 *   ncut(P, G) = (1/k) Σ_j cut(C_j, V \ C_j) / vol(C_j),
 * the objective spectral clustering minimises (Shi & Malik 2000). It needs no convex clusters, so
 * a partition that follows a bent manifold beats one that cuts across it, and the volume term
 * punishes splitting off tiny clusters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { yieldToEventLoop } from './pretrain.js';
import type { Matrix } from './types.js';

/** Rows per distance block when finding neighbours. */
const NEIGHBOUR_CHUNK_ROWS = 512;

/**
 * The `neighbours` nearest rows of each row (Euclidean, itself excluded): row-major
 * [rows, neighbours] indices. Exact, by blocks of squared distances on the tensor backend; it
 * yields between blocks, so a worker's consumer keeps its heartbeat during a bootstrap.
 */
export async function nearestNeighbourGraph(x: Matrix, neighbours: number): Promise<Int32Array> {
  const m = Math.min(neighbours, x.rows - 1);
  const graph = new Int32Array(x.rows * m);
  const all = tf.tensor2d(x.data, [x.rows, x.cols]);
  // An explicit transpose: the wasm backend's matMul is several times slower transposing itself.
  const allT = tf.transpose(all);
  try {
    const norms = tf.tidy(() => tf.reshape(tf.sum(tf.square(all), 1), [1, -1]));
    for (let start = 0; start < x.rows; start += NEIGHBOUR_CHUNK_ROWS) {
      await yieldToEventLoop();
      const size = Math.min(NEIGHBOUR_CHUNK_ROWS, x.rows - start);
      const idx = tf.tidy(() => {
        const block = tf.slice(all, [start, 0], [size, -1]);
        // |a - b|^2 up to the row's own |a|^2, which does not change its ranking.
        const d2 = tf.sub(norms, tf.mul(tf.matMul(block, allT), 2));
        return tf.topk(tf.neg(d2), m + 1).indices;
      });
      const found = idx.dataSync();
      idx.dispose();
      for (let i = 0; i < size; i++) {
        const row = start + i;
        let written = 0;
        for (let j = 0; j <= m && written < m; j++) {
          const other = found[i * (m + 1) + j]!;
          if (other !== row) graph[row * m + written++] = other;
        }
      }
    }
    norms.dispose();
  } finally {
    all.dispose();
    allT.dispose();
  }
  return graph;
}

/**
 * Normalised cut of `labels` on a k-nearest-neighbour graph (edges i → graph[i*m + j], taken as
 * undirected): 0 when no edge leaves any cluster, near 1 when clusters are random. An empty
 * cluster counts as fully cut, so a partition that loses clusters scores badly.
 */
export function normalisedCut(
  graph: Int32Array,
  neighbours: number,
  labels: Int32Array,
  clusters: number,
): number {
  const volume = new Float64Array(clusters);
  const cut = new Float64Array(clusters);
  const rows = labels.length;
  for (let i = 0; i < rows; i++) {
    const a = labels[i]!;
    for (let j = 0; j < neighbours; j++) {
      const b = labels[graph[i * neighbours + j]!]!;
      // Each directed edge adds to the volume (and the cut) of both ends: the undirected graph.
      volume[a]! += 1;
      volume[b]! += 1;
      if (a !== b) {
        cut[a]! += 1;
        cut[b]! += 1;
      }
    }
  }
  let total = 0;
  for (let c = 0; c < clusters; c++) total += volume[c]! > 0 ? cut[c]! / volume[c]! : 1;
  return total / clusters;
}
