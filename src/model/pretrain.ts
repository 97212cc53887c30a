/**
 * End-to-end autoencoder pretraining with hand-written gradients (see dense-network.ts): mini-batch
 * MSE, optional input dropout (denoising), Adam or SGD with momentum, a learning rate that holds for
 * the first half of the epochs and then decays along a cosine to a tenth, and early stopping.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TrainingDivergedError } from '../errors.js';
import {
  backward,
  disposeLayers,
  forwardWithActivations,
  layersToTensors,
  mseWithGradient,
  tensorsToLayers,
  type LayerTensors,
} from './dense-network.js';
import { augmentImages, type ImageAugmentation } from './augment.js';
import type { KmeansRunner } from './kmeans-init.js';
import type { PretrainCache } from './pretrain-cache.js';
import { createOptimizer, type Optimizer } from './optimizers.js';
import type { SeededRandom } from './rng.js';
import type { DecOptions, DenseLayer, Matrix, TrainingProgress } from './types.js';

export interface TrainingHooks {
  readonly onProgress?: (p: TrainingProgress) => void;
  readonly signal?: AbortSignal;
  /** The partitions and embeddings of each stage, for benchmarks (rows in training order). */
  readonly onStage?: (stage: TrainingStage) => void;
  /**
   * Where the guard's baseline k-means runs. Given (another thread), it starts before pretraining
   * and runs beside it, with the same result; absent, it runs here, before pretraining.
   */
  readonly baselineKmeans?: KmeansRunner;
  /** Autoencoders already pretrained on the same inputs with the same settings and seed. */
  readonly pretrainCache?: PretrainCache;
}

/** What one bootstrap stage produced; `embedding` is the space its partition was found in. */
export interface TrainingStage {
  readonly name: 'baseline' | 'pretrained' | 'initial' | 'tuned';
  readonly labels?: Int32Array;
  readonly embedding?: Matrix;
}

export interface PretrainResult {
  readonly encoder: DenseLayer[];
  readonly decoder: DenseLayer[];
  /** Mean training MSE of the last epoch. */
  readonly loss: number;
  readonly epochs: number;
  readonly samplesPerSecond: number;
  readonly wallMs: number;
}

/** Lets timers, abort signals and messages in; long loops call it once per mini-batch. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Learning rate for a 0-based epoch: constant for the first half, then cosine decay to 10 %. */
export function pretrainLearningRateAt(epoch: number, totalEpochs: number, base: number): number {
  const holdEpochs = Math.floor(totalEpochs / 2);
  if (epoch < holdEpochs || totalEpochs - holdEpochs <= 1) return base;
  const t = (epoch - holdEpochs) / (totalEpochs - holdEpochs - 1);
  return base * (0.1 + 0.45 * (1 + Math.cos(Math.PI * t)));
}

/** Flattens [w0, b0, w1, b1, ...] for the optimiser. */
export function flattenLayers(layers: readonly LayerTensors[]): tf.Tensor[] {
  return layers.flatMap((l) => [l.w, l.b]);
}

export function unflattenLayers(
  template: readonly LayerTensors[],
  flat: readonly tf.Tensor[],
  offset = 0,
): LayerTensors[] {
  return template.map((l, i) => ({
    w: flat[offset + 2 * i] as tf.Tensor2D,
    b: flat[offset + 2 * i + 1] as tf.Tensor1D,
    activation: l.activation,
  }));
}

/** A dropout mask (inverted scaling, Keras-style) drawn from the seeded stream. */
function dropoutMask(rows: number, cols: number, rate: number, rng: SeededRandom): tf.Tensor2D {
  const mask = new Float32Array(rows * cols);
  const keep = 1 / (1 - rate);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : keep;
  return tf.tensor2d(mask, [rows, cols]);
}

/**
 * The rows `batch` of x as a new tensor, augmented when the options ask for it. The caller owns the
 * result.
 */
export function trainingBatch(
  xTensor: tf.Tensor2D,
  batch: Int32Array,
  augmentation: ImageAugmentation | undefined,
  rng: SeededRandom,
): tf.Tensor2D {
  const rows = tf.tidy(() => tf.gather(xTensor, tf.tensor1d(batch, 'int32')));
  if (augmentation === undefined) return rows;
  const moved = augmentImages(rows.dataSync() as Float32Array, batch.length, augmentation, rng);
  rows.dispose();
  return tf.tensor2d(moved, [batch.length, xTensor.shape[1]]);
}

/** The options pretraining reads. */
export type PretrainOptions = Pick<
  DecOptions,
  | 'batchSize'
  | 'pretrainEpochs'
  | 'pretrainOptimizer'
  | 'pretrainLearningRate'
  | 'inputDropout'
  | 'earlyStopPatience'
  | 'imageAugmentation'
>;

/** The autoencoder's layers (encoder then decoder) as they train; owned by pretrainAutoencoder. */
interface Autoencoder {
  layers: LayerTensors[];
}

