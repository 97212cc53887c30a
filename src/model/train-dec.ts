/**
 * The whole bootstrap: pretrain the autoencoder, k-means on the embeddings for the initial centroids,
 * then DEC or IDEC fine-tuning. Deterministic for the same x and options.seed: every random choice
 * comes from streams forked off that one seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../errors.js';
import { initBackend } from './backend.js';
import {
  autoencoderShape,
  disposeLayers,
  forward,
  initDenseLayers,
  layersToTensors,
} from './dense-network.js';
import { EVAL_CHUNK_ROWS, fineTune } from './fine-tune.js';
import { kmeansRestarts } from './kmeans-init.js';
import { pretrainAutoencoder, type TrainingHooks } from './pretrain.js';
import { SeededRandom } from './rng.js';
import type { DecOptions, DecParameters, DenseLayer, Matrix, TrainingMetrics } from './types.js';

export type { TrainingHooks } from './pretrain.js';

/** Independent random streams for each stage, all derived from one seed. */
export function seedStreams(seed: number): {
  init: SeededRandom;
  pretrain: SeededRandom;
  kmeans: SeededRandom;
  cluster: SeededRandom;
} {
  const master = new SeededRandom(seed);
  return {
    init: new SeededRandom(master.fork()),
    pretrain: new SeededRandom(master.fork()),
    kmeans: new SeededRandom(master.fork()),
    cluster: new SeededRandom(master.fork()),
  };
}

/** Embeds every row of x (a device tensor, borrowed) with the given encoder. */
export function embedTensor(xTensor: tf.Tensor2D, encoder: readonly DenseLayer[]): Matrix {
  const layers = layersToTensors(encoder);
  try {
    const rows = xTensor.shape[0];
    const cols = encoder[encoder.length - 1]!.outputSize;
    const data = new Float32Array(rows * cols);
    for (let start = 0; start < rows; start += EVAL_CHUNK_ROWS) {
      const size = Math.min(EVAL_CHUNK_ROWS, rows - start);
      const z = tf.tidy(() => forward(tf.slice(xTensor, [start, 0], [size, -1]), layers));
      data.set(z.dataSync(), start * cols);
      z.dispose();
    }
    return { data, rows, cols };
  } finally {
    disposeLayers(layers);
  }
}

/** Mean over rows of the per-row mean squared reconstruction error. */
export function meanReconstructionError(
  xTensor: tf.Tensor2D,
  encoder: readonly DenseLayer[],
  decoder: readonly DenseLayer[],
): number {
  const layers = layersToTensors([...encoder, ...decoder]);
  try {
    const rows = xTensor.shape[0];
    let total = 0;
    for (let start = 0; start < rows; start += EVAL_CHUNK_ROWS) {
      const size = Math.min(EVAL_CHUNK_ROWS, rows - start);
      total += tf.tidy(() => {
        const xb = tf.slice(xTensor, [start, 0], [size, -1]);
        return tf.sum(tf.squaredDifference(forward(xb, layers), xb)).dataSync()[0]!;
      });
    }
    return total / (rows * xTensor.shape[1]);
  } finally {
    disposeLayers(layers);
  }
}

export function checkTrainingInput(x: Matrix, options: DecOptions): void {
  if (x.rows * x.cols !== x.data.length) {
    throw new UsageError(`matrix has ${x.data.length} values, expected ${x.rows} x ${x.cols}`);
  }
  if (x.rows < options.clusters) {
    throw new UsageError(
      `need at least ${options.clusters} rows to find ${options.clusters} clusters, got ${x.rows}`,
    );
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!)) {
      throw new UsageError(
        `training data holds a non-finite value at row ${Math.floor(i / x.cols)}`,
      );
    }
  }
}

export async function trainDec(
  x: Matrix,
  options: DecOptions,
  hooks: TrainingHooks = {},
): Promise<{ parameters: DecParameters; metrics: TrainingMetrics }> {
  const backend = await initBackend();
  checkTrainingInput(x, options);
  const streams = seedStreams(options.seed);
  const shape = autoencoderShape(x.cols, options.hiddenSizes, options.embeddingSize);
  const encoder0 = initDenseLayers(shape.encoder, streams.init);
  const decoder0 = initDenseLayers(shape.decoder, streams.init);
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  try {
    const pre = await pretrainAutoencoder(
      xTensor,
      encoder0,
      decoder0,
      options,
      streams.pretrain,
      hooks,
    );

    const kmeansStarted = performance.now();
    const z = embedTensor(xTensor, pre.encoder);
    const init = kmeansRestarts(z, options.clusters, options.kmeansRestarts, streams.kmeans, {
      onRestart: (restart, inertia) =>
        hooks.onProgress?.({
          phase: 'kmeans',
          step: restart,
          totalSteps: options.kmeansRestarts,
          loss: inertia,
          elapsedMs: performance.now() - kmeansStarted,
        }),
    });
    const kmeansMs = performance.now() - kmeansStarted;
    hooks.signal?.throwIfAborted();

    const tuned = await fineTune(
      xTensor,
      { encoder: pre.encoder, decoder: pre.decoder, centroids: init.centroids },
      options,
      streams.cluster,
      hooks,
    );
    const sizes = new Array<number>(options.clusters).fill(0);
    for (const label of tuned.labels) sizes[label] = (sizes[label] ?? 0) + 1;
    const metrics: TrainingMetrics = {
      backend,
      samples: x.rows,
      inputDims: x.cols,
      pretrainEpochs: pre.epochs,
      pretrainLoss: pre.loss,
      kmeansInertia: init.inertia,
      clusterIterations: tuned.iterations,
      finalKl: tuned.finalKl,
      finalLabelChangeFraction: tuned.finalLabelChangeFraction,
      clusterSizes: sizes,
      reconstructionError: meanReconstructionError(
        xTensor,
        tuned.parameters.encoder,
        tuned.parameters.decoder,
      ),
      pretrainSamplesPerSecond: pre.samplesPerSecond,
      wallMs: { pretrain: pre.wallMs, kmeans: kmeansMs, cluster: tuned.wallMs },
    };
    return { parameters: tuned.parameters, metrics };
  } finally {
    xTensor.dispose();
  }
}
