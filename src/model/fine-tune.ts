/**
 * DEC / IDEC fine-tuning. The target P is recomputed on the whole training set every
 * `updateInterval` mini-batch steps and held fixed in between; training stops once fewer than `tol`
 * of the labels change between two target updates, or after `maxIterations` steps.
 *   DEC:  L = KL(P || Q), encoder and centroids trained.
 *   IDEC: L = L_rec + gamma · KL(P || Q), decoder trained too, which keeps the embedding from
 *         collapsing (Guo et al. 2017).
 */
import * as tf from '@tensorflow/tfjs-core';
import { TrainingDivergedError } from '../errors.js';
import {
  backward,
  disposeLayers,
  forward,
  forwardWithActivations,
  layersToTensors,
  mseWithGradient,
  tensorsToLayers,
  type LayerTensors,
} from './dense-network.js';
import { createOptimizer, type Optimizer } from './optimizers.js';
import {
  flattenLayers,
  trainingBatch,
  unflattenLayers,
  yieldToEventLoop,
  type TrainingHooks,
} from './pretrain.js';
import type { SeededRandom } from './rng.js';
import {
  klDivergence,
  klGradients,
  softAssignment,
  targetDistribution,
} from './soft-assignment.js';
import type { DecOptions, DecParameters, DenseLayer } from './types.js';

/** Rows per forward pass when the whole set is embedded. */
export const EVAL_CHUNK_ROWS = 2048;

/** q for every row of x, computed in chunks. The caller owns the result. */
export function softAssignAll(
  xTensor: tf.Tensor2D,
  encoder: readonly LayerTensors[],
  mu: tf.Tensor2D,
  alpha: number,
): tf.Tensor2D {
  const rows = xTensor.shape[0];
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < rows; start += EVAL_CHUNK_ROWS) {
    const size = Math.min(EVAL_CHUNK_ROWS, rows - start);
    parts.push(
      tf.tidy(() =>
        softAssignment(forward(tf.slice(xTensor, [start, 0], [size, -1]), encoder), mu, alpha),
      ),
    );
  }
  const q = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
  if (parts.length > 1) for (const p of parts) p.dispose();
  return q;
}

/**
 * A partition to distil before self-training: for the first `iterations` steps the target P is the
 * partition itself, one-hot with `smoothing` spread over the other clusters, instead of Q sharpened.
 * KL(P || Q) then fits encoder and centroids to a partition found by another method (the manifold
 * step), so the Student-t head reproduces it on records it has not seen.
 */
export interface TargetAnchor {
  readonly labels: Int32Array;
  readonly iterations: number;
  readonly smoothing: number;
}

/** One-hot rows of `labels` with `smoothing` of the mass spread evenly over the other clusters. */
export function anchorTarget(anchor: TargetAnchor, clusters: number): tf.Tensor2D {
  const rows = anchor.labels.length;
  const off = anchor.smoothing / Math.max(1, clusters - 1);
  const data = new Float32Array(rows * clusters).fill(off);
  for (let i = 0; i < rows; i++) data[i * clusters + anchor.labels[i]!] = 1 - anchor.smoothing;
  return tf.tensor2d(data, [rows, clusters]);
}

export interface FineTuneResult {
  readonly parameters: DecParameters;
  readonly iterations: number;
  readonly finalKl: number;
  readonly finalLabelChangeFraction: number;
  readonly labels: Int32Array;
  readonly wallMs: number;
}

/** The options fine-tuning reads. */
export type FineTuneOptions = Pick<
  DecOptions,
  | 'clusters'
  | 'embeddingSize'
  | 'alpha'
  | 'method'
  | 'gamma'
  | 'batchSize'
  | 'clusterOptimizer'
  | 'clusterLearningRate'
  | 'updateInterval'
  | 'tol'
  | 'maxIterations'
  | 'imageAugmentation'
>;

/** What changes from one step to the next; the tensors are owned by fineTune. */
interface TuneState {
  encoder: LayerTensors[];
  decoder: LayerTensors[];
  mu: tf.Tensor2D;
  /** The target P, held fixed between two updates. */
  p: tf.Tensor2D | undefined;
  /** Hard labels at the last target update. */
  labels: Int32Array | undefined;
  changeFraction: number;
  /** Whether the target is still the anchor partition. */
  distilling: boolean;
  /** This epoch's row order, and how far into it the mini-batches have come. */
  order: Int32Array;
  cursor: number;
}

