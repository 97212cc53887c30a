/**
 * The whole bootstrap: k-means on the inputs (the baseline), pretrain the autoencoder, the initial
 * partition of the embedding (N2D's manifold step, or k-means), DEC or IDEC fine-tuning that first
 * distils that partition, and the guard that serves k-means instead when the deep model's clusters
 * are not better by an unsupervised criterion (model-guard.ts). Deterministic for the same x and options.seed: every random choice
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
import { EVAL_CHUNK_ROWS, fineTune, type FineTuneResult } from './fine-tune.js';
import { kmeansRestarts, nearestCentroids } from './kmeans-init.js';
import { kmeansParameters } from './kmeans-model.js';
import { tensorKmeans } from './tensor-kmeans.js';
import { clusterMeans, manifoldPartition } from './manifold-partition.js';
import { guardChoice, ModelKind, type GuardDecision } from './model-guard.js';
import { joinEmbeddings } from './joint-embedding.js';
import { SharedGraphs } from './shared-graphs.js';
import {
  pretrainAutoencoder,
  yieldToEventLoop,
  type PretrainResult,
  type TrainingHooks,
} from './pretrain.js';
import { pretrainKey } from './pretrain-cache.js';
import { SeededRandom } from './rng.js';

/** Neighbours per row in the guard's graphs, and the most rows they are built on. */
const GUARD_NEIGHBOURS = 10;
const GUARD_SAMPLE_ROWS = 3000;
import type { DecOptions, DecParameters, DenseLayer, Matrix, TrainingMetrics } from './types.js';

export type { TrainingHooks, TrainingStage } from './pretrain.js';

