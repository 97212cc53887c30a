import type { DenseLayer, ModelSnapshot } from '../../../src/model/types.js';

/** Deterministic float values that exercise every bit pattern a little (signs, fractions). */
function floats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.sin(seed * 7.3 + i * 1.7) * (1 + i / 3);
  return out;
}

function layer(
  inputSize: number,
  outputSize: number,
  activation: DenseLayer['activation'],
  seed: number,
): DenseLayer {
  return {
    inputSize,
    outputSize,
    weights: floats(inputSize * outputSize, seed),
    bias: floats(outputSize, seed + 0.5),
    activation,
  };
}

/** A complete, consistent snapshot of a 4-3-2 autoencoder with 2 clusters, for codec and store tests. */
export function tinySnapshot(version = 1): ModelSnapshot {
  return {
    formatVersion: 1,
    version,
    createdAt: '2026-01-02T03:04:05.678Z',
    featureSpec: { fields: ['a', 'v'], widths: [1, 3] },
    standardisation: { mean: floats(4, 1), std: Float32Array.from([1, 2, 0.5, 1]) },
    options: {
      clusters: 2,
      hiddenSizes: [3],
      embeddingSize: 2,
      seed: 7,
      method: 'idec',
      gamma: 0.1,
      alpha: 1,
      batchSize: 32,
      pretrainEpochs: 10,
      pretrainOptimizer: 'adam',
      pretrainLearningRate: 0.001,
      inputDropout: 0,
      earlyStopPatience: 5,
      kmeansRestarts: 4,
      clusterOptimizer: 'sgd',
      clusterLearningRate: 0.01,
      updateInterval: 30,
      tol: 0.001,
      maxIterations: 100,
      initialisation: 'kmeans',
      distilEpochs: 0,
      manifoldStarts: 1,
      autoencoders: 1,
      guard: false,
      guardMargin: 0,
    },
    parameters: {
      encoder: [layer(4, 3, 'relu', 2), layer(3, 2, 'linear', 3)],
      decoder: [layer(2, 3, 'relu', 4), layer(3, 4, 'linear', 5)],
      centroids: floats(4, 6),
      clusters: 2,
      embeddingSize: 2,
      alpha: 1,
    },
    metrics: {
      backend: 'cpu',
      samples: 10,
      inputDims: 4,
      pretrainEpochs: 10,
      pretrainLoss: 0.125,
      kmeansInertia: 3.5,
      clusterIterations: 0,
      finalKl: Number.NaN,
      finalLabelChangeFraction: 0,
      clusterSizes: [6, 4],
      reconstructionError: 0.1,
      pretrainSamplesPerSecond: 1234.5,
      wallMs: { pretrain: 10, kmeans: 2, cluster: 0 },
    },
  };
}
