/**
 * The expensive half of the suggest-k benchmark: per data set and seed, the spaces a number of
 * clusters is chosen in (pretrained embedding, UMAP layout), cached on disk so that criteria can
 * be compared without pretraining again.
 *
 *   node --import tsx bench/suggest-k/embed-cache.ts [--seeds 1,2] [--sets a,b] [--dir DIR]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clusterCountSpaces } from '../../src/model/cluster-count-spaces.js';
import { standardisedTrainingMatrix } from '../../src/model/training-matrix.js';
import type { Matrix } from '../../src/model/types.js';
import { stratifiedSubsample, suiteDatasets, type SuiteDataset } from '../suite/datasets.js';

/** Most rows per data set (a stratified sample of the larger ones), to bound the compute. */
export const MAX_ROWS = 2000;
/** The subsample does not depend on the training seed: every seed sees the same rows. */
const SUBSAMPLE_SEED = 7;

export const DEFAULT_CACHE_DIR = '/tmp/suggestk-cache';

export interface CachedSpaces {
  readonly set: string;
  readonly seed: number;
  readonly clusters: number;
  readonly half: string;
  readonly embedding: Matrix;
  readonly layout: Matrix;
  readonly pretrainEpochs: number;
  readonly seconds: { readonly pretrain: number; readonly layout: number };
}

/** Records as a user sends them: a vector field for images, one field per column for tables. */
function toRecords(set: SuiteDataset, x: Matrix): { records: unknown[]; fields: string[] } {
  if (set.family === 'image') {
    const records = Array.from({ length: x.rows }, (_, i) => ({
      pixels: Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)),
    }));
    return { records, fields: ['pixels'] };
  }
  const fields = Array.from({ length: x.cols }, (_, c) => `f${c}`);
  const records = Array.from({ length: x.rows }, (_, i) =>
    Object.fromEntries(fields.map((f, c) => [f, x.data[i * x.cols + c]!])),
  );
  return { records, fields };
}

const fileFor = (dir: string, set: string, seed: number): string =>
  path.join(dir, `${set}-s${seed}.json`);

function encode(m: Matrix): { rows: number; cols: number; data: string } {
  return {
    rows: m.rows,
    cols: m.cols,
    data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('base64'),
  };
}

function decode(m: { rows: number; cols: number; data: string }): Matrix {
  const bytes = Buffer.from(m.data, 'base64');
  const data = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  );
  return { rows: m.rows, cols: m.cols, data };
}

export function readCached(dir: string, set: string, seed: number): CachedSpaces | undefined {
  const file = fileFor(dir, set, seed);
  if (!existsSync(file)) return undefined;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as CachedSpaces & {
    embedding: { rows: number; cols: number; data: string };
    layout: { rows: number; cols: number; data: string };
  };
  return { ...raw, embedding: decode(raw.embedding), layout: decode(raw.layout) };
}

export async function embedSet(
  set: SuiteDataset,
  seed: number,
  dir: string,
): Promise<CachedSpaces> {
  const cached = readCached(dir, set.name, seed);
  if (cached !== undefined) return cached;
  const data = stratifiedSubsample(set.load(), MAX_ROWS, SUBSAMPLE_SEED);
  const { records, fields } = toRecords(set, data.x);
  const { matrix: x } = standardisedTrainingMatrix(records, fields);
  const spaces = await clusterCountSpaces(x, { seed });
  const result: CachedSpaces = {
    set: set.name,
    seed,
    clusters: set.clusters,
    half: set.half,
    embedding: spaces.embedding,
    layout: spaces.layout,
    pretrainEpochs: spaces.pretrainEpochs,
    seconds: { pretrain: spaces.wallMs.pretrain / 1000, layout: spaces.wallMs.layout / 1000 },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    fileFor(dir, set.name, seed),
    JSON.stringify({
      ...result,
      embedding: encode(result.embedding),
      layout: encode(result.layout),
    }),
  );
  return result;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seeds = (value('--seeds') ?? '1').split(',').map(Number);
  const only = value('--sets')?.split(',');
  const dir = value('--dir') ?? DEFAULT_CACHE_DIR;
  // The tuning half first: the criterion is chosen on it while the held-out half is computed.
  const sets = [
    ...suiteDatasets({ half: 'tuning' }),
    ...suiteDatasets({ half: 'held-out' }),
  ].filter((s) => only === undefined || only.includes(s.name));
  for (const seed of seeds) {
    for (const set of sets) {
      const started = performance.now();
      const r = await embedSet(set, seed, dir);
      console.log(
        `${set.name} seed ${seed}: ${r.embedding.rows} rows, pretrain ${r.seconds.pretrain.toFixed(0)} s ` +
          `(${r.pretrainEpochs} epochs), layout ${r.seconds.layout.toFixed(0)} s, ` +
          `this run ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
    }
  }
}

if (process.argv[1]?.endsWith('embed-cache.ts')) await main();