/** Independent random streams for each stage, all derived from one seed. */
export function seedStreams(seed: number): {
  init: SeededRandom;
  pretrain: SeededRandom;
  kmeans: SeededRandom;
  cluster: SeededRandom;
  guard: SeededRandom;
  select: SeededRandom;
  ensemble: SeededRandom;
} {
  const master = new SeededRandom(seed);
  return {
    init: new SeededRandom(master.fork()),
    pretrain: new SeededRandom(master.fork()),
    kmeans: new SeededRandom(master.fork()),
    cluster: new SeededRandom(master.fork()),
    guard: new SeededRandom(master.fork()),
    select: new SeededRandom(master.fork()),
    // Forked last, so that the streams above are the same with one autoencoder or several.
    ensemble: new SeededRandom(master.fork()),
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

/**
 * The spaces of the initial partition: the inputs, the serving autoencoder's embedding z (the
 * centroids live there), and the space UMAP lays out: z, or z beside the other autoencoders'
 * embeddings (joint-embedding.ts).
 */
interface ManifoldSpaces {
  readonly x: Matrix;
  readonly z: Matrix;
  readonly layoutSpace: Matrix;
}

/**
 * A partition of the training rows to start from instead of the initialisation's own: a retrain
 * that continues the serving model distils that model's labels of its sample first, so the
 * clusters it starts from are the ones downstream consumers know.
 */
export interface StartingPartition {
  readonly labels: Int32Array;
}

/**
 * An autoencoder pretrained on x (on the device, borrowed), its starting weights drawn from the
 * streams' `init` and its batch order from their `pretrain`, both from `seed`'s streams. With a
 * cache in the hooks, one pretrained before on the same inputs, settings and seed is reused: it
 * is the same network, and nothing after pretraining draws from those two streams.
 */
async function pretrainFrom(
  xTensor: tf.Tensor2D,
  options: DecOptions,
  from: { seed: number; streams: { init: SeededRandom; pretrain: SeededRandom } },
  hooks: TrainingHooks,
): Promise<PretrainResult> {
  const cache = hooks.pretrainCache;
  const key = cache === undefined ? undefined : pretrainKey(matrixOf(xTensor), options, from.seed);
  const kept = key === undefined ? undefined : cache?.get(key);
  if (kept !== undefined) return kept;
  const layers = initialLayers(xTensor.shape[1], options, from.streams.init);
  const pre = await pretrainAutoencoder(xTensor, ...layers, options, from.streams.pretrain, hooks);
  if (key !== undefined) cache?.set(key, pre);
  return pre;
}

/** The values of a device tensor as a matrix (a copy). */
function matrixOf(xTensor: tf.Tensor2D): Matrix {
  const [rows, cols] = xTensor.shape;
  return { data: xTensor.dataSync() as Float32Array, rows, cols };
}

/**
 * The embedding of x (on the device, borrowed) by an autoencoder pretrained from `seed` alone: the
 * weights and the pretraining order come from seedStreams(seed), as the first autoencoder's come
 * from the training seed's streams. Deterministic for the same x, options and seed.
 */
export async function seededEmbedding(
  xTensor: tf.Tensor2D,
  options: DecOptions,
  seed: number,
  hooks: TrainingHooks = {},
): Promise<{ embedding: Matrix; epochs: number; wallMs: number }> {
  const pre = await pretrainFrom(xTensor, options, { seed, streams: seedStreams(seed) }, hooks);
  return { embedding: embedTensor(xTensor, pre.encoder), epochs: pre.epochs, wallMs: pre.wallMs };
}

/** The seeds of the autoencoders beside the first: none unless the manifold start uses them. */
function furtherSeeds(options: DecOptions, rng: SeededRandom): number[] {
  const count = options.initialisation === 'manifold' ? options.autoencoders - 1 : 0;
  return Array.from({ length: count }, () => rng.fork());
}

/**
 * Pretrains the first autoencoder, the one that is fine-tuned and serves, from the training seed's
 * streams, then each further one from its own seed, keeping only their embeddings. Pretraining's
 * wall time counts them all.
 */
async function pretrainAutoencoders(
  xTensor: tf.Tensor2D,
  options: DecOptions,
  streams: ReturnType<typeof seedStreams>,
  seeds: readonly number[],
  hooks: TrainingHooks,
): Promise<{ pre: PretrainResult; embeddings: Matrix[] }> {
  const started = performance.now();
  const pre = await pretrainFrom(xTensor, options, { seed: options.seed, streams }, hooks);
  const embeddings: Matrix[] = [];
  const quiet = hooks.signal === undefined ? {} : { signal: hooks.signal };
  for (const seed of seeds) {
    embeddings.push((await seededEmbedding(xTensor, options, seed, quiet)).embedding);
  }
  return { pre: { ...pre, wallMs: performance.now() - started }, embeddings };
}

/** Fine-tuning start: centroids, and the partition to distil first when the manifold step ran. */
async function initialPartition(
  spaces: ManifoldSpaces,
  options: DecOptions,
  streams: { kmeans: SeededRandom; select: SeededRandom },
  hooks: TrainingHooks,
  given: StartingPartition | undefined,
): Promise<{ centroids: Float32Array; labels: Int32Array; inertia: number; anchored: boolean }> {
  await yieldToEventLoop();
  const { z } = spaces;
  if (given !== undefined) return givenPartition(z, given.labels, options.clusters, streams.kmeans);
  if (options.initialisation === 'manifold') {
    const started = performance.now();
    const labels = await bestManifoldPartition(spaces, options, streams);
    const centroids = clusterMeans(z, labels, options.clusters);
    const { inertia } = nearestCentroids(z, centroids, options.clusters);
    // The initial partition's stage, reported as DEC's k-means step is.
    hooks.onProgress?.({
      phase: 'kmeans',
      step: 1,
      totalSteps: 1,
      loss: inertia,
      elapsedMs: performance.now() - started,
    });
    return { centroids, labels, inertia, anchored: true };
  }
  const rng = streams.kmeans;
  const started = performance.now();
  const kmeans = kmeansRestarts(z, options.clusters, options.kmeansRestarts, rng, {
    onRestart: (restart, inertia) =>
      hooks.onProgress?.({
        phase: 'kmeans',
        step: restart,
        totalSteps: options.kmeansRestarts,
        loss: inertia,
        elapsedMs: performance.now() - started,
      }),
  });
  return { ...kmeans, anchored: false };
}

/**
 * A given partition as the start, distilled like the manifold step's. A cluster with no rows takes
 * half of the largest cluster (2-means on its rows), as a re-seeded dying cluster does in
 * refinement: self-training sharpens clusters but never splits one, and a centroid left at the
 * embedding's origin could lie among the data and take rows it never had.
 */
function givenPartition(
  z: Matrix,
  given: Int32Array,
  clusters: number,
  rng: SeededRandom,
): { centroids: Float32Array; labels: Int32Array; inertia: number; anchored: boolean } {
  if (given.length !== z.rows) {
    throw new Error(`a starting partition of ${given.length} rows for ${z.rows} training rows`);
  }
  const labels = Int32Array.from(given);
  for (const empty of emptyClusters(labels, clusters))
    splitLargest(z, labels, clusters, empty, rng);
  const centroids = clusterMeans(z, labels, clusters);
  const { inertia } = nearestCentroids(z, centroids, clusters);
  return { centroids, labels, inertia, anchored: true };
}

/** Moves the rows of one 2-means half of the largest cluster to `into`. */
function splitLargest(
  z: Matrix,
  labels: Int32Array,
  clusters: number,
  into: number,
  rng: SeededRandom,
): void {
  const sizes = clusterSizes(labels, clusters);
  const largest = sizes.indexOf(Math.max(...sizes));
  const members: number[] = [];
  labels.forEach((label, row) => {
    if (label === largest) members.push(row);
  });
  if (members.length < 2) return;
  const data = new Float32Array(members.length * z.cols);
  members.forEach((row, i) =>
    data.set(z.data.subarray(row * z.cols, (row + 1) * z.cols), i * z.cols),
  );
  const halves = kmeansRestarts({ data, rows: members.length, cols: z.cols }, 2, 3, rng);
  members.forEach((row, i) => {
    if (halves.labels[i] === 1) labels[row] = into;
  });
}

function emptyClusters(labels: Int32Array, clusters: number): number[] {
  const sizes = clusterSizes(labels, clusters);
  return sizes.flatMap((size, cluster) => (size === 0 ? [cluster] : []));
}

/**
 * The manifold start's partition: N2D's UMAP layout and k-means, from `manifoldStarts` random
 * starts. With more than one, each partition is scored by the guard's criterion (normalised cut on
 * the graphs of the inputs and of the pretrained embedding, spaces every start shares) and the
 * lowest wins; the first start is the one a single start would have made.
 */
async function bestManifoldPartition(
  spaces: ManifoldSpaces,
  options: DecOptions,
  streams: { kmeans: SeededRandom; select: SeededRandom },
): Promise<Int32Array> {
  const partitionOptions = {
    clusters: options.clusters,
    neighbours: 20,
    kmeansRestarts: options.kmeansRestarts,
  };
  const first = await manifoldPartition(spaces.layoutSpace, partitionOptions, streams.kmeans);
  if (options.manifoldStarts <= 1) return first.labels;
  // The guard's criterion: the spaces every start shares (CriterionSpaces).
  const graphs = await SharedGraphs.build(
    [spaces.x, spaces.z],
    { neighbours: GUARD_NEIGHBOURS, sampleRows: GUARD_SAMPLE_ROWS },
    streams.select,
  );
  const score = (labels: Int32Array): number => graphs.score(labels, options.clusters);
  let best = { labels: first.labels, score: score(first.labels) };
  for (let start = 1; start < options.manifoldStarts; start++) {
    const { labels } = await manifoldPartition(
      spaces.layoutSpace,
      partitionOptions,
      streams.kmeans,
    );
    const candidate = { labels, score: score(labels) };
    if (candidate.score < best.score) best = candidate;
  }
  return best.labels;
}

/** Steps spent distilling the manifold partition before self-training takes over. */
export function anchorIterations(options: DecOptions, rows: number): number {
  return Math.min(
    Math.ceil((options.distilEpochs * rows) / options.batchSize),
    options.maxIterations,
  );
}

function clusterSizes(labels: Int32Array, clusters: number): number[] {
  const sizes = new Array<number>(clusters).fill(0);
  for (const label of labels) sizes[label] = (sizes[label] ?? 0) + 1;
  return sizes;
}

export async function trainDec(
  x: Matrix,
  options: DecOptions,
  hooks: TrainingHooks = {},
  start?: StartingPartition,
): Promise<{ parameters: DecParameters; metrics: TrainingMetrics }> {
  const backend = await initBackend();
  checkTrainingInput(x, options);
  const streams = seedStreams(options.seed);
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  // Stops a baseline still running elsewhere when training ends early.
  const baselineStop = new AbortController();
  try {
    // The baseline the deep model must beat, on the same standardised inputs.
    const baselineRun = startBaseline(x, options, streams.guard, hooks, baselineStop.signal);
    // Run here, the baseline comes first; run elsewhere, it goes on beside pretraining.
    const early = hooks.baselineKmeans === undefined ? await timed(() => baselineRun) : undefined;
    hooks.signal?.throwIfAborted();
    // Further autoencoders only feed the manifold step's layout, which a given start skips.
    const seeds = start === undefined ? furtherSeeds(options, streams.ensemble) : [];
    const { pre, embeddings } = await pretrainAutoencoders(xTensor, options, streams, seeds, hooks);
    const initial = await timed(async () => {
      const spaces = pretrainedSpaces(xTensor, x, pre, embeddings, hooks);
      return { z: spaces.z, init: await initialPartition(spaces, options, streams, hooks, start) };
    });
    const { z, init } = initial.value;
    hooks.onStage?.({ name: 'initial', labels: init.labels, embedding: z });
    hooks.signal?.throwIfAborted();

    const tuned = await fineTuneFrom(xTensor, pre, init, options, streams.cluster, hooks);

    // The guard draws from its stream after the baseline did, wherever the baseline ran.
    const baseline = early ?? (await timed(() => baselineRun));
    const guard = await timed(() =>
      guardSelection(xTensor, { x, z, tuned, baseline: baseline.value }, options, streams, hooks),
    );
    const kind = guard.value?.chosen ?? ModelKind.Dec;
    const kmeans = kind === ModelKind.Kmeans ? baseline.value : undefined;
    const parameters =
      kmeans === undefined
        ? tuned.parameters
        : kmeansParameters(kmeans.centroids, options.clusters, x.cols, options.alpha);
    const metrics: TrainingMetrics = {
      backend,
      samples: x.rows,
      inputDims: x.cols,
      modelKind: kind,
      ...(guard.value === undefined ? {} : { selection: guard.value }),
      ...stageMetrics(pre, init.inertia, tuned),
      clusterSizes: clusterSizes(kmeans?.labels ?? tuned.labels, options.clusters),
      reconstructionError: meanReconstructionError(xTensor, parameters.encoder, parameters.decoder),
      pretrainSamplesPerSecond: pre.samplesPerSecond,
      wallMs: {
        pretrain: pre.wallMs,
        kmeans: initial.ms,
        cluster: tuned.wallMs,
        guard: guard.ms + baseline.ms,
      },
    };
    return { parameters, metrics };
  } finally {
    baselineStop.abort();
    xTensor.dispose();
  }
}

/** The inputs, their pretrained embedding, and the space the manifold step lays out. */
function pretrainedSpaces(
  xTensor: tf.Tensor2D,
  x: Matrix,
  pre: PretrainResult,
  embeddings: readonly Matrix[],
  hooks: TrainingHooks,
): { x: Matrix; z: Matrix; layoutSpace: Matrix } {
  const z = embedTensor(xTensor, pre.encoder);
  hooks.onStage?.({ name: 'pretrained', embedding: z });
  const layoutSpace = embeddings.length === 0 ? z : joinEmbeddings([z, ...embeddings]);
  return { x, z, layoutSpace };
}

/** What the pretraining, the initial partition and the fine-tuning report. */
function stageMetrics(
  pre: PretrainResult,
  kmeansInertia: number,
  tuned: FineTuneResult,
): Pick<
  TrainingMetrics,
  | 'pretrainEpochs'
  | 'pretrainLoss'
  | 'kmeansInertia'
  | 'clusterIterations'
  | 'finalKl'
  | 'finalLabelChangeFraction'
> {
  return {
    pretrainEpochs: pre.epochs,
    pretrainLoss: pre.loss,
    kmeansInertia,
    clusterIterations: tuned.iterations,
    finalKl: tuned.finalKl,
    finalLabelChangeFraction: tuned.finalLabelChangeFraction,
  };
}

/**
 * DEC/IDEC fine-tuning from the pretrained autoencoder and the initial partition's centroids; a
 * manifold partition is distilled first (anchored).
 */
function fineTuneFrom(
  xTensor: tf.Tensor2D,
  pre: PretrainResult,
  init: { centroids: Float32Array; labels: Int32Array; anchored: boolean },
  options: DecOptions,
  rng: SeededRandom,
  hooks: TrainingHooks,
): Promise<FineTuneResult> {
  const rows = xTensor.shape[0];
  return fineTune(
    xTensor,
    { encoder: pre.encoder, decoder: pre.decoder, centroids: init.centroids },
    options,
    rng,
    hooks,
    init.anchored
      ? { labels: init.labels, iterations: anchorIterations(options, rows), smoothing: 0.1 }
      : undefined,
  );
}

/** The autoencoder's starting encoder and decoder layers. */
function initialLayers(
  inputDims: number,
  options: DecOptions,
  rng: SeededRandom,
): [DenseLayer[], DenseLayer[]] {
  const shape = autoencoderShape(inputDims, options.hiddenSizes, options.embeddingSize);
  const encoder = initDenseLayers(shape.encoder, rng);
  const decoder = initDenseLayers(shape.decoder, rng);
  return [encoder, decoder];
}

/** The value of `run` and how long it took. */
async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/**
 * With the guard on: k-means on the inputs, the partition the deep model must beat. It runs where
 * `hooks.baselineKmeans` runs it (here when absent). The returned promise is never left rejected
 * unobserved: a failure surfaces where the guard awaits it.
 */
function startBaseline(
  x: Matrix,
  options: DecOptions,
  rng: SeededRandom,
  hooks: TrainingHooks,
  stop: AbortSignal,
): Promise<{ centroids: Float32Array; labels: Int32Array } | undefined> {
  if (!options.guard) return Promise.resolve(undefined);
  const run = hooks.baselineKmeans ?? tensorKmeans;
  const signal = hooks.signal === undefined ? stop : AbortSignal.any([hooks.signal, stop]);
  const baseline = run(x, options.clusters, options.kmeansRestarts, rng, signal).then((result) => {
    hooks.onStage?.({ name: 'baseline', labels: result.labels, embedding: x });
    return result;
  });
  baseline.catch(() => undefined);
  return baseline;
}

/**
 * Embeds the set with the tuned encoder and, with the guard on, chooses between the deep model
 * and k-means on the inputs (model-guard.ts).
 */
async function guardSelection(
  xTensor: tf.Tensor2D,
  trained: {
    x: Matrix;
    z: Matrix;
    tuned: FineTuneResult;
    baseline: { labels: Int32Array } | undefined;
  },
  options: DecOptions,
  streams: ReturnType<typeof seedStreams>,
  hooks: TrainingHooks,
): Promise<GuardDecision | undefined> {
  const { x, z, tuned, baseline } = trained;
  const final = embedTensor(xTensor, tuned.parameters.encoder);
  hooks.onStage?.({ name: 'tuned', labels: tuned.labels, embedding: final });
  if (baseline === undefined) return undefined;
  return guardChoice(
    { input: x, pretrained: z, final },
    { kmeans: baseline.labels, dec: tuned.labels },
    {
      clusters: options.clusters,
      neighbours: GUARD_NEIGHBOURS,
      sampleRows: GUARD_SAMPLE_ROWS,
      margin: options.guardMargin,
    },
    streams.guard,
  );
}
