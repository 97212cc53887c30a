/**
 * How well `dec-stream suggest-k` finds the true number of clusters, on the quality suite's data
 * sets (bench/suite/datasets.ts), each at most 2,000 rows (stratified sample), over seeds.
 *
 *   npm run bench:suggest-k [-- --seeds 1,2] [--sets a,b] [--cache DIR] [--out FILE] [--cached-only]
 *                           [--layout-dims N]
 *
 * Per data set and seed: the autoencoder is pretrained once with the training defaults and its
 * embedding laid out with UMAP (bench/suggest-k/embed-cache.ts, cached in --cache), then k-means
 * for k = 2..20 in each space and every index of src/model/suggest-k.ts (score tables cached too).
 * Each candidate rule (space x criterion) is then judged by its hit rates. The rule is chosen on
 * the tuning half only (most exact hits, then most within ±1, then the earlier candidate); both
 * halves are reported apart, and the benchmark says whether the chosen rule is the one
 * suggest-k uses by default. Results go to bench/results/suggest-k.json.
 *
 * --layout-dims N scores a layout of N dimensions instead of the default's, laid out again from
 * the cached embedding as suggest-k would lay it out (every set has fewer rows than suggest-k's
 * layout sample), to compare layout sizes; give it an --out of its own.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/model/backend.js';
import { SeededRandom } from '../src/model/rng.js';
import {
  ClusterCountCriterion,
  recommendClusterCount,
  scoreClusterCounts,
  type ClusterCountScore,
} from '../src/model/suggest-k.js';
import { DEFAULT_LAYOUT_DIMS, layoutOfEmbedding } from '../src/model/cluster-count-spaces.js';
import type { Matrix } from '../src/model/types.js';
import {
  DEFAULT_CLUSTER_COUNT_RULE,
  type ClusterCountRule,
  type ClusterCountSpace,
} from '../src/model/suggest-clusters.js';
import { DEFAULT_CACHE_DIR, embedSet, MAX_ROWS, readCached } from './suggest-k/embed-cache.js';
import { suiteDatasets } from './suite/datasets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const RANGE = { min: 2, max: 20 } as const;
const SPACES: readonly ClusterCountSpace[] = ['layout', 'embedding'];
const CRITERIA = Object.values(ClusterCountCriterion);

interface SetRun {
  readonly set: string;
  readonly half: string;
  readonly seed: number;
  readonly clusters: number;
  readonly seconds: { pretrain: number; layout: number; scoring: Record<string, number> };
  readonly scores: Record<ClusterCountSpace, ClusterCountScore[]>;
}

async function scoreSpace(
  dir: string,
  name: string,
  seed: number,
  space: ClusterCountSpace,
  matrix: () => Promise<Matrix>,
  freshSpaces: boolean,
): Promise<{ scores: ClusterCountScore[]; seconds: number }> {
  const file = path.join(dir, `scores-${name}-s${seed}-${space}.json`);
  // Scores of spaces just computed again are stale: the pipeline that made them may have changed.
  if (!freshSpaces && existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8')) as {
      scores: ClusterCountScore[];
      seconds: number;
    };
  }
  const started = performance.now();
  const scores = await scoreClusterCounts(await matrix(), RANGE, new SeededRandom(seed));
  const result = { scores, seconds: (performance.now() - started) / 1000 };
  writeFileSync(file, JSON.stringify(result));
  return result;
}

const ruleName = (r: ClusterCountRule): string =>
  `${r.criterion}${r.tolerance > 0 ? ` ~${r.tolerance}` : ''} on ${r.space}`;

/** Tolerances tried with the silhouette (the other indices have no natural unit). */
const TOLERANCES = [0, 0.01, 0.02, 0.03, 0.05];

function hitRates(runs: readonly SetRun[], rule: ClusterCountRule) {
  const picks = runs.map((r) => ({
    set: r.set,
    seed: r.seed,
    truth: r.clusters,
    chosen: recommendClusterCount(r.scores[rule.space], rule.criterion, rule.tolerance),
  }));
  const exact = picks.filter((p) => p.chosen === p.truth).length;
  const within = picks.filter((p) => Math.abs(p.chosen - p.truth) <= 1).length;
  return {
    runs: picks.length,
    exact: exact / picks.length,
    withinOne: within / picks.length,
    picks,
  };
}

