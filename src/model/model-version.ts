/**
 * One model version ready to use: the feature layout and standardisation it was trained with, and
 * its encoder, decoder and centroids on the tensor backend. Every path that labels records goes
 * through it (the worker, the labelling thread, the refiner and the CLI), so a record is turned into
 * features, scaled, checked and assigned the same way everywhere.
 *
 * Tensor ownership: the weights live on the backend from construction until dispose(); every other
 * call frees the tensors it creates before it returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PoisonReason, PoisonRecordError, UsageError } from '../errors.js';
import { disposeLayers, forward, layersToTensors, type LayerTensors } from './dense-network.js';
import { reorderRows } from './canonical-order.js';
import { clusterIdsOf } from './cluster-ids.js';
import { FeatureExtractor } from './features.js';
import { overflowedRows } from './overflowed-rows.js';
import { squaredDistances } from './soft-assignment.js';
import type {
  AssignmentBatch,
  DecParameters,
  DenseLayer,
  Matrix,
  ModelSnapshot,
  Standardisation,
} from './types.js';

/** Rows per forward pass; larger inputs are processed in chunks of this size. */
const CHUNK_ROWS = 4096;

/** A record that could not be turned into a feature row: its index among the records and why. */
export interface RejectedRecord {
  readonly index: number;
  readonly error: PoisonRecordError;
}

/** The standardised feature rows of the usable records; `row[i]` is record i's row, or -1. */
export interface RecordFeatures {
  readonly x: Matrix;
  readonly row: Int32Array;
  readonly rejected: readonly RejectedRecord[];
}

/** Labels for a batch of records; `row[i]` is the batch row of record i, or -1 if rejected. */
export interface RecordAssignments {
  readonly batch: AssignmentBatch;
  readonly row: Int32Array;
  readonly rejected: readonly RejectedRecord[];
}

/** What a model version is made of: a snapshot has all of it. */
export type ModelVersionParts = Pick<
  ModelSnapshot,
  'version' | 'featureSpec' | 'standardisation' | 'parameters' | 'clusterIds'
>;

export class ModelVersion {
  readonly version: number;
  readonly extractor: FeatureExtractor;
  readonly parameters: DecParameters;
  /** The id each cluster is published under (cluster-ids.ts); assignments hold indices. */
  readonly clusterIds: readonly number[];
  private readonly standardisation: Standardisation;
  private readonly encoder: LayerTensors[];
  private readonly decoder: LayerTensors[];
  private readonly centroids: tf.Tensor2D;
  private disposed = false;

  constructor(parts: ModelVersionParts) {
    const { parameters } = parts;
    if (parameters.encoder[0] === undefined) throw new UsageError('model has no encoder layers');
    this.version = parts.version;
    this.extractor = new FeatureExtractor(parts.featureSpec);
    this.standardisation = parts.standardisation;
    this.parameters = parameters;
    this.clusterIds = clusterIdsOf(parts);
    this.encoder = layersToTensors(parameters.encoder);
    this.decoder = layersToTensors(parameters.decoder);
    this.centroids = tf.tensor2d(parameters.centroids, [
      parameters.clusters,
      parameters.embeddingSize,
    ]);
  }

  /**
   * Parameters alone, for rows that are already standardised (a refinement candidate, training,
   * benchmarks): one vector feature `x` as wide as the encoder's input, and the identity scaling.
   */
  static ofParameters(parameters: DecParameters, version = 0): ModelVersion {
    const dims = parameters.encoder[0]?.inputSize ?? 0;
    return new ModelVersion({
      version,
      featureSpec: { fields: ['x'], widths: [dims] },
      standardisation: { mean: new Float32Array(dims), std: new Float32Array(dims).fill(1) },
      parameters,
    });
  }

  /** Features a record is read into (the model's input width). */
  get dims(): number {
    return this.extractor.dims;
  }

  get clusters(): number {
    return this.parameters.clusters;
  }