export async function fineTune(
  xTensor: tf.Tensor2D,
  start: {
    encoder: readonly DenseLayer[];
    decoder: readonly DenseLayer[];
    centroids: Float32Array;
  },
  options: FineTuneOptions,
  rng: SeededRandom,
  hooks: TrainingHooks = {},
  anchor?: TargetAnchor,
): Promise<FineTuneResult> {
  const started = performance.now();
  const state: TuneState = {
    encoder: layersToTensors(start.encoder),
    decoder: layersToTensors(start.decoder),
    mu: tf.tensor2d(start.centroids, [options.clusters, options.embeddingSize]),
    p: undefined,
    labels: undefined,
    changeFraction: 1,
    // Distilling: the target is the anchor partition, until its steps are spent or the labels
    // stop changing; then (when steps remain) self-training on DEC's sharpened target.
    distilling: anchor !== undefined && anchor.iterations > 0,
    order: new Int32Array(0),
    cursor: 0,
  };
  const optimizer = createOptimizer(options.clusterOptimizer, options.clusterLearningRate);
  state.order = rng.permutation(xTensor.shape[0]);
  let iteration = 0;
  try {
    for (; iteration < options.maxIterations; iteration++) {
      hooks.signal?.throwIfAborted();
      if (state.distilling && iteration >= anchor!.iterations) state.distilling = false;
      if (iteration % options.updateInterval === 0) {
        const elapsedMs = (): number => performance.now() - started;
        if (updateTarget(xTensor, state, options, iteration, { hooks, anchor, elapsedMs })) break;
      }
      clusteringStep(xTensor, state, options, rng, optimizer, iteration);
      await yieldToEventLoop();
    }
    const final = finalAssignment(xTensor, state, options, iteration);
    return { ...final, iterations: iteration, wallMs: performance.now() - started };
  } finally {
    disposeLayers(state.encoder);
    disposeLayers(state.decoder);
    state.mu.dispose();
    state.p?.dispose();
    optimizer.dispose();
  }
}

/** Fraction of rows whose label differs between `a` and `b`. */
function changedFraction(a: Int32Array, b: Int32Array): number {
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++;
  return changed / a.length;
}

/**
 * Every `updateInterval` steps: labels the whole set, stops once fewer than `tol` of them changed
 * since the last update (returns true), else sets the next target P (the anchor partition while
 * distilling, DEC's sharpened Q after) and reports progress.
 */
function updateTarget(
  xTensor: tf.Tensor2D,
  state: TuneState,
  options: FineTuneOptions,
  iteration: number,
  context: { hooks: TrainingHooks; anchor: TargetAnchor | undefined; elapsedMs: () => number },
): boolean {
  const { anchor } = context;
  const q = softAssignAll(xTensor, state.encoder, state.mu, options.alpha);
  const next = Int32Array.from(tf.tidy(() => tf.argMax(q, 1).dataSync()));
  if (state.labels !== undefined) state.changeFraction = changedFraction(next, state.labels);
  state.labels = next;
  const converged = iteration > 0 && state.changeFraction < options.tol;
  const selfTrainingLeft = anchor !== undefined && anchor.iterations < options.maxIterations;
  if (state.distilling && converged && selfTrainingLeft) state.distilling = false;
  else if (converged) {
    q.dispose();
    return true;
  }
  if (state.distilling) state.p ??= anchorTarget(anchor!, options.clusters);
  else {
    state.p?.dispose();
    state.p = tf.tidy(() => targetDistribution(q));
  }
  const p = state.p;
  const kl = tf.tidy(() => klDivergence(p, q).dataSync()[0]!);
  q.dispose();
  context.hooks.onProgress?.({
    phase: 'cluster',
    step: iteration + 1,
    totalSteps: options.maxIterations,
    loss: kl,
    labelChangeFraction: state.changeFraction,
    elapsedMs: context.elapsedMs(),
  });
  return false;
}

/** The next mini-batch of row indices; a new shuffled order once an epoch is used up. */
function nextBatch(state: TuneState, rng: SeededRandom, batchSize: number): Int32Array {
  const rows = state.order.length;
  if (state.cursor >= rows) {
    state.order = rng.permutation(rows);
    state.cursor = 0;
  }
  const batch = state.order.subarray(state.cursor, Math.min(rows, state.cursor + batchSize));
  state.cursor += batch.length;
  return batch;
}

/**
 * One optimiser step on a mini-batch: the loss and the gradients of encoder, (IDEC) decoder and
 * centroids, then the update. A non-finite loss throws TrainingDivergedError.
 */
