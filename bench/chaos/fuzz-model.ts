/**
 * The model versions and Avro schemas the fuzzer labels with: small enough to assign thousands of
 * records a second on the CPU backend, shaped like real input (a number, a float, a nested field,
 * a vector), and scaled so that a feature near the float32 limit overflows once standardised.
 */
import type { Schema } from 'avsc';
import { resolveDecOptions } from '../../src/model/defaults.js';
import type { DenseLayer, FeatureSpec, ModelSnapshot } from '../../src/model/types.js';

/** Worker input (JSON, Avro, Confluent): x, y, point.z and a 4-wide vector, 7 features. */
export const recordFeatures: FeatureSpec = {
  fields: ['x', 'y', 'point.z', 'pixels'],
  widths: [1, 1, 1, 4],
};

/** CSV input for the CLI: cells are scalars, so only x, y and point.z. */
export const csvFeatures: FeatureSpec = { fields: ['x', 'y', 'point.z'], widths: [1, 1, 1] };

/** The CSV header the generated rows follow. */
export const csvColumns = ['id', 'x', 'y', 'point.z', 'note'] as const;

const readerFields = [
  { name: 'id', type: 'string' },
  { name: 'x', type: 'double' },
  { name: 'y', type: 'float' },
  {
    name: 'point',
    type: { type: 'record', name: 'Point', fields: [{ name: 'z', type: 'int' }] },
  },
  { name: 'pixels', type: { type: 'array', items: 'float' } },
  { name: 'tags', type: { type: 'map', values: 'long' } },
  { name: 'history', type: { type: 'array', items: 'Point' } },
  { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
  { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 4 } },
  { name: 'note', type: ['null', 'string'], default: null },
];

/** The reader schema of the worker input; every kind of Avro type a record body can hold. */
export const readerSchema = {
  type: 'record',
  name: 'FuzzRecord',
  namespace: 'dec.fuzz',
  fields: readerFields,
} as Schema;

/** A newer writer schema: one field the reader does not know (skipped while resolving). */
export const writerSchemaV2 = {
  type: 'record',
  name: 'FuzzRecord',
  namespace: 'dec.fuzz',
  fields: [
    ...readerFields.slice(0, 4),
    { name: 'camera', type: { type: 'array', items: 'string' }, default: [] },
    ...readerFields.slice(4),
  ],
} as Schema;

/** A writer schema the reader cannot resolve: id is a number there. */
export const incompatibleSchema: Schema = {
  type: 'record',
  name: 'FuzzRecord',
  namespace: 'dec.fuzz',
  fields: [{ name: 'id', type: 'long' }],
};

/** Registry ids of the schemas above; any other id is unknown to the registry. */
export const SchemaIds = { reader: 7, v2: 8, incompatible: 9 } as const;

function linear(inputSize: number, outputSize: number, weights: number[]): DenseLayer {
  return {
    inputSize,
    outputSize,
    weights: Float32Array.from(weights),
    bias: new Float32Array(outputSize),
    activation: 'linear',
  };
}

/**
 * A model version over `spec`: a linear encoder onto the plane (the first column and the mean of
 * the others), three centroids. The first feature's std is 0.5, so any value above half the
 * float32 range overflows after standardisation and must be refused.
 */
export function fuzzSnapshot(spec: FeatureSpec, version = 1): ModelSnapshot {
  const dims = spec.widths.reduce((a, b) => a + b, 0);
  const weights: number[] = [];
  for (let i = 0; i < dims; i++) weights.push(i === 0 ? 1 : 0, i === 0 ? 0 : 1 / (dims - 1));
  const std = new Float32Array(dims).fill(1);
  std[0] = 0.5;
  const mean = new Float32Array(dims);
  mean[1] = 0.25;
  return {
    formatVersion: 1,
    version,
    createdAt: '2026-01-01T00:00:00.000Z',
    featureSpec: { fields: [...spec.fields], widths: [...spec.widths] },
    standardisation: { mean, std },
    options: resolveDecOptions({ clusters: 3, hiddenSizes: [], embeddingSize: 2 }, dims),
    parameters: {
      encoder: [linear(dims, 2, weights)],
      decoder: [linear(2, dims, new Array<number>(2 * dims).fill(0))],
      centroids: Float32Array.from([0, 0, 10, 10, -10, 5]),
      clusters: 3,
      embeddingSize: 2,
      alpha: 1,
    },
    metrics: {
      backend: 'cpu',
      samples: 0,
      inputDims: dims,
      pretrainEpochs: 0,
      pretrainLoss: 0,
      kmeansInertia: 0,
      clusterIterations: 0,
      finalKl: 0,
      finalLabelChangeFraction: 0,
      clusterSizes: [0, 0, 0],
      reconstructionError: 0,
      pretrainSamplesPerSecond: 0,
      wallMs: { pretrain: 0, kmeans: 0, cluster: 0 },
    },
  };
}
