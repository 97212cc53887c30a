import { access, constants, mkdir } from 'node:fs/promises';

import { DecStreamError, UsageError } from '../errors.js';
import { digitAugmentation, parseImageSize } from '../model/augment.js';
import type { TrainSnapshotOptions } from '../model/build-snapshot.js';
import type { ClusterCountSuggestion } from '../model/suggest-clusters.js';
import type { ClusterChoiceOptions } from '../model/train-with-cluster-choice.js';
import { parseFeatureSpec } from '../feature-list.js';
import type { DecOptions, ModelSnapshot, TrainingProgress } from '../model/types.js';
import { FsModelStore } from '../store/fs-model-store.js';
import {
  choiceOption,
  integerListOption,
  integerOption,
  numberOption,
  parseCommandArgs,
  requiredString,
} from './args.js';
import type { OptionSpec } from './args.js';
import type { CommandIo } from './command-io.js';
import { readUsableRecords } from './usable-records.js';
import { createProgressReporter } from './progress.js';
import { formatSuggestion } from './suggest-k-command.js';

export const TRAIN_HELP = `Usage: dec-stream train --input FILE --features SPEC --clusters K --model-dir DIR [options]

Trains a DEC/IDEC model on the records of FILE and stores it as the next version in DIR.

Required:
  --input FILE              JSONL (one object per line) or CSV with a header row; - reads stdin
  --features SPEC           fields to cluster on, comma-separated dot paths: "f0,f1,f2", "pixels",
                            "point.x,point.y"; each holds a number or an array of numbers
  --clusters K              number of clusters (at least 2, at most the number of records), or
                            auto: chosen first as dec-stream suggest-k chooses it
  --model-dir DIR           where model versions are stored (created if missing)

Model and training:
  --seed N                  random seed: same data and seed give the same model
  --hidden 500,500,2000     encoder hidden layer sizes (the decoder mirrors them)
  --embedding N             embedding size (default 10)
  --method dec|idec         idec keeps the reconstruction loss while clustering
  --gamma X                 IDEC weight of the clustering loss
  --alpha X                 Student-t degrees of freedom
  --epochs N                pretraining epochs
  --batch-size N            mini-batch size
  --learning-rate X         pretraining learning rate
  --optimizer adam|sgd      pretraining optimiser
  --input-dropout X         denoising: fraction of inputs zeroed while pretraining
  --patience N              early stop after N pretraining epochs without improvement
  --kmeans-restarts N       k-means restarts (lowest inertia wins)
  --init manifold|kmeans    how fine-tuning starts: UMAP of the embedding, then k-means there
                            (default), or k-means on the embedding
  --distil-epochs N         with the manifold start: passes that fit the model to the manifold
                            partition before DEC's self-training takes over (default: all of
                            them; lower it to self-train)
  --no-guard                serve the deep model even when k-means on the inputs cuts the data
                            better (by default the better of the two serves)
  --guard-margin X          how much lower the deep model's mean normalised cut must be
  --cluster-learning-rate X learning rate of the clustering phase
  --cluster-optimizer adam|sgd
  --update-interval N       recompute the target distribution every N steps
  --tol X                   stop when fewer than this fraction of labels change
  --max-iterations N        maximum clustering iterations
  --scaling MODE            auto (default: global when every feature is a vector, else
                            per-feature), per-feature, global (one mean/std, e.g. pixels) or none
  --keep-all-columns        also use the feature columns that are independent of every other
                            column (by default they are left out; per-feature scaling only)
  --augment-image WxH       the features are W x H images: train on randomly shifted and
                            slightly rotated copies (DEC-DA); needs global or none scaling
  --backend NAME            auto (default), tensorflow, wasm or cpu
  --clusters-min K          with --clusters auto: smallest k considered (default 2)
  --clusters-max K          with --clusters auto: largest k considered (default 20)
  --keep N                  model versions to keep in DIR (default 5)
  --skip-invalid            train on the records with usable features and list the others
                            (default: stop, naming every record without usable features)
  --quiet                   no progress output
  -h, --help                this help

Prints one JSON line describing the stored model.
`;

