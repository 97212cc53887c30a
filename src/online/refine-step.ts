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

/** The model as it trains; the tensors are owned by refineStep. */
interface StepState {
  encoder: LayerTensors[];
  decoder: LayerTensors[];
  mu: tf.Tensor2D;
}

/** What every mini-batch step reads. */
interface StepContext {
  readonly xTensor: tf.Tensor2D;
  readonly target: tf.Tensor2D;
  readonly alpha: number;
  readonly learningRate: number;
  readonly updateEncoder: boolean;
  /** IDEC: the decoder trains too and KL is weighted by gamma. */
  readonly withDecoder: boolean;
  readonly klWeight: number;
}

function checkRefineInput(
  parameters: DecParameters,
  x: Matrix,
  clusterSizes: Float32Array,
  options: RefineStepOptions,
): void {
  const k = parameters.clusters;
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
}

export function refineStep(
  parameters: DecParameters,
  x: Matrix,
  clusterSizes: Float32Array,
  options: RefineStepOptions,
): RefineStepResult {
  checkRefineInput(parameters, x, clusterSizes, options);
  const k = parameters.clusters;
  const steps = options.steps ?? 1;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? x.rows, x.rows));
  const withDecoder = options.updateEncoder && options.gamma > 0;

  const state: StepState = {
    encoder: layersToTensors(parameters.encoder),
    decoder: withDecoder ? layersToTensors(parameters.decoder) : [],
    mu: tf.tensor2d(parameters.centroids, [k, parameters.embeddingSize]),
  };
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  const f = tf.tensor1d(clusterSizes);
  let p: tf.Tensor2D | undefined;
  try {
    const q0 = tf.tidy(() =>
      softAssignment(forward(xTensor, state.encoder), state.mu, parameters.alpha),
    );
    p = tf.tidy(() => targetDistribution(q0, f));
    const target = p;
    const lossBefore = tf.tidy(() => klDivergence(target, q0).dataSync()[0]!);
    const labelsBefore = argMaxRows(q0.dataSync() as Float32Array, k);
    q0.dispose();

    const context: StepContext = {
      xTensor,
      target,
      alpha: parameters.alpha,
      learningRate: options.learningRate,
      updateEncoder: options.updateEncoder,
      withDecoder,
      klWeight: withDecoder ? options.gamma : 1,
    };
    for (let s = 0; s < steps; s++) {
      for (let start = 0; start < x.rows; start += batchSize) {
        sgdStep(state, context, start, Math.min(batchSize, x.rows - start));
      }
    }
    return { ...stepResult(parameters, state, context, labelsBefore), lossBefore };
  } finally {
    disposeLayers(state.encoder);
    disposeLayers(state.decoder);
    state.mu.dispose();
    xTensor.dispose();
    f.dispose();
    p?.dispose();
  }
}

/**
 * One plain-SGD step on rows [start, start + size): the centroids alone, or with `updateEncoder`
 * the encoder too (and with IDEC the decoder under L_rec + gamma · KL). Replaces the state's
 * tensors, disposing the old ones.
 */
function sgdStep(state: StepState, context: StepContext, start: number, size: number): void {
  const { encoder: enc, decoder: dec, mu: centroids } = state;
  const { xTensor, target, alpha, learningRate: lr, klWeight } = context;
  const next = tf.tidy(() => {
    const xb = tf.slice(xTensor, [start, 0], [size, -1]);
    const pb = tf.slice(target, [start, 0], [size, -1]);
    const update = (t: tf.Tensor, g: tf.Tensor): tf.Tensor => tf.sub(t, tf.mul(g, lr));
    if (!context.updateEncoder) {
      const z = forward(xb, enc);
      const head = klGradients(z, centroids, pb, alpha);
      return [update(centroids, head.dmu)];
    }
    const encActs = forwardWithActivations(xb, enc);
    const head = klGradients(encActs[encActs.length - 1]!, centroids, pb, alpha);
    let dz = head.dz;
    const out: tf.Tensor[] = [];
    if (context.withDecoder) {
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
  if (context.updateEncoder) {
    state.encoder = replaceLayers(enc, next, 0);
    if (context.withDecoder) state.decoder = replaceLayers(dec, next, 2 * enc.length);
  }
  centroids.dispose();
  state.mu = next[next.length - 1] as tf.Tensor2D;
}

/** The layers of `next` from `offset` (w, b per layer) in place of `old`, which are disposed. */
function replaceLayers(
  old: readonly LayerTensors[],
  next: readonly tf.Tensor[],
  offset: number,
): LayerTensors[] {
  const layers = old.map((l, i) => ({
    w: next[offset + 2 * i] as tf.Tensor2D,
    b: next[offset + 2 * i + 1] as tf.Tensor1D,
    activation: l.activation,
  }));
  disposeLayers(old);
  return layers;
}

/** The stepped parameters and how far the step moved: loss, label change, sizes, centroid shift. */
function stepResult(
  parameters: DecParameters,
  state: StepState,
  context: StepContext,
  labelsBefore: Int32Array,
): Omit<RefineStepResult, 'lossBefore'> {
  const k = parameters.clusters;
  const e = parameters.embeddingSize;
  const rows = context.xTensor.shape[0];
  const q1 = tf.tidy(() =>
    softAssignment(forward(context.xTensor, state.encoder), state.mu, parameters.alpha),
  );
  const loss = tf.tidy(() => klDivergence(context.target, q1).dataSync()[0]!);
  const q1v = q1.dataSync() as Float32Array;
  const labelsAfter = argMaxRows(q1v, k);
  const sizes = new Float32Array(k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) sizes[j]! += q1v[i * k + j]!;
  q1.dispose();
  let changed = 0;
  for (let i = 0; i < rows; i++) if (labelsAfter[i] !== labelsBefore[i]) changed++;

  const centroids = Float32Array.from(state.mu.dataSync());
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
      encoder: context.updateEncoder ? tensorsToLayers(state.encoder) : parameters.encoder,
      decoder: context.withDecoder ? tensorsToLayers(state.decoder) : parameters.decoder,
      centroids,
      clusters: k,
      embeddingSize: e,
      alpha: parameters.alpha,
    },
    loss,
    centroidShift,
    labelChangeFraction: changed / rows,
    clusterSizes: sizes,
  };
}
