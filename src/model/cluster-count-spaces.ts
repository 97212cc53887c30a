/**
 * The spaces a number of clusters is chosen in: the training pipeline's pretrained autoencoder
 * embedding (the same network sizes, schedule and seed streams as trainDec) and a UMAP layout of
 * it, the space the pipeline's manifold start partitions. Pretraining runs once, on every row;
 * the layout is built on a seeded sample of rows, since UMAP is what grows fastest with the rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import { reorderRows } from './canonical-order.js';
import { resolveDecOptions } from './defaults.js';
import { umapLayout } from './manifold-partition.js';
import { sampleRowIndices } from './shared-graphs.js';
import type { TrainingHooks } from './pretrain.js';
import { SeededRandom } from './rng.js';
import { checkTrainingInput, seededEmbedding, seedStreams } from './train-dec.js';
import type { DecOptions, Matrix } from './types.js';

/** UMAP's neighbourhood size, as in the manifold start (N2D uses 20). */
export const LAYOUT_NEIGHBOURS = 20;
/** Default dimensions of the UMAP layout the counts are scored in. */
export const DEFAULT_LAYOUT_DIMS = 10;
/** Default most rows of the layout (a seeded sample when there are more). */
export const DEFAULT_LAYOUT_ROWS = 3000;

export interface ClusterCountSpaceOptions extends Partial<Omit<DecOptions, 'clusters'>> {
  /** Dimensions of the UMAP layout. */
  readonly layoutDims?: number;
  /** Most rows the layout is built on. */
  readonly layoutRows?: number;
}

export interface ClusterCountSpaces {
  /** The pretrained embedding of the sampled rows, [rows, embeddingSize]. */
  readonly embedding: Matrix;
  /** UMAP layout of those rows, [rows, layoutDims]. */
  readonly layout: Matrix;
  /** Indices (into x) of the sampled rows, ascending. */
  readonly rows: Int32Array;
  readonly pretrainEpochs: number;
  readonly wallMs: { readonly pretrain: number; readonly layout: number };
}

/** Pretrains the autoencoder as trainDec does and embeds every row of x with its encoder. */
async function pretrainedEmbedding(
  x: Matrix,
  options: DecOptions,
  hooks: TrainingHooks,
): Promise<{ embedding: Matrix; epochs: number; wallMs: number }> {
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  try {
    return await seededEmbedding(xTensor, options, options.seed, hooks);
  } finally {
    xTensor.dispose();
  }
}

/**
 * Pretrains the autoencoder on x (standardised, as trainDec receives it) with the training
 * defaults, embeds x, and lays a sample of the embedding out with UMAP. Same x and seed give the
 * same spaces.
 */
export async function clusterCountSpaces(
  x: Matrix,
  options: ClusterCountSpaceOptions = {},
  hooks: TrainingHooks = {},
): Promise<ClusterCountSpaces> {
  await initBackend();
  const { layoutDims = DEFAULT_LAYOUT_DIMS, layoutRows = DEFAULT_LAYOUT_ROWS, ...rest } = options;
  // k does not enter pretraining; 2 only satisfies the options' validation.
  const resolved = resolveDecOptions({ ...rest, clusters: 2 }, x.cols, x.rows);
  checkTrainingInput(x, resolved);
  const pre = await pretrainedEmbedding(x, resolved, hooks);
  const z = pre.embedding;
  hooks.signal?.throwIfAborted();
  const layoutStarted = performance.now();
  const laid = await layoutOfEmbedding(z, resolved.seed, layoutDims, layoutRows);
  return {
    ...laid,
    pretrainEpochs: pre.epochs,
    wallMs: { pretrain: pre.wallMs, layout: performance.now() - layoutStarted },
  };
}

/**
 * The layout step alone: a seeded sample of at most `layoutRows` rows of the embedding z and its
 * UMAP layout into `layoutDims` dimensions. Its rng is a stream of the seed that pretraining does
 * not draw from, so an embedding of at most `layoutRows` rows gets the same layout here as in
 * clusterCountSpaces with the same seed.
 */
export async function layoutOfEmbedding(
  z: Matrix,
  seed: number,
  layoutDims = DEFAULT_LAYOUT_DIMS,
  layoutRows = DEFAULT_LAYOUT_ROWS,
): Promise<Pick<ClusterCountSpaces, 'embedding' | 'layout' | 'rows'>> {
  const rng = new SeededRandom(seedStreams(seed).kmeans.fork());
  const rows = sampleRowIndices(z.rows, layoutRows, rng);
  const embedding = rows.length === z.rows ? z : reorderRows(z, rows);
  const layout = await umapLayout(embedding, layoutDims, LAYOUT_NEIGHBOURS, rng);
  return { embedding, layout, rows };
}