/** The per-run score tables, one run per line and numbers to 5 significant digits. */
function compactRuns(runs: readonly SetRun[]): string {
  const round = (_: string, v: unknown): unknown =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v;
  return `[\n${runs.map((r) => `  ${JSON.stringify(r, round)}`).join(',\n')}\n ]`;
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const seeds = (value('--seeds') ?? '1,2').split(',').map(Number);
  const only = value('--sets')?.split(',');
  const dir = value('--cache') ?? DEFAULT_CACHE_DIR;
  const layoutDims = Number(value('--layout-dims') ?? DEFAULT_LAYOUT_DIMS);
  mkdirSync(dir, { recursive: true });
  const sets = suiteDatasets().filter((s) => only === undefined || only.includes(s.name));
  const runs: SetRun[] = [];
  for (const seed of seeds) {
    for (const set of sets) {
      // --cached-only: score what the embedding cache holds, compute nothing new.
      const cached = readCached(dir, set.name, seed);
      if (cached === undefined && args.includes('--cached-only')) {
        console.error(`skipped ${set.name} seed ${seed}: not in the cache`);
        continue;
      }
      const spaces = cached ?? (await embedSet(set, seed, dir));
      // Laid out again only when its scores are not cached yet.
      const layout = async (): Promise<Matrix> =>
        layoutDims === DEFAULT_LAYOUT_DIMS
          ? spaces.layout
          : (await layoutOfEmbedding(spaces.embedding, seed, layoutDims)).layout;
      const scores = {} as Record<ClusterCountSpace, ClusterCountScore[]>;
      const scoring: Record<string, number> = {};
      for (const space of SPACES) {
        const name =
          space === 'layout' && layoutDims !== DEFAULT_LAYOUT_DIMS
            ? `${set.name}-dims${layoutDims}`
            : set.name;
        const scored = await scoreSpace(
          dir,
          name,
          seed,
          space,
          space === 'layout' ? layout : () => Promise.resolve(spaces[space]),
          cached === undefined,
        );
        scores[space] = scored.scores;
        scoring[space] = scored.seconds;
      }
      runs.push({
        set: set.name,
        half: set.half,
        seed,
        clusters: set.clusters,
        seconds: { pretrain: spaces.seconds.pretrain, layout: spaces.seconds.layout, scoring },
        scores,
      });
      console.error(`scored ${set.name} seed ${seed}`);
    }
  }

  const tuning = runs.filter((r) => r.half === 'tuning');
  const heldOut = runs.filter((r) => r.half === 'held-out');
  // In order of simplicity: on a tie on the tuning half the earlier rule is chosen.
  const rules: ClusterCountRule[] = SPACES.flatMap((space) =>
    CRITERIA.flatMap((criterion) =>
      (criterion === ClusterCountCriterion.Silhouette ? TOLERANCES : [0]).map((tolerance) => ({
        space,
        criterion,
        tolerance,
      })),
    ),
  );
  const candidates = rules.map((rule) => ({
    rule: ruleName(rule),
    ...rule,
    tuning: hitRates(tuning, rule),
    heldOut: hitRates(heldOut, rule),
    all: hitRates(runs, rule),
  }));
  // The choice sees the tuning half only.
  const chosen = [...candidates].sort(
    (a, b) => b.tuning.exact - a.tuning.exact || b.tuning.withinOne - a.tuning.withinOne,
  )[0]!;
  const isDefaultRule = (c: ClusterCountRule): boolean =>
    c.space === DEFAULT_CLUSTER_COUNT_RULE.space &&
    c.criterion === DEFAULT_CLUSTER_COUNT_RULE.criterion &&
    c.tolerance === DEFAULT_CLUSTER_COUNT_RULE.tolerance;
  const isDefault = isDefaultRule(chosen);
  // What users get, whichever rule the tuning half would choose now.
  const byDefault = candidates.find(isDefaultRule) ?? chosen;
  const picksOf = (c: typeof chosen, set: string): number[] =>
    c.all.picks.filter((p) => p.set === set).map((p) => p.chosen);

  const pct = (v: number): string => `${(100 * v).toFixed(0)} %`.padStart(5);
  console.log(
    'rule                              tuning exact ±1   held-out exact ±1   all exact ±1',
  );
  for (const c of candidates) {
    console.log(
      `${c.rule.padEnd(33)} ${pct(c.tuning.exact)} ${pct(c.tuning.withinOne)}      ${pct(c.heldOut.exact)} ${pct(c.heldOut.withinOne)}     ${pct(c.all.exact)} ${pct(c.all.withinOne)}`,
    );
  }
  console.log(
    `chosen on the tuning half: ${chosen.rule}${isDefault ? ' (the default)' : ' (NOT the default)'}`,
  );
  console.log('set                        half      k   default rule per seed   chosen per seed');
  for (const set of sets) {
    console.log(
      `${set.name.padEnd(26)} ${set.half.padEnd(9)} ${String(set.clusters).padStart(2)}   ` +
        `${picksOf(byDefault, set.name).join(', ').padEnd(22)}  ${picksOf(chosen, set.name).join(', ')}`,
    );
  }
  const median = (v: number[]): number => {
    const s = [...v].sort((a, b) => a - b);
    return s.length === 0
      ? 0
      : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
  };
  const seconds = runs.map(
    (r) =>
      r.seconds.pretrain + r.seconds.layout + r.seconds.scoring[DEFAULT_CLUSTER_COUNT_RULE.space]!,
  );
  const out = value('--out') ?? path.join(here, 'results', 'suggest-k.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        seeds,
        runsPerSeed: Object.fromEntries(
          seeds.map((s) => [s, runs.filter((r) => r.seed === s).length]),
        ),
        range: RANGE,
        maxRows: MAX_ROWS,
        chosenRule: {
          rule: chosen.rule,
          space: chosen.space,
          criterion: chosen.criterion,
          tolerance: chosen.tolerance,
          isDefault,
        },
        defaultRule: byDefault.rule,
        secondsMedian: median(seconds),
        secondsMax: Math.max(...seconds),
        candidates: candidates.map((c) => ({
          rule: c.rule,
          space: c.space,
          criterion: c.criterion,
          tolerance: c.tolerance,
          tuning: { runs: c.tuning.runs, exact: c.tuning.exact, withinOne: c.tuning.withinOne },
          heldOut: { runs: c.heldOut.runs, exact: c.heldOut.exact, withinOne: c.heldOut.withinOne },
          all: { runs: c.all.runs, exact: c.all.exact, withinOne: c.all.withinOne },
        })),
        perSet: sets.map((set) => ({
          set: set.name,
          half: set.half,
          clusters: set.clusters,
          chosen: picksOf(chosen, set.name),
          byDefault: picksOf(byDefault, set.name),
        })),
        runs: '@RUNS@',
      },
      null,
      1,
    ).replace('"@RUNS@"', compactRuns(runs))}\n`,
  );
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

await main();
