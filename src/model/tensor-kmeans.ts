/**
 * k-means on the inputs for the guard's baseline, with the distance work on the tensor backend.
 * ml-kmeans (kmeans-init.ts) computes distances in plain JavaScript, which is fine in a 10-dimensional
 * embedding but took about a minute for 20 restarts on 3,000 records of 784 pixels; Lloyd's steps
 * as two matrix products take a few seconds. Seeding is k-means++ (Arthur & Vassilvitskii 2007)
 * from the training seed's stream, so the result is as deterministic as the rest of training.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KmeansInitResult } from './kmeans-init.js';
import { yieldToEventLoop } from './pretrain.js';
import type { SeededRandom } from './rng.js';
import type { Matrix } from './types.js';

/** k-means++: each next centre drawn with probability proportional to D(x)^2. */
export function kmeansPlusPlus(x: Matrix, clusters: number, rng: SeededRandom): Float32Array {
  const { rows, cols, data } = x;
  const centroids = new Float32Array(clusters * cols);
  const nearest = new Float64Array(rows).fill(Infinity);
  let chosen = rng.int(rows);
  for (let j = 0; j < clusters; j++) {
    centroids.set(data.subarray(chosen * cols, (chosen + 1) * cols), j * cols);
    let total = 0;
    for (let i = 0; i < rows; i++) {
      let d = 0;
      for (let c = 0; c < cols; c++) {
        const diff = data[i * cols + c]! - centroids[j * cols + c]!;
        d += diff * diff;
      }
      if (d < nearest[i]!) nearest[i] = d;
      total += nearest[i]!;
    }
    if (total === 0) {
      chosen = rng.int(rows);
      continue;
    }
    let target = rng.next() * total;
    chosen = rows - 1;
    for (let i = 0; i < rows; i++) {
      target -= nearest[i]!;
      if (target <= 0) {
        chosen = i;
        break;
      }
    }
  }
  return centroids;
}

/** Lloyd's steps per run at most; runs stop well before (below 0.1 % of labels changing). */
const MAX_ITERATIONS = 300;

/** Lloyd's iterations from `start` until no label changes: labels, centroids and inertia. */
function lloyd(
  xTensor: tf.Tensor2D,
  norms: tf.Tensor2D,
  start: Float32Array,
  clusters: number,
  maxIterations: number,
): KmeansInitResult {
  const rows = xTensor.shape[0];
  const cols = xTensor.shape[1];
  let centroids = start;
  let labels = new Int32Array(rows).fill(-1);
  let inertia = Infinity;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const [nextLabels, nextInertia, sums, counts] = tf.tidy(() => {
      const mu = tf.tensor2d(centroids, [clusters, cols]);
      // |x - mu|^2 = |x|^2 - 2 x.mu + |mu|^2. Transposes are explicit: the wasm backend's
      // matMul is several times slower when asked to transpose an operand itself.
      const d2 = tf.add(
        tf.sub(norms, tf.mul(tf.matMul(xTensor, tf.transpose(mu)), 2)),
        tf.reshape(tf.sum(tf.square(mu), 1), [1, -1]),
      );
      const assigned = tf.argMin<tf.Tensor1D>(d2, 1);
      const best = tf.sum(tf.relu(tf.min(d2, 1)));
      // Per-cluster sums and counts as products with the one-hot assignment (the wasm backend
      // has no segment sum). The one-hot is cast rather than asked for as float32: the wasm
      // backend's OneHot kernel ignores the dtype and writes int32 bits into a float32 tensor,
      // which read as denormals (1 as 1.4e-45) and left every centre short of its rows' mean.
      const members = tf.cast(tf.oneHot(assigned, clusters), 'float32') as tf.Tensor2D;
      return [
        assigned.dataSync() as Int32Array,
        best.dataSync()[0]!,
        tf.matMul(tf.transpose(members), xTensor).dataSync() as Float32Array,
        tf.sum(members, 0).dataSync() as Float32Array,
      ] as const;
    });
    inertia = nextInertia;
    let changed = 0;
    for (let i = 0; i < rows; i++) if (nextLabels[i] !== labels[i]) changed++;
    labels = Int32Array.from(nextLabels);
    // Lloyd's last steps move a handful of boundary points each; stopping when fewer than 0.1 %
    // change costs nothing measurable in inertia and saves most of the iterations.
    if (changed <= rows * 1e-3) break;
    // An empty cluster keeps its centre; every other moves to the mean of its rows.
    const next = Float32Array.from(centroids);
    for (let j = 0; j < clusters; j++) {
      if (counts[j]! === 0) continue;
      for (let c = 0; c < cols; c++) next[j * cols + c] = sums[j * cols + c]! / counts[j]!;
    }
    centroids = next;
  }
  return { centroids, labels, inertia };
}

/**
 * The best (lowest inertia) of `restarts` k-means runs on x. It yields between runs, so a worker's
 * consumer keeps its heartbeat during a bootstrap, and stops there once `signal` aborts.
 */
export async function tensorKmeans(
  x: Matrix,
  clusters: number,
  restarts: number,
  rng: SeededRandom,
  signal?: AbortSignal,
): Promise<KmeansInitResult> {
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  const norms = tf.tidy(() => tf.sum<tf.Tensor2D>(tf.square(xTensor), 1, true));
  try {
    let best: KmeansInitResult | undefined;
    for (let r = 0; r < Math.max(1, restarts); r++) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
      const run = lloyd(xTensor, norms, kmeansPlusPlus(x, clusters, rng), clusters, MAX_ITERATIONS);
      if (best === undefined || run.inertia < best.inertia) best = run;
    }
    return best!;
  } finally {
    xTensor.dispose();
    norms.dispose();
  }
}
