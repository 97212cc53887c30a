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

/**
 * The normalised cut at or below which two parts of a cluster are separate groups: a neck that few
 * neighbour edges cross, not a dense middle. On a 10-neighbour graph of 4-dimensional Gaussian
 * groups (sd 1), a 2-means split of one group cuts about 0.12; of two groups 3 sd apart 0.05,
 * 4 sd apart 0.03, 6 sd apart under 0.01.
 */
export const SEPARATE_GROUPS_MAX_CUT = 0.05;

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
  const { cut, volume } = cutAndVolume(graph, neighbours, labels, clusters);
  let total = 0;
  for (let c = 0; c < clusters; c++) total += volume[c]! > 0 ? cut[c]! / volume[c]! : 1;
  return total / clusters;
}

/**
 * Per cluster, the edges that leave it (cut) and all its edges' ends (volume), on the undirected
 * graph: each directed edge adds to both ends. With `inside`, only edges between marked rows count.
 */
function cutAndVolume(
  graph: Int32Array,
  neighbours: number,
  labels: Int32Array,
  clusters: number,
  inside?: Uint8Array,
): { cut: Float64Array; volume: Float64Array } {
  const volume = new Float64Array(clusters);
  const cut = new Float64Array(clusters);
  for (let i = 0; i < labels.length; i++) {
    if (inside !== undefined && inside[i] !== 1) continue;
    const a = labels[i]!;
    for (let j = 0; j < neighbours; j++) {
      const other = graph[i * neighbours + j]!;
      if (inside !== undefined && inside[other] !== 1) continue;
      const b = labels[other]!;
      volume[a]! += 1;
      volume[b]! += 1;
      if (a !== b) {
        cut[a]! += 1;
        cut[b]! += 1;
      }
    }
  }
  return { cut, volume };
}

/**
 * The share of rows that `labels` merges and `rival` keeps apart as separate groups. A cluster of
 * `labels` holds parts of two or more rival clusters (each more than `neighbours` rows there);
 * they are separate groups when, on the graph restricted to those rows, the rival's partition of
 * them has a normalised cut of at most `maxCut`. Then the rows of all but the largest part count
 * as merged. A rival that only draws another border through a group cuts many edges there, and
 * finds no merge.
 */
export function mergedAgainst(
  graph: Int32Array,
  neighbours: number,
  labels: Int32Array,
  rival: Int32Array,
  clusters: number,
  maxCut: number,
): number {
  const rows = labels.length;
  if (rows === 0) return 0;
  const overlap = new Int32Array(clusters * clusters);
  for (let i = 0; i < rows; i++) overlap[labels[i]! * clusters + rival[i]!]! += 1;
  let merged = 0;
  for (let c = 0; c < clusters; c++) {
    const parts: number[] = [];
    for (let r = 0; r < clusters; r++) if (overlap[c * clusters + r]! > neighbours) parts.push(r);
    if (parts.length < 2) continue;
    const inside = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      if (labels[i] === c && parts.includes(rival[i]!)) inside[i] = 1;
    }
    if (cutWithin(graph, neighbours, rival, inside, clusters) > maxCut) continue;
    const sizes = parts.map((r) => overlap[c * clusters + r]!);
    merged += sizes.reduce((sum, n) => sum + n, 0) - Math.max(...sizes);
  }
  return merged / rows;
}

/** Normalised cut of `labels` on the subgraph of the rows marked `inside` (clusters present only). */
function cutWithin(
  graph: Int32Array,
  neighbours: number,
  labels: Int32Array,
  inside: Uint8Array,
  clusters: number,
): number {
  const { cut, volume } = cutAndVolume(graph, neighbours, labels, clusters, inside);
  let total = 0;
  let present = 0;
  for (let c = 0; c < clusters; c++) {
    if (volume[c]! === 0) continue;
    total += cut[c]! / volume[c]!;
    present += 1;
  }
  return present === 0 ? 0 : total / present;
}
