/**
 * k-means as a model version in DEC's own format. The encoder and decoder are one linear identity
 * layer each, so the "embedding" is the standardised input and the centroids are k-means' centres.
 * The Student-t head then labels each record with its nearest centre (q is monotone in distance),
 * and every consumer of a snapshot (the worker, `assign`, `inspect`, refinement, which moves the
 * centroids as online k-means does) works unchanged.
 */
import type { DecParameters, DenseLayer } from './types.js';

/** A dims x dims linear layer that passes its input through unchanged. */
export function identityLayer(dims: number): DenseLayer {
  const weights = new Float32Array(dims * dims);
  for (let i = 0; i < dims; i++) weights[i * dims + i] = 1;
  return {
    inputSize: dims,
    outputSize: dims,
    weights,
    bias: new Float32Array(dims),
    activation: 'linear',
  };
}

/** Parameters that assign to the nearest of `centroids` (row-major [clusters, dims]). */
export function kmeansParameters(
  centroids: Float32Array,
  clusters: number,
  dims: number,
  alpha: number,
): DecParameters {
  return {
    encoder: [identityLayer(dims)],
    decoder: [identityLayer(dims)],
    centroids: Float32Array.from(centroids),
    clusters,
    embeddingSize: dims,
    alpha,
  };
}
