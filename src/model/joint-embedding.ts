/**
 * The manifold start's space when several autoencoders are pretrained: their embeddings of the
 * same rows side by side. Each is centred and scaled to a unit root-mean-square distance from its
 * mean first, so every autoencoder weighs the same in UMAP's neighbour distances whatever the
 * scale its training settled on. Where one autoencoder's embedding merges two groups that another
 * keeps apart, the joined space keeps them apart: a seed's bad embedding counts for less.
 */
import type { Matrix } from './types.js';

/** Column means of m. */
function columnMeans(m: Matrix): Float64Array {
  const means = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    for (let c = 0; c < m.cols; c++) means[c]! += m.data[i * m.cols + c]!;
  }
  return means.map((sum) => sum / m.rows);
}

/** sqrt(mean over rows of |row - mean|^2); 1 for a constant embedding, which then stays 0. */
function rmsDistanceFromMean(m: Matrix, means: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < m.rows; i++) {
    for (let c = 0; c < m.cols; c++) sum += (m.data[i * m.cols + c]! - means[c]!) ** 2;
  }
  const rms = Math.sqrt(sum / m.rows);
  return rms > 0 ? rms : 1;
}

/** The embeddings (same rows, in the same order) centred, scaled and joined column-wise. */
export function joinEmbeddings(embeddings: readonly Matrix[]): Matrix {
  const rows = embeddings[0]!.rows;
  if (embeddings.some((m) => m.rows !== rows)) {
    throw new Error('joinEmbeddings: every embedding must hold the same rows');
  }
  const cols = embeddings.reduce((sum, m) => sum + m.cols, 0);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const m of embeddings) {
    const means = columnMeans(m);
    const scale = rmsDistanceFromMean(m, means);
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < m.cols; c++) {
        data[i * cols + offset + c] = (m.data[i * m.cols + c]! - means[c]!) / scale;
      }
    }
    offset += m.cols;
  }
  return { data, rows, cols };
}
