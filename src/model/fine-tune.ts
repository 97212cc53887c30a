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
import { createOptimizer } from './optimizers.js';
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

export async function fineTune(
  xTensor: tf.Tensor2D,
  start: {
    encoder: readonly DenseLayer[];
    decoder: readonly DenseLayer[];
    centroids: Float32Array;
  },
  options: Pick<
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
  >,
  rng: SeededRandom,
  hooks: TrainingHooks = {},
  anchor?: TargetAnchor,
): Promise<FineTuneResult> {
  const started = performance.now();
  const rows = xTensor.shape[0];
  const idec = options.method === 'idec';
  const encoderDepth = start.encoder.length;
  let encoder = layersToTensors(start.encoder);
  let decoder = layersToTensors(start.decoder);
  let mu = tf.tensor2d(start.centroids, [options.clusters, options.embeddingSize]);
  const optimizer = createOptimizer(options.clusterOptimizer, options.clusterLearningRate);
  let p: tf.Tensor2D | undefined;
  let labels: Int32Array | undefined;
  let changeFraction = 1;
  let iteration = 0;
  let order = rng.permutation(rows);
  let cursor = 0;
  try {
    // Distilling: the target is the anchor partition, until its steps are spent or the labels
    // stop changing; then (when steps remain) self-training on DEC's sharpened target.
    let distilling = anchor !== undefined && anchor.iterations > 0;
    for (; iteration < options.maxIterations; iteration++) {
      hooks.signal?.throwIfAborted();
      if (distilling && iteration >= anchor!.iterations) distilling = false;
      if (iteration % options.updateInterval === 0) {
        const q = softAssignAll(xTensor, encoder, mu, options.alpha);
        const next = Int32Array.from(tf.tidy(() => tf.argMax(q, 1).dataSync()));
        if (labels !== undefined) {
          let changed = 0;
          for (let i = 0; i < rows; i++) if (next[i] !== labels[i]) changed++;
          changeFraction = changed / rows;
        }
        labels = next;
        const converged = iteration > 0 && changeFraction < options.tol;
        const selfTrainingLeft = anchor !== undefined && anchor.iterations < options.maxIterations;
        if (distilling && converged && selfTrainingLeft) distilling = false;
        else if (converged) {
          q.dispose();
          break;
        }
        if (distilling) p ??= anchorTarget(anchor!, options.clusters);
        else {
          p?.dispose();
          p = tf.tidy(() => targetDistribution(q));
        }
        const kl = tf.tidy(() => klDivergence(p!, q).dataSync()[0]!);
        q.dispose();
        hooks.onProgress?.({
          phase: 'cluster',
          step: iteration + 1,
          totalSteps: options.maxIterations,
          loss: kl,
          labelChangeFraction: changeFraction,
          elapsedMs: performance.now() - started,
        });
      }
      if (cursor >= rows) {
        order = rng.permutation(rows);
        cursor = 0;
      }
      const batch = order.subarray(cursor, Math.min(rows, cursor + options.batchSize));
      cursor += batch.length;
      const target = p!;
      const enc = encoder;
      const dec = decoder;
      const centroids = mu;
      // With augmentation the batch is a moved copy of the rows; their targets stay those of the
      // originals, computed above.
      const xb = trainingBatch(xTensor, batch, options.imageAugmentation, rng);
      const grads = tf.tidy(() => {
        const pb = tf.gather(target, tf.tensor1d(batch, 'int32'));
        const encActs = forwardWithActivations(xb, enc);
        const z = encActs[encActs.length - 1]!;
        const head = klGradients(z, centroids, pb, options.alpha);
        if (!idec) {
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
      });
      xb.dispose();
      const [lossTensor, ...paramGrads] = grads;
      const loss = lossTensor!.dataSync()[0]!;
      lossTensor!.dispose();
      if (!Number.isFinite(loss)) {
        for (const g of paramGrads) g.dispose();
        throw new TrainingDivergedError(
          `clustering loss became ${loss} at iteration ${iteration + 1}`,
        );
      }
      const params = idec
        ? [...flattenLayers(enc), ...flattenLayers(dec), centroids]
        : [...flattenLayers(enc), centroids];
      const next = optimizer.step(params, paramGrads);
      for (const g of paramGrads) g.dispose();
      encoder = unflattenLayers(enc, next, 0);
      if (idec) decoder = unflattenLayers(dec, next, 2 * encoderDepth);
      mu = next[next.length - 1] as tf.Tensor2D;
      await yieldToEventLoop();
    }
    const q = softAssignAll(xTensor, encoder, mu, options.alpha);
    const finalLabels = Int32Array.from(tf.tidy(() => tf.argMax(q, 1).dataSync()));
    const finalKl = tf.tidy(() => klDivergence(targetDistribution(q), q).dataSync()[0]!);
    q.dispose();
    if (labels !== undefined) {
      let changed = 0;
      for (let i = 0; i < rows; i++) if (finalLabels[i] !== labels[i]) changed++;
      if (iteration >= options.maxIterations) changeFraction = changed / rows;
    }
    const parameters: DecParameters = {
      encoder: tensorsToLayers(encoder),
      decoder: tensorsToLayers(decoder),
      centroids: Float32Array.from(mu.dataSync()),
      clusters: options.clusters,
      embeddingSize: options.embeddingSize,
      alpha: options.alpha,
    };
    return {
      parameters,
      iterations: iteration,
      finalKl,
      finalLabelChangeFraction: changeFraction,
      labels: finalLabels,
      wallMs: performance.now() - started,
    };
  } finally {
    disposeLayers(encoder);
    disposeLayers(decoder);
    mu.dispose();
    p?.dispose();
    optimizer.dispose();
  }
}