const OPTIONS: OptionSpec = {
  input: { type: 'string' },
  features: { type: 'string' },
  clusters: { type: 'string' },
  'clusters-min': { type: 'string' },
  'clusters-max': { type: 'string' },
  'model-dir': { type: 'string' },
  seed: { type: 'string' },
  hidden: { type: 'string' },
  embedding: { type: 'string' },
  method: { type: 'string' },
  gamma: { type: 'string' },
  alpha: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  optimizer: { type: 'string' },
  'input-dropout': { type: 'string' },
  patience: { type: 'string' },
  'kmeans-restarts': { type: 'string' },
  init: { type: 'string' },
  'distil-epochs': { type: 'string' },
  'no-guard': { type: 'boolean' },
  'guard-margin': { type: 'string' },
  'cluster-learning-rate': { type: 'string' },
  'cluster-optimizer': { type: 'string' },
  'update-interval': { type: 'string' },
  tol: { type: 'string' },
  'max-iterations': { type: 'string' },
  scaling: { type: 'string' },
  'keep-all-columns': { type: 'boolean' },
  'augment-image': { type: 'string' },
  backend: { type: 'string' },
  keep: { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Flags → training options; only flags that were given are set, the rest take the defaults. */
function trainOptions(
  values: ReturnType<typeof parseCommandArgs>,
  clusters: number,
): TrainSnapshotOptions {
  const decOptions: Mutable<Partial<DecOptions>> = {};
  const set = <K extends keyof DecOptions>(key: K, value: DecOptions[K] | undefined): void => {
    if (value !== undefined) decOptions[key] = value;
  };
  set('seed', integerOption(values, 'seed', 0));
  set('hiddenSizes', integerListOption(values, 'hidden'));
  set('embeddingSize', integerOption(values, 'embedding', 1));
  set('method', choiceOption(values, 'method', ['dec', 'idec'] as const));
  set('gamma', numberOption(values, 'gamma'));
  set('alpha', numberOption(values, 'alpha'));
  set('pretrainEpochs', integerOption(values, 'epochs', 0));
  set('batchSize', integerOption(values, 'batch-size', 1));
  set('pretrainLearningRate', numberOption(values, 'learning-rate'));
  set('pretrainOptimizer', choiceOption(values, 'optimizer', ['adam', 'sgd'] as const));
  set('inputDropout', numberOption(values, 'input-dropout'));
  set('earlyStopPatience', integerOption(values, 'patience', 1));
  set('kmeansRestarts', integerOption(values, 'kmeans-restarts', 1));
  set('initialisation', choiceOption(values, 'init', ['manifold', 'kmeans'] as const));
  set('distilEpochs', integerOption(values, 'distil-epochs', 0));
  if (values['no-guard'] === true) set('guard', false);
  set('guardMargin', numberOption(values, 'guard-margin'));
  set('clusterLearningRate', numberOption(values, 'cluster-learning-rate'));
  set('clusterOptimizer', choiceOption(values, 'cluster-optimizer', ['adam', 'sgd'] as const));
  set('updateInterval', integerOption(values, 'update-interval', 1));
  set('tol', numberOption(values, 'tol'));
  set('maxIterations', integerOption(values, 'max-iterations', 0));
  const imageText = values['augment-image'];
  if (typeof imageText === 'string') {
    const size = parseImageSize(imageText);
    if (size === undefined) {
      throw new UsageError(`--augment-image must be a size such as 28x28, got "${imageText}"`);
    }
    set('imageAugmentation', digitAugmentation(size.width, size.height));
  }
  const scaling = choiceOption(values, 'scaling', [
    'auto',
    'per-feature',
    'global',
    'none',
  ] as const);
  const backend = choiceOption(values, 'backend', ['auto', 'tensorflow', 'wasm', 'cpu'] as const);
  return {
    ...decOptions,
    clusters,
    ...(scaling === undefined ? {} : { scaling }),
    ...(values['keep-all-columns'] === true ? { columnScreening: false } : {}),
    ...(backend === undefined ? {} : { backend }),
  };
}

/** --clusters K, or auto with --clusters-min and --clusters-max. */
function clusterChoiceOption(
  values: ReturnType<typeof parseCommandArgs>,
): { clusters: number } | { clusters: 'auto'; range: { min: number; max: number } } {
  const text = requiredString('train', values, 'clusters');
  const auto = text.trim().toLowerCase() === 'auto';
  const min = integerOption(values, 'clusters-min', 2);
  const max = integerOption(values, 'clusters-max', 2);
  if (!auto) {
    if (min !== undefined || max !== undefined) {
      throw new UsageError('--clusters-min and --clusters-max need --clusters auto');
    }
    const clusters = integerOption(values, 'clusters') as number;
    if (clusters < 2)
      throw new UsageError(`--clusters must be at least 2 or auto, got ${clusters}`);
    return { clusters };
  }
  const range = { min: min ?? 2, max: max ?? Math.max(min ?? 2, 20) };
  if (range.max < range.min) {
    throw new UsageError(
      `--clusters-max must be at least --clusters-min (${range.min}), got ${range.max}`,
    );
  }
  return { clusters: 'auto', range };
}

/** Turns a filesystem failure of the model directory into one clear error. */
async function storeGuard<T>(modelDir: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (typeof code !== 'string' || !code.startsWith('E')) throw error;
    throw new DecStreamError(
      'MODEL_DIR_UNUSABLE',
      `cannot store models in "${modelDir}": ${(error as Error).message}`,
    );
  }
}

/** The version number the next model in `modelDir` gets; fails early when it cannot be written. */
function nextStoreVersion(store: FsModelStore, modelDir: string): Promise<number> {
  return storeGuard(modelDir, async () => {
    await mkdir(modelDir, { recursive: true });
    await access(modelDir, constants.W_OK);
    return ((await store.versions()).at(-1) ?? 0) + 1;
  });
}

/**
 * Trains a snapshot; Ctrl-C stops the training and rejects with a UsageError saying no model was
 * stored.
 */
async function trainUntilInterrupted(
  records: readonly unknown[],
  fields: readonly string[],
  options: ClusterChoiceOptions,
  hooks: {
    log: (message: string) => void;
    recordIds: readonly string[];
    onSuggestion: (suggestion: ClusterCountSuggestion) => void;
    onProgress?: (progress: TrainingProgress) => void;
    done: () => void;
  },
): Promise<ModelSnapshot> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  // Loaded here, after the flags and the input are known to be good: it brings in tfjs.
  const { trainWithClusterChoice } = await import('../model/train-with-cluster-choice.js');
  const { threadedKmeans } = await import('../model/threaded-kmeans.js');
  try {
    return await trainWithClusterChoice(records, fields, options, {
      log: hooks.log,
      signal: abort.signal,
      baselineKmeans: threadedKmeans(),
      recordIds: hooks.recordIds,
      onSuggestion: hooks.onSuggestion,
      ...(hooks.onProgress === undefined ? {} : { onProgress: hooks.onProgress }),
    });
  } catch (error) {
    if (abort.signal.aborted) throw new UsageError('training interrupted; no model was stored');
    throw error;
  } finally {
    hooks.done();
    process.off('SIGINT', onSignal);
  }
}

