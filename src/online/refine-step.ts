/**
 * One online refinement round on a window of records: the target P is computed once from the current
 * model with the caller's running estimate of the cluster sizes f (a small batch's own f distorts P),
 * then `steps` plain-SGD steps lower KL(P || Q) — plus the reconstruction loss, IDEC-style, when
 * gamma > 0 and the encoder is updated. The input parameters are never modified.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import {
  backward,
  disposeLayers,
  forward,
  forwardWithActivations,
  layersToTensors,
  mseWithGradient,
  tensorsToLayers,
  type LayerTensors,
} from '../model/dense-network.js';
import {
  klDivergence,
  klGradients,
  softAssignment,
  targetDistribution,
} from '../model/soft-assignment.js';
import type { DecParameters, Matrix } from '../model/types.js';

export interface RefineStepOptions {
  learningRate: number;
  /** Gradient steps over x (default 1). */
  steps?: number;
  /** Train the encoder too; otherwise only the centroids move. */
  updateEncoder: boolean;
  /** Weight of KL in L_rec + gamma · KL when the encoder is updated; 0 means pure KL (DEC). */
  gamma: number;
  /** Rows per step (default: all of x). */
  batchSize?: number;
}

export interface RefineStepResult {
  /** New object; the input parameters are untouched. */
  parameters: DecParameters;
  /** KL(P || Q) on x after the steps, with the same P. */
  loss: number;
  /** KL(P || Q) on x before the steps. */
  lossBefore: number;
  /** Largest Euclidean distance any centroid moved. */
  centroidShift: number;
  /** Fraction of rows of x whose most likely cluster changed. */
  labelChangeFraction: number;
  /** Soft sizes Σ_i q_ij of x under the new model. */
  clusterSizes: Float32Array;
}

