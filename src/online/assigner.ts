/**
 * Labels batches with a trained model: embedding, Student-t soft assignment q, the most likely
 * cluster, its probability (confidence) and the distance to its centroid. The model's weights live
 * on the device until dispose(); every call frees what it creates.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import {
  disposeLayers,
  forward,
  layersToTensors,
  type LayerTensors,
} from '../model/dense-network.js';
import { squaredDistances } from '../model/soft-assignment.js';
import type { AssignmentBatch, DecParameters, Matrix } from '../model/types.js';

/** Rows per forward pass; larger inputs are processed in chunks of this size. */
const CHUNK_ROWS = 4096;

export class Assigner {
  private readonly encoder: LayerTensors[];
  private readonly decoder: LayerTensors[];
  private readonly centroids: tf.Tensor2D;
  private readonly inputDims: number;
  private disposed = false;

  constructor(private readonly parameters: DecParameters) {
    const first = parameters.encoder[0];
    if (first === undefined) throw new UsageError('model has no encoder layers');
    this.inputDims = first.inputSize;
    this.encoder = layersToTensors(parameters.encoder);
    this.decoder = layersToTensors(parameters.decoder);
    this.centroids = tf.tensor2d(parameters.centroids, [
      parameters.clusters,
      parameters.embeddingSize,
    ]);
  }

  assign(x: Matrix): AssignmentBatch {
    this.check(x);
    const k = this.parameters.clusters;
    const cluster = new Int32Array(x.rows);
    const confidence = new Float32Array(x.rows);
    const q = new Float32Array(x.rows * k);
    const distance = new Float32Array(x.rows);
    const alpha = this.parameters.alpha;
    const power = -(alpha + 1) / 2;
    const kernel = new Float64Array(k);
    this.eachChunk(x, (xb, start) => {
      // One tensor result per chunk: the squared distances. The Student-t kernel over k values a
      // row is cheaper here than as more tensor ops (each op has a fixed cost per call).
      const d2 = tf.tidy(() => squaredDistances(forward(xb, this.encoder), this.centroids));
      const dv = d2.dataSync();
      d2.dispose();
      const size = xb.shape[0];
      for (let i = 0; i < size; i++) {
        const offset = i * k;
        let sum = 0;
        let best = 0;
        let bestKernel = -1;
        for (let j = 0; j < k; j++) {
          // DEC eq. 1: q_ij ∝ (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2).
          const base = 1 + dv[offset + j]! / alpha;
          const value = alpha === 1 ? 1 / base : Math.pow(base, power);
          kernel[j] = value;
          sum += value;
          if (value > bestKernel) {
            bestKernel = value;
            best = j;
          }
        }
        const row = (start + i) * k;
        for (let j = 0; j < k; j++) q[row + j] = kernel[j]! / sum;
        cluster[start + i] = best;
        confidence[start + i] = q[row + best]!;
        distance[start + i] = Math.sqrt(dv[offset + best]!);
      }
    });
    return { rows: x.rows, clusters: k, cluster, confidence, q, distance };
  }

  embed(x: Matrix): Matrix {
    this.check(x);
    const cols = this.parameters.embeddingSize;
    const data = new Float32Array(x.rows * cols);
    this.eachChunk(x, (xb, start) => {
      const z = forward(xb, this.encoder);
      data.set(z.dataSync(), start * cols);
      z.dispose();
    });
    return { data, rows: x.rows, cols };
  }

  /** Per-row mean squared reconstruction error (the drift signal). */
  reconstructionError(x: Matrix): Float32Array {
    this.check(x);
    const out = new Float32Array(x.rows);
    this.eachChunk(x, (xb, start) => {
      const e = tf.tidy(() =>
        tf.mean(tf.squaredDifference(forward(forward(xb, this.encoder), this.decoder), xb), 1),
      );
      out.set(e.dataSync(), start);
      e.dispose();
    });
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeLayers(this.encoder);
    disposeLayers(this.decoder);
    this.centroids.dispose();
  }

  private check(x: Matrix): void {
    if (this.disposed) throw new UsageError('assigner used after dispose()');
    if (x.cols !== this.inputDims) {
      throw new UsageError(`batch has ${x.cols} features, the model expects ${this.inputDims}`);
    }
    if (x.data.length !== x.rows * x.cols) {
      throw new UsageError(`matrix has ${x.data.length} values, expected ${x.rows} x ${x.cols}`);
    }
  }

  /** Runs fn on each chunk as a borrowed tensor, disposing it afterwards. */
  private eachChunk(x: Matrix, fn: (xb: tf.Tensor2D, start: number) => void): void {
    for (let start = 0; start < x.rows; start += CHUNK_ROWS) {
      const size = Math.min(CHUNK_ROWS, x.rows - start);
      const xb = tf.tensor2d(x.data.subarray(start * x.cols, (start + size) * x.cols), [
        size,
        x.cols,
      ]);
      try {
        fn(xb, start);
      } finally {
        xb.dispose();
      }
    }
  }
}