export async function runTrainCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parseCommandArgs('train', args, OPTIONS);
  if (values.help === true) {
    io.stdout.write(TRAIN_HELP);
    return 0;
  }
  const input = requiredString('train', values, 'input');
  const fields = parseFeatureSpec(requiredString('train', values, 'features'));
  const clusterChoice = clusterChoiceOption(values);
  const clusters =
    clusterChoice.clusters === 'auto' ? clusterChoice.range.max : clusterChoice.clusters;
  const modelDir = requiredString('train', values, 'model-dir');
  const options = trainOptions(values, clusters);
  const keep = integerOption(values, 'keep', 1);
  const quiet = values.quiet === true;
  const log = (message: string): void => {
    if (!quiet) io.stderr.write(`${message}\n`);
  };

  const { records, positions } = await readUsableRecords(input, fields, {
    stdin: io.stdin,
    skipInvalid: values['skip-invalid'] === true,
    log,
    purpose: 'train',
  });
  checkRecordCount(input, records.length, clusters, clusterChoice.clusters === 'auto');
  const store = new FsModelStore(modelDir, { ...(keep === undefined ? {} : { keep }), log });
  // Check the directory before a long training run rather than after it.
  const version = await nextStoreVersion(store, modelDir);

  log(
    `training on ${records.length} records, ${fields.length} feature field(s), ` +
      (clusterChoice.clusters === 'auto'
        ? `k chosen from ${clusterChoice.range.min} to ${clusterChoice.range.max}`
        : `k=${clusters}`),
  );
  const progress = quiet ? undefined : createProgressReporter(io.stderr);
  const snapshot = await trainUntilInterrupted(
    records,
    fields,
    {
      ...options,
      version,
      clusters: clusterChoice.clusters,
      ...(clusterChoice.clusters === 'auto' ? { clusterRange: clusterChoice.range } : {}),
    },
    {
      log,
      // The sample of members kept in the snapshot names records by position in the input.
      recordIds: positions.map(String),
      onSuggestion: (s) => {
        progress?.done();
        log(formatSuggestion(s).trimEnd());
      },
      ...(progress === undefined ? {} : { onProgress: (p) => progress.onProgress(p) }),
      done: () => progress?.done(),
    },
  );
  await storeGuard(modelDir, () => store.save(snapshot));

  io.stdout.write(storedSummary(snapshot, store.fileFor(snapshot.version)));
  return 0;
}

/** Enough records for `clusters` (or, choosing k, for scoring up to the largest). */
function checkRecordCount(input: string, records: number, clusters: number, auto: boolean): void {
  if (records === 0) throw new UsageError(`input "${input}" holds no records`);
  if (auto && records <= clusters) {
    throw new UsageError(
      `cannot score up to ${clusters} clusters in ${records} records: lower --clusters-max or use more data`,
    );
  }
  if (records < clusters) {
    throw new UsageError(
      `cannot find ${clusters} clusters in ${records} records: use fewer clusters or more data`,
    );
  }
}

/** The one JSON line `train` prints about the model it stored. */
function storedSummary(snapshot: ModelSnapshot, file: string): string {
  const m = snapshot.metrics;
  return `${JSON.stringify({
    version: snapshot.version,
    file,
    samples: m.samples,
    inputDims: m.inputDims,
    clusters: snapshot.parameters.clusters,
    clusterSizes: m.clusterSizes,
    pretrainLoss: m.pretrainLoss,
    finalKl: m.finalKl,
    clusterIterations: m.clusterIterations,
    backend: m.backend,
    wallMs: m.wallMs,
  })}\n`;
}