/**
 * Trains encoder + decoder end to end to reconstruct x. `x` lives on the device as `xTensor`
 * (borrowed). Returns plain layers; every tensor created here is disposed before returning.
 */
export async function pretrainAutoencoder(
  xTensor: tf.Tensor2D,
  encoder: readonly DenseLayer[],
  decoder: readonly DenseLayer[],
  options: PretrainOptions,
  rng: SeededRandom,
  hooks: TrainingHooks = {},
): Promise<PretrainResult> {
  const started = performance.now();
  const rows = xTensor.shape[0];
  const model: Autoencoder = { layers: [...layersToTensors(encoder), ...layersToTensors(decoder)] };
  const optimizer = createOptimizer(options.pretrainOptimizer, options.pretrainLearningRate);
  let lastLoss = NaN;
  let bestLoss = Infinity;
  let epochsWithoutGain = 0;
  let epochsRun = 0;
  let samples = 0;
  try {
    for (let epoch = 0; epoch < options.pretrainEpochs; epoch++) {
      const context = { options, rng, hooks, epoch };
      const lossSum = await pretrainEpoch(xTensor, model, optimizer, context);
      samples += rows;
      epochsRun = epoch + 1;
      lastLoss = lossSum / rows;
      hooks.onProgress?.({
        phase: 'pretrain',
        step: epochsRun,
        totalSteps: options.pretrainEpochs,
        loss: lastLoss,
        elapsedMs: performance.now() - started,
      });
      if (lastLoss < bestLoss * (1 - 1e-4)) {
        bestLoss = lastLoss;
        epochsWithoutGain = 0;
      } else if (++epochsWithoutGain >= options.earlyStopPatience) {
        break;
      }
    }
    const trained = tensorsToLayers(model.layers);
    const wallMs = performance.now() - started;
    const samplesPerSecond = wallMs > 0 ? (samples * 1000) / wallMs : 0;
    return {
      encoder: trained.slice(0, encoder.length),
      decoder: trained.slice(encoder.length),
      loss: lastLoss,
      epochs: epochsRun,
      samplesPerSecond,
      wallMs,
    };
  } finally {
    disposeLayers(model.layers);
    optimizer.dispose();
  }
}

/**
 * One pass over x in a shuffled order at the epoch's learning rate, a mini-batch per step;
 * returns the summed row losses.
 */
async function pretrainEpoch(
  xTensor: tf.Tensor2D,
  model: Autoencoder,
  optimizer: Optimizer,
  context: { options: PretrainOptions; rng: SeededRandom; hooks: TrainingHooks; epoch: number },
): Promise<number> {
  const { options, rng, epoch } = context;
  optimizer.learningRate = pretrainLearningRateAt(
    epoch,
    options.pretrainEpochs,
    options.pretrainLearningRate,
  );
  const rows = xTensor.shape[0];
  const order = rng.permutation(rows);
  let lossSum = 0;
  for (let start = 0; start < rows; start += options.batchSize) {
    context.hooks.signal?.throwIfAborted();
    const batch = order.subarray(start, Math.min(rows, start + options.batchSize));
    const batchLoss = reconstructionStep(xTensor, batch, model, optimizer, options, rng);
    if (!Number.isFinite(batchLoss)) {
      throw new TrainingDivergedError(
        `pretraining loss became ${batchLoss} in epoch ${context.epoch + 1}`,
      );
    }
    lossSum += batchLoss * batch.length;
    await yieldToEventLoop();
  }
  return lossSum;
}

/**
 * One optimiser step of the reconstruction loss on the rows `batch` (denoised by input dropout,
 * augmented when asked); updates `model.layers` and returns the batch's mean loss.
 */
function reconstructionStep(
  xTensor: tf.Tensor2D,
  batch: Int32Array,
  model: Autoencoder,
  optimizer: Optimizer,
  options: PretrainOptions,
  rng: SeededRandom,
): number {
  const cols = xTensor.shape[1];
  const mask =
    options.inputDropout > 0
      ? dropoutMask(batch.length, cols, options.inputDropout, rng)
      : undefined;
  const current = model.layers;
  const xb = trainingBatch(xTensor, batch, options.imageAugmentation, rng);
  const out = tf.tidy(() => {
    const input: tf.Tensor2D = mask === undefined ? xb : tf.mul(xb, mask);
    const activations = forwardWithActivations(input, current);
    const { loss, gradient } = mseWithGradient(activations[activations.length - 1]!, xb);
    const { grads } = backward(current, activations, gradient, false);
    return [loss, ...grads.flatMap((g) => [g.dw, g.db])];
  });
  mask?.dispose();
  xb.dispose();
  const [lossTensor, ...grads] = out;
  const batchLoss = lossTensor!.dataSync()[0]!;
  lossTensor!.dispose();
  const next = optimizer.step(flattenLayers(current), grads);
  for (const g of grads) g.dispose();
  model.layers = unflattenLayers(current, next);
  return batchLoss;
}
