/**
 * The models the worker serves in the benchmark, trained offline with the engine's trainSnapshot
 * (the code path of `dec-stream train` and of the worker's bootstrap) and cached between runs.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainSnapshotOptions } from '../../src/model/build-snapshot.js';
import { trainSnapshot } from '../../src/model/build-snapshot.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/model/snapshot-codec.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import { FsModelStore } from '../../src/store/fs-model-store.js';
import { mnistTrainingRecords, tabularTrainingRecords } from './datasets.js';

export interface BenchModel {
  readonly snapshot: ModelSnapshot;
  /** How it was trained, for the result file. */
  readonly description: string;
  readonly trainSeconds: number;
  readonly cached: boolean;
}

const cacheDir = join(tmpdir(), 'dec-stream-bench', 'models');

async function cachedTraining(
  name: string,
  records: () => readonly unknown[],
  fields: readonly string[],
  options: TrainSnapshotOptions,
  description: string,
): Promise<BenchModel> {
  const key = createHash('sha256')
    .update(JSON.stringify({ name, fields, options, description }))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir, `${name}-${key}.snapshot`);
  try {
    const snapshot = decodeSnapshot(new Uint8Array(await readFile(file)));
    return { snapshot, description, trainSeconds: 0, cached: true };
  } catch {
    // Not trained yet (or unreadable): train below.
  }
  const started = performance.now();
  const snapshot = await trainSnapshot(records(), fields, options);
  const trainSeconds = (performance.now() - started) / 1000;
  await mkdir(cacheDir, { recursive: true });
  await writeFile(file, encodeSnapshot(snapshot));
  return { snapshot, description, trainSeconds, cached: false };
}

export function tabularModel(dims: number, clusters: number): Promise<BenchModel> {
  const fields = Array.from({ length: dims }, (_, d) => `f${d}`);
  const samples = 5_000;
  return cachedTraining(
    'tabular',
    () => tabularTrainingRecords(samples, dims, clusters),
    fields,
    {
      clusters,
      seed: 1,
      backend: 'wasm',
      pretrainEpochs: 20,
      maxIterations: 500,
      kmeansRestarts: 5,
    },
    `IDEC ${dims}-64-64-256-10, k=${clusters}, trained on ${samples} records ` +
      '(20 pretraining epochs, at most 500 clustering steps)',
  );
}

/** The paper's 784-500-500-2000-10 network with a deliberately short training. */
export function mnistModel(): Promise<BenchModel> {
  const samples = 2_000;
  return cachedTraining(
    'mnist',
    () => mnistTrainingRecords(samples),
    ['pixels'],
    {
      clusters: 10,
      seed: 1,
      backend: 'wasm',
      hiddenSizes: [500, 500, 2000],
      embeddingSize: 10,
      pretrainEpochs: 1,
      maxIterations: 20,
      updateInterval: 10,
      kmeansRestarts: 1,
    },
    `IDEC 784-500-500-2000-10, k=10, short training on ${samples} digits ` +
      '(1 pretraining epoch, 20 clustering steps): weights are for speed, not accuracy',
  );
}

/** A fresh model directory holding `snapshot`, for one worker run. */
export async function modelDirWith(snapshot: ModelSnapshot): Promise<string> {
  await mkdir(join(tmpdir(), 'dec-stream-bench'), { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'dec-stream-bench', 'run-'));
  await new FsModelStore(dir).save(snapshot);
  return dir;
}
