/**
 * DEC's clustering head: Student-t soft assignment, the sharpened target distribution, KL(P || Q)
 * and its gradient. All functions return new tensors; callers run them inside tf.tidy.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Squared Euclidean distances [n, k] between rows of z [n, e] and centroids mu [k, e]. */
export function squaredDistances(z: tf.Tensor2D, mu: tf.Tensor2D): tf.Tensor2D {
  const zz = tf.sum(tf.square(z), 1, true);
  const mm = tf.reshape(tf.sum(tf.square(mu), 1), [1, -1]);
  const cross = tf.matMul(z, tf.transpose(mu));
  return tf.relu(tf.add(tf.sub(zz, tf.mul(cross, 2)), mm));
}

/**
 * DEC eq. 1: Student-t kernel between z_i and centroid mu_j,
 * q_ij = (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2), normalised over j.
 */
export function softAssignment(z: tf.Tensor2D, mu: tf.Tensor2D, alpha: number): tf.Tensor2D {
  const kernel = studentKernel(squaredDistances(z, mu), alpha);
  return tf.div(kernel, tf.sum(kernel, 1, true));
}

function studentKernel(d2: tf.Tensor2D, alpha: number): tf.Tensor2D {
  const base: tf.Tensor2D = tf.add(tf.div(d2, alpha), 1);
  return alpha === 1 ? tf.reciprocal(base) : tf.pow<tf.Tensor2D>(base, -(alpha + 1) / 2);
}

/** Soft cluster sizes f_j = Σ_i q_ij. */
export function softClusterSizes(q: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(q, 0);
}

/**
 * DEC eq. 3: p_ij = (q_ij^2 / f_j) / Σ_j' (q_ij'^2 / f_j'). `f` defaults to the soft sizes of q
 * itself; a stream passes its running estimate instead of a small batch's own sizes.
 */
export function targetDistribution(q: tf.Tensor2D, f?: tf.Tensor1D): tf.Tensor2D {
  const sizes = f ?? softClusterSizes(q);
  const weight = tf.div(tf.square(q), tf.reshape(tf.maximum(sizes, 1e-12), [1, -1]));
  return tf.div(weight, tf.sum(weight, 1, true));
}

/** KL(P || Q) = (1/n) Σ_i Σ_j p_ij log(p_ij / q_ij), the per-row mean of the divergence. */
export function klDivergence(p: tf.Tensor2D, q: tf.Tensor2D): tf.Scalar {
  const eps = 1e-12;
  const terms = tf.mul(p, tf.sub(tf.log(tf.maximum(p, eps)), tf.log(tf.maximum(q, eps))));
  return tf.div(tf.sum(terms), p.shape[0]);
}

/**
 * DEC eq. 4 (any alpha): with w_ij = 1 / (1 + |z_i - mu_j|^2 / alpha) and c = (alpha + 1) / alpha,
 *   dL/dz_i  =  (c/n) Σ_j w_ij (p_ij - q_ij)(z_i - mu_j)
 *   dL/dmu_j = -(c/n) Σ_i w_ij (p_ij - q_ij)(z_i - mu_j)
 * for L = klDivergence(p, softAssignment(z, mu, alpha)) with p held fixed.
 */
export function klGradients(
  z: tf.Tensor2D,
  mu: tf.Tensor2D,
  p: tf.Tensor2D,
  alpha: number,
): { loss: tf.Scalar; q: tf.Tensor2D; dz: tf.Tensor2D; dmu: tf.Tensor2D } {
  const d2 = squaredDistances(z, mu);
  const w: tf.Tensor2D = tf.reciprocal(tf.add(tf.div(d2, alpha), 1));
  const kernel = alpha === 1 ? w : tf.pow<tf.Tensor2D>(w, (alpha + 1) / 2);
  const q: tf.Tensor2D = tf.div(kernel, tf.sum(kernel, 1, true));
  const scale = (alpha + 1) / alpha / z.shape[0];
  const c: tf.Tensor2D = tf.mul(tf.mul(w, tf.sub(p, q)), scale);
  // Σ_j c_ij (z_i - mu_j) = rowsum(c)_i z_i - (c mu)_i
  const dz: tf.Tensor2D = tf.sub(tf.mul(tf.sum(c, 1, true), z), tf.matMul(c, mu));
  // -Σ_i c_ij (z_i - mu_j) = colsum(c)_j mu_j - (c^T z)_j
  const dmu: tf.Tensor2D = tf.sub(
    tf.mul(tf.reshape(tf.sum(c, 0), [-1, 1]), mu),
    tf.matMul(tf.transpose(c), z),
  );
  return { loss: klDivergence(p, q), q, dz, dmu };
}