function clusteringStep(
  xTensor: tf.Tensor2D,
  state: TuneState,
  options: FineTuneOptions,
  rng: SeededRandom,
  optimizer: Optimizer,
  iteration: number,
): void {
  const idec = options.method === 'idec';
  const batch = nextBatch(state, rng, options.batchSize);
  const { encoder: enc, decoder: dec, mu: centroids } = state;
  // With augmentation the batch is a moved copy of the rows; their targets stay those of the
  // originals, computed at the last target update.
  const xb = trainingBatch(xTensor, batch, options.imageAugmentation, rng);
  const target = state.p!;
  const grads = tf.tidy(() => {
    const pb = tf.gather(target, tf.tensor1d(batch, 'int32'));
    return clusteringGradients(xb, pb, state, options);
  });
  xb.dispose();
  const [lossTensor, ...paramGrads] = grads;
  const loss = lossTensor!.dataSync()[0]!;
  lossTensor!.dispose();
  if (!Number.isFinite(loss)) {
    for (const g of paramGrads) g.dispose();
    throw new TrainingDivergedError(`clustering loss became ${loss} at iteration ${iteration + 1}`);
  }
  const params = idec
    ? [...flattenLayers(enc), ...flattenLayers(dec), centroids]
    : [...flattenLayers(enc), centroids];
  const next = optimizer.step(params, paramGrads);
  for (const g of paramGrads) g.dispose();
  state.encoder = unflattenLayers(enc, next, 0);
  if (idec) state.decoder = unflattenLayers(dec, next, 2 * enc.length);
  state.mu = next[next.length - 1] as tf.Tensor2D;
}

/**
 * [loss, encoder gradients (dw, db per layer), (IDEC) decoder gradients, centroid gradient] of
 * one mini-batch xb with target rows pb. DEC: L = KL(P || Q). IDEC: L = L_rec + gamma · KL.
 */
function clusteringGradients(
  xb: tf.Tensor2D,
  pb: tf.Tensor2D,
  state: TuneState,
  options: FineTuneOptions,
): tf.Tensor[] {
  const { encoder: enc, decoder: dec, mu: centroids } = state;
  const encActs = forwardWithActivations(xb, enc);
  const z = encActs[encActs.length - 1]!;
  const head = klGradients(z, centroids, pb, options.alpha);
  if (options.method !== 'idec') {
    const { grads: eg } = backward(enc, encActs, head.dz, false);
    return [head.loss, ...eg.flatMap((g) => [g.dw, g.db]), head.dmu];
  }
  const decActs = forwardWithActivations(z, dec);
  const rec = mseWithGradient(decActs[decActs.length - 1]!, xb);
  const { grads: dg, inputGradient } = backward(dec, decActs, rec.gradient, true);
  const dz: tf.Tensor2D = tf.add(inputGradient!, tf.mul(head.dz, options.gamma));
  const { grads: eg } = backward(enc, encActs, dz, false);
  return [
    tf.add(rec.loss, tf.mul(head.loss, options.gamma)),
    ...eg.flatMap((g) => [g.dw, g.db]),
    ...dg.flatMap((g) => [g.dw, g.db]),
    tf.mul(head.dmu, options.gamma),
  ];
}

/** The trained parameters, their labels and KL on the whole set, and the last label change. */
function finalAssignment(
  xTensor: tf.Tensor2D,
  state: TuneState,
  options: FineTuneOptions,
  iterations: number,
): Omit<FineTuneResult, 'iterations' | 'wallMs'> {
  const q = softAssignAll(xTensor, state.encoder, state.mu, options.alpha);
  const finalLabels = Int32Array.from(tf.tidy(() => tf.argMax(q, 1).dataSync()));
  const finalKl = tf.tidy(() => klDivergence(targetDistribution(q), q).dataSync()[0]!);
  q.dispose();
  let changeFraction = state.changeFraction;
  if (state.labels !== undefined && iterations >= options.maxIterations) {
    changeFraction = changedFraction(finalLabels, state.labels);
  }
  const parameters: DecParameters = {
    encoder: tensorsToLayers(state.encoder),
    decoder: tensorsToLayers(state.decoder),
    centroids: Float32Array.from(state.mu.dataSync()),
    clusters: options.clusters,
    embeddingSize: options.embeddingSize,
    alpha: options.alpha,
  };
  return { parameters, finalKl, finalLabelChangeFraction: changeFraction, labels: finalLabels };
}