function argMaxRows(q: Float32Array, k: number): Int32Array {
  const rows = q.length / k;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (q[i * k + j]! > q[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}

export function refineStep(
  parameters: DecParameters,
  x: Matrix,
  clusterSizes: Float32Array,
  options: RefineStepOptions,
): RefineStepResult {
  const k = parameters.clusters;
  const e = parameters.embeddingSize;
  if (clusterSizes.length !== k) {
    throw new UsageError(
      `clusterSizes has ${clusterSizes.length} entries, the model has ${k} clusters`,
    );
  }
  if (x.rows < 1 || x.cols !== parameters.encoder[0]?.inputSize) {
    throw new UsageError(
      `refinement batch must have rows and ${parameters.encoder[0]?.inputSize} columns`,
    );
  }
  if (!(options.learningRate > 0)) throw new UsageError('learningRate must be positive');
  const steps = options.steps ?? 1;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? x.rows, x.rows));
  const withDecoder = options.updateEncoder && options.gamma > 0;
  const klWeight = withDecoder ? options.gamma : 1;

  let encoder: LayerTensors[] = layersToTensors(parameters.encoder);
  let decoder: LayerTensors[] = withDecoder ? layersToTensors(parameters.decoder) : [];
  let mu = tf.tensor2d(parameters.centroids, [k, e]);
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  const f = tf.tensor1d(clusterSizes);
  let p: tf.Tensor2D | undefined;
  try {
    const q0 = tf.tidy(() => softAssignment(forward(xTensor, encoder), mu, parameters.alpha));
    p = tf.tidy(() => targetDistribution(q0, f));
    const lossBefore = tf.tidy(() => klDivergence(p!, q0).dataSync()[0]!);
    const labelsBefore = argMaxRows(q0.dataSync() as Float32Array, k);
    q0.dispose();

    const lr = options.learningRate;
    for (let s = 0; s < steps; s++) {
      for (let start = 0; start < x.rows; start += batchSize) {
        const size = Math.min(batchSize, x.rows - start);
        const enc = encoder;
        const dec = decoder;
        const centroids = mu;
        const target = p;
        const next = tf.tidy(() => {
          const xb = tf.slice(xTensor, [start, 0], [size, -1]);
          const pb = tf.slice(target, [start, 0], [size, -1]);
          const update = (t: tf.Tensor, g: tf.Tensor): tf.Tensor => tf.sub(t, tf.mul(g, lr));
          if (!options.updateEncoder) {
            const z = forward(xb, enc);
            const head = klGradients(z, centroids, pb, parameters.alpha);
            return [update(centroids, head.dmu)];
          }
          const encActs = forwardWithActivations(xb, enc);
          const head = klGradients(encActs[encActs.length - 1]!, centroids, pb, parameters.alpha);
          let dz = head.dz;
          const out: tf.Tensor[] = [];
          if (withDecoder) {
            const decActs = forwardWithActivations(encActs[encActs.length - 1]!, dec);
            const rec = mseWithGradient(decActs[decActs.length - 1]!, xb);
            const { grads, inputGradient } = backward(dec, decActs, rec.gradient, true);
            dz = tf.add<tf.Tensor2D>(inputGradient!, tf.mul(head.dz, klWeight));
            dec.forEach((l, i) => out.push(update(l.w, grads[i]!.dw), update(l.b, grads[i]!.db)));
          }
          const { grads } = backward(enc, encActs, dz, false);
          const encOut: tf.Tensor[] = [];
          enc.forEach((l, i) => encOut.push(update(l.w, grads[i]!.dw), update(l.b, grads[i]!.db)));
          return [...encOut, ...out, update(centroids, tf.mul(head.dmu, klWeight))];
        });
        if (options.updateEncoder) {
          const newEncoder = enc.map((l, i) => ({
            w: next[2 * i] as tf.Tensor2D,
            b: next[2 * i + 1] as tf.Tensor1D,
            activation: l.activation,
          }));
          disposeLayers(enc);
          encoder = newEncoder;
          if (withDecoder) {
            const offset = 2 * enc.length;
            const newDecoder = dec.map((l, i) => ({
              w: next[offset + 2 * i] as tf.Tensor2D,
              b: next[offset + 2 * i + 1] as tf.Tensor1D,
              activation: l.activation,
            }));
            disposeLayers(dec);
            decoder = newDecoder;
          }
        }
        centroids.dispose();
        mu = next[next.length - 1] as tf.Tensor2D;
      }
    }

    const q1 = tf.tidy(() => softAssignment(forward(xTensor, encoder), mu, parameters.alpha));
    const loss = tf.tidy(() => klDivergence(p!, q1).dataSync()[0]!);
    const q1v = q1.dataSync() as Float32Array;
    const labelsAfter = argMaxRows(q1v, k);
    const sizes = new Float32Array(k);
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < k; j++) sizes[j]! += q1v[i * k + j]!;
    q1.dispose();
    let changed = 0;
    for (let i = 0; i < x.rows; i++) if (labelsAfter[i] !== labelsBefore[i]) changed++;

    const centroids = Float32Array.from(mu.dataSync());
    let centroidShift = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < e; c++) {
        const d = centroids[j * e + c]! - parameters.centroids[j * e + c]!;
        s += d * d;
      }
      centroidShift = Math.max(centroidShift, Math.sqrt(s));
    }
    return {
      parameters: {
        encoder: options.updateEncoder ? tensorsToLayers(encoder) : parameters.encoder,
        decoder: withDecoder ? tensorsToLayers(decoder) : parameters.decoder,
        centroids,
        clusters: k,
        embeddingSize: e,
        alpha: parameters.alpha,
      },
      loss,
      lossBefore,
      centroidShift,
      labelChangeFraction: changed / x.rows,
      clusterSizes: sizes,
    };
  } finally {
    disposeLayers(encoder);
    disposeLayers(decoder);
    mu.dispose();
    xTensor.dispose();
    f.dispose();
    p?.dispose();
  }
}
