/**
 * The bootstrap's time against an older checkout's, on the same records in one process: each set
 * trains with the older defaults, then with today's, so both see the same machine. This is how the
 * bound "at most 3 times as long as the defaults before the quality suite" is checked.
 *
 *   git worktree add --detach /tmp/dec-before 72c42ed~1
 *   npm run bench:bootstrap-time -- --old-tree /tmp/dec-before [--sets iris,warp-tanh-d24-k10@2000]
 *                                   [--repeats 3] [--merge]
 *
 * A set is a quality-suite name with an optional `@rows` (a stratified sample). The older tree
 * needs no install of its own: its imports resolve to this checkout's node_modules when linked
 * (`ln -s "$PWD/node_modules" /tmp/dec-before/node_modules`). Results: bench/results/bootstrap-time.json.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './common/args.js';
import { readResult, resultFile, runFacts, writeResult } from './common/results.js';
import { median } from './common/stats.js';
import { stopwatch } from './common/timing.js';
import { trainSnapshot } from '../src/model/build-snapshot.js';
import { stratifiedSubsample, SUITE } from './suite/datasets.js';
import type { LabelledData } from './data/synthetic-mixture.js';

// warp-tanh-d64-k6@2000 is the 2,000 x 64 table that must train in under a minute.
const DEFAULT_SETS =
  'iris,penguins,warp-tanh-d24-k10@2000,duplicates-d60-k7@2000,warp-tanh-d64-k6@2000,mnist-7x7@2000';

type Train = typeof trainSnapshot;

interface TimingRow {
  readonly set: string;
  readonly rows: number;
  readonly cols: number;
  /** Medians of the repeats. */
  readonly beforeSeconds: number;
  readonly nowSeconds: number;
  readonly ratio: number;
  readonly repeats: number;
}

/** The set's records as a user would send them: named columns, or one pixel vector for images. */
function asRecords(data: LabelledData, image: boolean): { records: object[]; fields: string[] } {
  const { rows, cols } = data.x;
  const row = (i: number): number[] => Array.from(data.x.data.subarray(i * cols, (i + 1) * cols));
  if (image) {
    return {
      records: Array.from({ length: rows }, (_, i) => ({ pixels: row(i) })),
      fields: ['pixels'],
    };
  }
  const fields = Array.from({ length: cols }, (_, c) => `f${c}`);
  const records = Array.from({ length: rows }, (_, i) =>
    Object.fromEntries(row(i).map((v, c) => [fields[c]!, v])),
  );
  return { records, fields };
}

function loadSet(spec: string): {
  name: string;
  clusters: number;
  data: LabelledData;
  image: boolean;
} {
  const [name, rowsText] = spec.split('@') as [string, string?];
  const set = SUITE.find((s) => s.name === name);
  if (set === undefined) throw new Error(`no quality-suite set named ${name}`);
  const full = set.load();
  const data = rowsText === undefined ? full : stratifiedSubsample(full, Number(rowsText), 1);
  return { name: spec, clusters: set.clusters, data, image: set.family === 'image' };
}

async function seconds(train: Train, set: ReturnType<typeof loadSet>): Promise<number> {
  const { records, fields } = asRecords(set.data, set.image);
  const clock = stopwatch();
  await train(records, fields, { clusters: set.clusters, seed: 1, backend: 'wasm' });
  return clock.seconds();
}

/** The short commit the older tree is checked out at. */
function commitOf(tree: string): string {
  return execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
}

async function main(): Promise<void> {
  const args = benchArgs();
  const oldTree = args.value('--old-tree');
  if (oldTree === undefined)
    throw new Error('--old-tree DIR (a checkout of the older commit) is required');
  const oldModule = pathToFileURL(path.resolve(oldTree, 'src/model/build-snapshot.ts')).href;
  const trainOld = ((await import(oldModule)) as { trainSnapshot: Train }).trainSnapshot;
  const repeats = Number(args.value('--repeats') ?? 3);
  const rows: TimingRow[] = [];
  for (const spec of (args.value('--sets') ?? DEFAULT_SETS).split(',')) {
    const set = loadSet(spec);
    // Alternating, so that a busy spell of the shared machine falls on both; medians of the repeats.
    const before: number[] = [];
    const now: number[] = [];
    for (let r = 0; r < repeats; r++) {
      before.push(await seconds(trainOld, set));
      now.push(await seconds(trainSnapshot, set));
    }
    const row: TimingRow = {
      set: spec,
      rows: set.data.x.rows,
      cols: set.data.x.cols,
      beforeSeconds: Number(median(before).toFixed(1)),
      nowSeconds: Number(median(now).toFixed(1)),
      ratio: Number((median(now) / median(before)).toFixed(2)),
      repeats,
    };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  // --merge keeps the rows of sets this run did not measure (a slow set measured on its own).
  const file = resultFile('bootstrap-time');
  const kept = args.flag('--merge')
    ? ((readResult(file).rows as TimingRow[] | undefined) ?? []).filter(
        (r) => !rows.some((mine) => mine.set === r.set),
      )
    : [];
  const out = writeResult(file, {
    ...runFacts(),
    oldCommit: commitOf(oldTree),
    rows: [...kept, ...rows],
  });
  console.log(`wrote ${out}`);
}

await main();