  /**
   * Reads `record`'s features into row `row` of `data` and standardises them. Throws
   * PoisonRecordError when the record has no usable features or a value overflows once scaled.
   */
  featuresInto(record: unknown, data: Float32Array, row: number): void {
    this.extractor.extract(record, data, row * this.extractor.dims);
    this.standardiseRow(data, row);
  }

  /**
   * Standardises row `row` of `data` in place: (x - mean) / std per feature, 0 for a column left
   * out (Standardisation.weight). A value that is
   * finite as read can still overflow float32 once divided by a tiny std; such a row cannot be
   * assigned, so it throws PoisonRecordError (non-finite) instead.
   */
  standardiseRow(data: Float32Array, row: number): void {
    const { mean, std, weight } = this.standardisation;
    const cols = mean.length;
    const start = row * cols;
    let finite = true;
    for (let c = 0; c < cols; c++) {
      const k = start + c;
      // A column the model leaves out is 0 whatever it holds, so it can never poison a record.
      data[k] =
        weight?.[c] === 0 ? 0 : ((data[k] as number) - (mean[c] as number)) / (std[c] as number);
      // Read back: the float32 store is what overflows.
      finite &&= Number.isFinite(data[k]);
    }
    if (!finite) {
      throw new PoisonRecordError(
        PoisonReason.NonFinite,
        'a feature overflows after standardisation',
      );
    }
  }

  /**
   * The standardised feature rows of `records`, in a new matrix. A record that cannot be read or
   * scaled is left out and reported, never thrown.
   */
  features(records: readonly unknown[]): RecordFeatures {
    const dims = this.extractor.dims;
    const data = new Float32Array(records.length * dims);
    const row = new Int32Array(records.length).fill(-1);
    const rejected: RejectedRecord[] = [];
    let rows = 0;
    for (let i = 0; i < records.length; i++) {
      try {
        this.featuresInto(records[i], data, rows);
        row[i] = rows++;
      } catch (error) {
        if (!(error instanceof PoisonRecordError)) throw error;
        rejected.push({ index: i, error });
      }
    }
    return { x: { data: data.subarray(0, rows * dims), rows, cols: dims }, row, rejected };
  }

  /**
   * Features, then assignment, of raw records; rejected records are reported, never thrown. A
   * record whose features overflow the soft assignment (see assignUsable) is rejected too.
   */
  assignRecords(records: readonly unknown[]): RecordAssignments {
    const { x, row, rejected: unreadable } = this.features(records);
    const usable = this.assignUsable(x);
    if (usable.dropped.length === 0) return { batch: usable.batch, row, rejected: unreadable };
    const rejected = [...unreadable];
    // Renumber the kept rows; a record whose row was dropped is rejected.
    const renumbered = new Int32Array(x.rows).fill(-1);
    usable.kept.forEach((kept, next) => (renumbered[kept] = next));
    for (let i = 0; i < row.length; i++) {
      const before = row[i] as number;
      if (before < 0) continue;
      row[i] = renumbered[before] as number;
      if (row[i] === -1) rejected.push({ index: i, error: overflowError() });
    }
    rejected.sort((a, b) => a.index - b.index);
    return { batch: usable.batch, row, rejected };
  }

  /**
   * Assignment of the rows that have one. Finite features can still be too large for the model:
   * the squared distances to every centroid overflow, and q is 0/0 for every cluster. Such rows
   * are dropped (`dropped`, ascending) and the others assigned again without them (`kept`, the
   * rows of `batch`); rows are independent, so their labels do not change.
   */
  assignUsable(x: Matrix): {
    batch: AssignmentBatch;
    kept: Int32Array;
    dropped: readonly number[];
  } {
    const batch = this.assign(x);
    const overflowed = overflowedRows(batch);
    if (overflowed === undefined) {
      return { batch, kept: Int32Array.from({ length: x.rows }, (_, i) => i), dropped: [] };
    }
    const kept = reorderRows(x, overflowed.kept);
    return { batch: this.assign(kept), kept: overflowed.kept, dropped: overflowed.dropped };
  }

