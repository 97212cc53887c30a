/**
 * Internal validity indices of a partition: how compact and how well apart its clusters are,
 * computed from the points alone. Each takes row-major points and labels in [0, clusters).
 */
import type { Matrix } from './types.js';

/** Row-major [clusters, cols] centroids and the size of each cluster. */
function centroidsOf(x: Matrix, labels: Int32Array, clusters: number) {
  const sums = new Float64Array(clusters * x.cols);
  const sizes = new Float64Array(clusters);
  for (let i = 0; i < x.rows; i++) {
    const c = labels[i]!;
    sizes[c]! += 1;
    for (let d = 0; d < x.cols; d++) sums[c * x.cols + d]! += x.data[i * x.cols + d]!;
  }
  for (let c = 0; c < clusters; c++) {
    if (sizes[c]! === 0) continue;
    for (let d = 0; d < x.cols; d++) sums[c * x.cols + d]! /= sizes[c]!;
  }
  return { centroids: sums, sizes };
}

/** Squared distance between row i of x and row j of the row-major `centres`. */
function squaredToCentre(x: Matrix, i: number, centres: Float64Array, j: number): number {
  let s = 0;
  for (let d = 0; d < x.cols; d++) {
    const diff = x.data[i * x.cols + d]! - centres[j * x.cols + d]!;
    s += diff * diff;
  }
  return s;
}

/**
 * Within-cluster sum of squares W_k = Σ_i |x_i - c_{label(i)}|², the quantity k-means minimises
 * and the gap statistic compares with reference data.
 */
export function withinClusterSquares(x: Matrix, labels: Int32Array, clusters: number): number {
  const { centroids } = centroidsOf(x, labels, clusters);
  let w = 0;
  for (let i = 0; i < x.rows; i++) w += squaredToCentre(x, i, centroids, labels[i]!);
  return w;
}

/**
 * Calinski–Harabasz (1974): (B / (k - 1)) / (W / (n - k)), between- over within-cluster dispersion,
 * each per degree of freedom. Higher is better.
 */
export function calinskiHarabasz(x: Matrix, labels: Int32Array, clusters: number): number {
  const { centroids, sizes } = centroidsOf(x, labels, clusters);
  const mean = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let d = 0; d < x.cols; d++) mean[d]! += x.data[i * x.cols + d]! / x.rows;
  }
  let between = 0;
  for (let c = 0; c < clusters; c++) {
    let s = 0;
    for (let d = 0; d < x.cols; d++) s += (centroids[c * x.cols + d]! - mean[d]!) ** 2;
    between += sizes[c]! * s;
  }
  let within = 0;
  for (let i = 0; i < x.rows; i++) within += squaredToCentre(x, i, centroids, labels[i]!);
  if (within === 0 || clusters < 2 || x.rows <= clusters) return 0;
  return between / (clusters - 1) / (within / (x.rows - clusters));
}

/**
 * Davies–Bouldin (1979): the mean over clusters of max_{j≠i} (s_i + s_j) / |c_i - c_j|, with s_i
 * the mean distance of cluster i's points to its centroid. Lower is better; empty clusters are
 * left out.
 */
export function daviesBouldin(x: Matrix, labels: Int32Array, clusters: number): number {
  const { centroids, sizes } = centroidsOf(x, labels, clusters);
  const spread = new Float64Array(clusters);
  for (let i = 0; i < x.rows; i++) {
    spread[labels[i]!]! += Math.sqrt(squaredToCentre(x, i, centroids, labels[i]!));
  }
  const live: number[] = [];
  for (let c = 0; c < clusters; c++) {
    if (sizes[c]! > 0) {
      spread[c]! /= sizes[c]!;
      live.push(c);
    }
  }
  if (live.length < 2) return Infinity;
  let total = 0;
  for (const a of live) {
    let worst = 0;
    for (const b of live) {
      if (a === b) continue;
      let d2 = 0;
      for (let d = 0; d < x.cols; d++) {
        d2 += (centroids[a * x.cols + d]! - centroids[b * x.cols + d]!) ** 2;
      }
      const ratio = d2 === 0 ? Infinity : (spread[a]! + spread[b]!) / Math.sqrt(d2);
      worst = Math.max(worst, ratio);
    }
    total += worst;
  }
  return total / live.length;
}

/** Row-major [n, n] Euclidean distances between the rows of x (computed once per space). */
export function pairwiseDistances(x: Matrix): Float32Array {
  const n = x.rows;
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let d = 0; d < x.cols; d++) {
        const diff = x.data[i * x.cols + d]! - x.data[j * x.cols + d]!;
        s += diff * diff;
      }
      const dist = Math.sqrt(s);
      out[i * n + j] = dist;
      out[j * n + i] = dist;
    }
  }
  return out;
}

/**
 * Mean silhouette (Rousseeuw 1987) from pairwise distances: per point s = (b - a) / max(a, b),
 * a its mean distance to its own cluster, b the smallest mean distance to another cluster;
 * 0 for a point alone in its cluster. From -1 to 1, higher is better.
 */
export function silhouette(distances: Float32Array, labels: Int32Array, clusters: number): number {
  const n = labels.length;
  const sizes = new Float64Array(clusters);
  for (const label of labels) sizes[label]! += 1;
  const sums = new Float64Array(clusters);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) sums[labels[j]!]! += distances[i * n + j]!;
    const own = labels[i]!;
    if (sizes[own]! <= 1) continue;
    const a = sums[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < clusters; c++) {
      if (c !== own && sizes[c]! > 0) b = Math.min(b, sums[c]! / sizes[c]!);
    }
    if (!Number.isFinite(b)) continue;
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return total / n;
}
