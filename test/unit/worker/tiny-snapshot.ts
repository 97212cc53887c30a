/**
 * A hand-made model version for worker unit tests: features x and y, an identity encoder, two
 * centroids at (0, 0) and (10, 10). A point is labelled by the nearer centroid.
 */
import { resolveDecOptions } from '../../../src/model/defaults.js';
import type { DenseLayer, ModelSnapshot } from '../../../src/model/types.js';

const identity: DenseLayer = {
  inputSize: 2,
  outputSize: 2,
  weights: Float32Array.from([1, 0, 0, 1]),
  bias: new Float32Array(2),
  activation: 'linear',
};

export function tinySnapshot(version = 1): ModelSnapshot {
  return {
    formatVersion: 1,
    version,
    createdAt: '2026-01-01T00:00:00.000Z',
    featureSpec: { fields: ['x', 'y'], widths: [1, 1] },
    standardisation: { mean: new Float32Array(2), std: Float32Array.from([1, 1]) },
    options: resolveDecOptions({ clusters: 2, hiddenSizes: [], embeddingSize: 2 }, 2),
    parameters: {
      encoder: [identity],
      decoder: [identity],
      centroids: Float32Array.from([0, 0, 10, 10]),
      clusters: 2,
      embeddingSize: 2,
      alpha: 1,
    },
    metrics: {
      backend: 'cpu',
      samples: 0,
      inputDims: 2,
      pretrainEpochs: 0,
      pretrainLoss: 0,
      kmeansInertia: 0,
      clusterIterations: 0,
      finalKl: 0,
      finalLabelChangeFraction: 0,
      clusterSizes: [0, 0],
      reconstructionError: 0,
      pretrainSamplesPerSecond: 0,
      wallMs: { pretrain: 0, kmeans: 0, cluster: 0 },
    },
  };
}