  /**
   * Soft and hard assignment of standardised rows: the Student-t soft assignment q (DEC eq. 1),
   * the most likely cluster, its probability (the confidence) and the distance to its centroid.
   */
  assign(x: Matrix): AssignmentBatch {
    this.check(x);
    const k = this.parameters.clusters;
    const out: AssignmentBatch = {
      rows: x.rows,
      clusters: k,
      cluster: new Int32Array(x.rows),
      confidence: new Float32Array(x.rows),
      q: new Float32Array(x.rows * k),
      distance: new Float32Array(x.rows),
    };
    const kernel = new Float64Array(k);
    this.eachChunk(x, (xb, start) => {
      // One tensor result per chunk: the squared distances. The Student-t kernel over k values a
      // row is cheaper here than as more tensor ops (each op has a fixed cost per call).
      // |z|² rides along: an embedding too large to square overflows the distances, which some
      // backends then clamp to 0 (relu(NaN)); such a row must come out as overflowed, not near.
      const [d2, zz] = tf.tidy((): [tf.Tensor2D, tf.Tensor1D] => {
        const z = forward(xb, this.encoder);
        return [squaredDistances(z, this.centroids), tf.sum<tf.Tensor1D>(tf.square(z), 1)];
      });
      const dv = d2.dataSync();
      const zv = zz.dataSync();
      d2.dispose();
      zz.dispose();
      this.softAssign(dv, zv, xb.shape[0], start, kernel, out);
    });
    return out;
  }

  /** Hard labels of standardised rows: the most likely cluster of each. */
  labels(x: Matrix): Int32Array {
    return this.assign(x).cluster;
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

  /**
   * DEC eq. 1 on one chunk's squared distances `dv` ([size, k]):
   * q_ij ∝ (1 + |z_i - mu_j|^2 / alpha)^(-(alpha+1)/2), written into `out` from row `start`.
   * `kernel` is scratch space of k values, reused across chunks.
   */
  private softAssign(
    dv: ArrayLike<number>,
    zz: ArrayLike<number>,
    size: number,
    start: number,
    kernel: Float64Array,
    out: AssignmentBatch,
  ): void {
    const k = out.clusters;
    const alpha = this.parameters.alpha;
    const power = -(alpha + 1) / 2;
    const { q, cluster, confidence, distance } = out;
    for (let i = 0; i < size; i++) {
      const offset = i * k;
      if (!Number.isFinite(zz[i])) {
        // No cluster: q is 0/0 for every one (overflowedRows finds the row by its NaN).
        q.fill(Number.NaN, (start + i) * k, (start + i + 1) * k);
        confidence[start + i] = Number.NaN;
        distance[start + i] = Number.POSITIVE_INFINITY;
        continue;
      }
      let sum = 0;
      let best = 0;
      let bestKernel = -1;
      for (let j = 0; j < k; j++) {
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
  }

  private check(x: Matrix): void {
    if (this.disposed) throw new UsageError(`model version ${this.version} used after dispose()`);
    const inputDims = (this.parameters.encoder[0] as DenseLayer).inputSize;
    if (x.cols !== inputDims) {
      throw new UsageError(`batch has ${x.cols} features, the model expects ${inputDims}`);
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

/** One-off labelling of records with a snapshot (builds and disposes the model version). */
/** Why a record with finite features gets no cluster: they overflow the soft assignment. */
export function overflowError(): PoisonRecordError {
  return new PoisonRecordError(
    PoisonReason.NonFinite,
    'a feature is too large for the model: its soft assignment overflows',
  );
}

export function assignRecords(
  snapshot: ModelSnapshot,
  records: readonly unknown[],
): RecordAssignments {
  const model = new ModelVersion(snapshot);
  try {
    return model.assignRecords(records);
  } finally {
    model.dispose();
  }
}
