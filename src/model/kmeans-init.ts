/**
 * Initial centroids: k-means (ml-kmeans, k-means++ seeding) restarted n times with seeds drawn from
 * the training seed; the run with the lowest inertia wins (n_init in scikit-learn's terms).
 */
import { kmeans } from 'ml-kmeans';
import type { Matrix } from './types.js';
import type { SeededRandom } from './rng.js';

export interface KmeansInitResult {
  /** Row-major [clusters, cols]. */
  readonly centroids: Float32Array;
  readonly labels: Int32Array;
  /** Σ_i |x_i - c_{label(i)}|^2 of the winning run. */
  readonly inertia: number;
}

/**
 * Runs the guard's baseline k-means (tensor-kmeans.ts) here or elsewhere, another thread, with the
 * result it gives here and leaving `rng` where it would leave it, so training is the same wherever
 * the baseline runs. Rejects once `signal` aborts.
 */
export type KmeansRunner = (
  x: Matrix,
  clusters: number,
  restarts: number,
  rng: SeededRandom,
  signal?: AbortSignal,
) => Promise<KmeansInitResult>;

export function toRows(x: Matrix): number[][] {
  const rows: number[][] = new Array<number[]>(x.rows);
  for (let i = 0; i < x.rows; i++) {
    rows[i] = Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols));
  }
  return rows;
}

/** Assigns each row to its nearest centroid and returns labels and inertia. */
export function nearestCentroids(
  x: Matrix,
  centroids: Float32Array,
  clusters: number,
): { labels: Int32Array; inertia: number } {
  const labels = new Int32Array(x.rows);
  const d = x.cols;
  let inertia = 0;
  for (let i = 0; i < x.rows; i++) {
    let best = Infinity;
    let bestJ = 0;
    for (let j = 0; j < clusters; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = x.data[i * d + c]! - centroids[j * d + c]!;
        s += diff * diff;
      }
      if (s < best) {
        best = s;
        bestJ = j;
      }
    }
    labels[i] = bestJ;
    inertia += best;
  }
  return { labels, inertia };
}

export function kmeansRestarts(
  x: Matrix,
  clusters: number,
  restarts: number,
  rng: SeededRandom,
  options: { maxIterations?: number; onRestart?: (restart: number, inertia: number) => void } = {},
): KmeansInitResult {
  const rows = toRows(x);
  let best: KmeansInitResult | undefined;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    const seed = rng.fork() % 2147483647;
    const result = kmeans(rows, clusters, {
      initialization: 'kmeans++',
      seed,
      maxIterations: options.maxIterations ?? 300,
      tolerance: 1e-6,
    });
    const centroids = new Float32Array(clusters * x.cols);
    result.centroids.forEach((c, j) => centroids.set(c, j * x.cols));
    const { labels, inertia } = nearestCentroids(x, centroids, clusters);
    options.onRestart?.(r + 1, inertia);
    if (best === undefined || inertia < best.inertia) best = { centroids, labels, inertia };
  }
  return best!;
}
