/**
 * Online k-means with a constant step in the model's embedding, warm-started from the serving
 * centroids: the refinement candidate that competes with the KL step. Each row, in arrival order,
 * moves its nearest centroid c ← c + step · (z − c) (MacQueen's update with a constant rate, which
 * forgets old records geometrically and so follows drift). Ids stay those of the warm start.
 */
import type { Matrix } from '../model/types.js';

/** The centroids after one pass over `embedded` (rows oldest first); the input is not changed. */
export function onlineKmeansPass(
  centroids: Float32Array,
  embedded: Matrix,
  clusters: number,
  step: number,
): Float32Array {
  if (!(step > 0 && step <= 1)) throw new RangeError(`step must be in (0, 1], got ${step}`);
  const d = embedded.cols;
  if (centroids.length !== clusters * d) {
    throw new RangeError(`centroids hold ${centroids.length} values, expected ${clusters} × ${d}`);
  }
  const out = Float32Array.from(centroids);
  const z = embedded.data;
  for (let i = 0; i < embedded.rows; i++) {
    const row = i * d;
    let best = 0;
    let bestDistance = Infinity;
    for (let j = 0; j < clusters; j++) {
      let distance = 0;
      for (let t = 0; t < d; t++) distance += (z[row + t]! - out[j * d + t]!) ** 2;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = j;
      }
    }
    for (let t = 0; t < d; t++) {
      const c = out[best * d + t]!;
      out[best * d + t] = c + step * (z[row + t]! - c);
    }
  }
  return out;
}
