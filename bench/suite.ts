/**
 * The clustering quality suite: every data set of bench/suite/datasets.ts, k-means against the
 * default pipeline, over seeds and record orders. Results go to bench/results/suite.json (or
 * suite-small.json with --small) and a table is printed.
 *
 *   npm run bench:suite [-- --small] [--half tuning|held-out] [--sets a,b] [--seeds 3] [--orders 2]
 *                       [--parallel 2] [--option name=value ...] [--out FILE] [--resume]
 *
 * Per data set: k-means (20 restarts, seed 1) on raw and on standardised inputs. Per data set, seed
 * and record order (order 0 as loaded, order 1 shuffled): the default pipeline through
 * trainSnapshot, as the worker's bootstrap runs it, with the stages it passes through (the
 * baseline k-means of the guard, autoencoder + k-means, the initial partition, the fine-tuned
 * model) and what serves, labelled through the serving path (assignRecords). Every candidate
 * partition is also scored by the guard's criterion in the three shared spaces, so the criterion's
 * agreement with ACC can be measured. Jobs run as child processes, --parallel at a time.
 * --option overrides a training option (numbers, true/false, or text), for experiments on the
 * tuning half. --check exits 1 when a set's served median falls more than CHECK_TOLERANCE below
 * k-means, or when two record orders of one seed trained different models (CI runs the small form
 * with it).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainSnapshot } from '../src/model/build-snapshot.js';
import { assignRecords } from '../src/model/model-version.js';
import type { TrainSnapshotOptions } from '../src/model/build-snapshot.js';
import { canonicalRowOrder, reorderRows } from '../src/model/canonical-order.js';
import { spearmanCorrelation } from '../src/model/column-screening.js';
import { evaluateClustering } from '../src/model/evaluation.js';
import { FeatureExtractor } from '../src/model/features.js';
import { kmeansRestarts } from '../src/model/kmeans-init.js';
import { criterionScore, SelectionSpaces, type SelectionSpace } from '../src/model/model-guard.js';
import {
  SEPARATE_GROUPS_MAX_CUT,
  mergedAgainst,
  nearestNeighbourGraph,
  normalisedCut,
} from '../src/model/partition-score.js';
import { SeededRandom } from '../src/model/rng.js';
import type { Matrix, ModelSnapshot } from '../src/model/types.js';
import type { LabelledData } from './data/synthetic-mixture.js';
import { suiteDatasets, type SuiteDataset } from './suite/datasets.js';
import { standardise } from './suite/describe.js';
import { benchArgs } from './common/args.js';
import { inParallel, runChild, sendResult } from './common/child.js';
import { printDocTable } from './common/print.js';
import { resultFile, runFacts, writeResult } from './common/results.js';
import { median } from './common/stats.js';
import { stopwatch } from './common/timing.js';

const args = benchArgs();
const { flag, value, values } = args;

/** How far below k-means (in ACC) --check lets a set's served median fall. */
const CHECK_TOLERANCE = 0.03;

/** Candidate partitions scored by the criterion. */
const Candidates = ['baseline', 'aeKmeans', 'initial', 'tuned'] as const;
type Candidate = (typeof Candidates)[number];

interface RunResult {
  readonly set: string;
  readonly seed: number;
  readonly order: number;
  readonly servedAcc: number;
  readonly servedNmi: number;
  readonly modelKind: string;
  readonly acc: Record<Candidate, number>;
  /** Normalised cut of each candidate in each shared space. */
  readonly cut: Record<Candidate, Record<SelectionSpace, number>>;
  /**
   * Share of rows the guard's two candidates (the fine-tuned model, the k-means baseline) each
   * merge that the other keeps apart as separate groups, in each shared space: the charge the
   * promotion criterion adds to the cut (SharedGraphs.scorePair), recorded to weigh it for the guard.
   */
  readonly merged: Record<'tuned' | 'baseline', Record<SelectionSpace, number>>;
  readonly guardScores: unknown;
  readonly trainSeconds: number;
  readonly wallMs: unknown;
  readonly pretrainEpochs: number;
  readonly clusterIterations: number;
  /** sha256 of the served parameters: equal across orders when training is order-free. */
  readonly modelHash: string;
}

interface KmeansResult {
  readonly set: string;
  readonly raw: number;
  readonly standardised: number;
  readonly seconds: number;
}

function parseOptions(): Partial<TrainSnapshotOptions> {
  const out: Record<string, unknown> = {};
  for (const pair of values('--option')) {
    const [name, text] = pair.split('=', 2) as [string, string];
    out[name] =
      text === 'true'
        ? true
        : text === 'false'
          ? false
          : /^[-\d.e]+$/.test(text)
            ? Number(text)
            : text.includes(',')
              ? text.split(',').map(Number)
              : text;
  }
  return out;
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
  const records = Array.from({ length: x.rows }, (_, i) => {
    const record: Record<string, number> = {};
    fields.forEach((f, c) => (record[f] = x.data[i * x.cols + c]!));
    return record;
  });
  return { records, fields };
}

function reorder(data: LabelledData, order: Int32Array): LabelledData {
  return { x: reorderRows(data.x, order), labels: Int32Array.from(order, (r) => data.labels[r]!) };
}

function hashParameters(snapshot: ModelSnapshot): string {
  const hash = createHash('sha256');
  const p = snapshot.parameters;
  for (const layer of [...p.encoder, ...p.decoder]) {
    hash.update(
      new Uint8Array(layer.weights.buffer, layer.weights.byteOffset, layer.weights.byteLength),
    );
  }
  hash.update(new Uint8Array(p.centroids.buffer, p.centroids.byteOffset, p.centroids.byteLength));
  return hash.digest('hex').slice(0, 16);
}

async function runJob(set: SuiteDataset, seed: number, order: number): Promise<RunResult> {
  const loaded = set.load();
  const data =
    order === 0
      ? loaded
      : reorder(loaded, new SeededRandom(9000 + order).permutation(loaded.x.rows));
  const { records, fields } = toRecords(set, data.x);
  // trainSnapshot trains on the rows in canonical order; the stages report rows in that order.
  const extracted = FeatureExtractor.infer(fields, records[0]).extractMatrix(records);
  const trainingOrder = canonicalRowOrder(extracted);
  const truth = Int32Array.from(trainingOrder, (r) => data.labels[r]!);
  const stages: Record<string, { labels?: Int32Array; embedding?: Matrix }> = {};
  const training = stopwatch();
  const snapshot = await trainSnapshot(
    records,
    fields,
    { clusters: set.clusters, seed, backend: 'wasm', ...parseOptions() },
    { onStage: (stage) => (stages[stage.name] = stage) },
  );
  const trainSeconds = training.seconds();
  const served = assignRecords(snapshot, records);
  const servedScores = evaluateClustering(data.labels, served.batch.cluster);

  const pretrained = stages.pretrained!.embedding!;
  const partitions: Record<Candidate, Int32Array> = {
    baseline: stages.baseline!.labels!,
    aeKmeans: kmeansRestarts(pretrained, set.clusters, 20, new SeededRandom(seed)).labels,
    initial: stages.initial!.labels!,
    tuned: stages.tuned!.labels!,
  };
  const spaces: Record<SelectionSpace, Matrix> = {
    input: stages.baseline!.embedding!,
    pretrained,
    final: stages.tuned!.embedding!,
  };
  const sample = new SeededRandom(seed).permutation(truth.length).subarray(0, 3000).sort();
  const pick = (m: Matrix): Matrix => reorderRows(m, sample);
  const neighbours = 10;
  const graphs: (readonly [SelectionSpace, Int32Array])[] = [];
  for (const s of SelectionSpaces) {
    graphs.push([s, await nearestNeighbourGraph(pick(spaces[s]), neighbours)] as const);
  }
  const graphNeighbours = Math.min(neighbours, sample.length - 1);
  // Each candidate's labels of the sampled rows, once: the cuts and the merged shares read them.
  const sampled = Object.fromEntries(
    Candidates.map((c) => [c, Int32Array.from(sample, (r) => partitions[c][r]!)]),
  ) as Record<Candidate, Int32Array>;
  const perSpace = (score: (graph: Int32Array) => number): Record<SelectionSpace, number> =>
    Object.fromEntries(graphs.map(([s, g]) => [s, score(g)])) as Record<SelectionSpace, number>;
  const acc = {} as Record<Candidate, number>;
  const cut = {} as Record<Candidate, Record<SelectionSpace, number>>;
  for (const c of Candidates) {
    acc[c] = evaluateClustering(truth, partitions[c]).acc;
    cut[c] = perSpace((g) => normalisedCut(g, graphNeighbours, sampled[c], set.clusters));
  }
  const mergedShares = (c: Candidate, rival: Candidate): Record<SelectionSpace, number> =>
    perSpace((g) =>
      mergedAgainst(
        g,
        graphNeighbours,
        sampled[c],
        sampled[rival],
        set.clusters,
        SEPARATE_GROUPS_MAX_CUT,
      ),
    );
  return {
    set: set.name,
    seed,
    order,
    servedAcc: servedScores.acc,
    servedNmi: servedScores.nmi,
    modelKind: snapshot.metrics.modelKind ?? 'dec',
    acc,
    cut,
    merged: {
      tuned: mergedShares('tuned', 'baseline'),
      baseline: mergedShares('baseline', 'tuned'),
    },
    guardScores: snapshot.metrics.selection?.candidates,
    trainSeconds,
    wallMs: snapshot.metrics.wallMs,
    pretrainEpochs: snapshot.metrics.pretrainEpochs,
    clusterIterations: snapshot.metrics.clusterIterations,
    modelHash: hashParameters(snapshot),
  };
}

function runKmeans(set: SuiteDataset): KmeansResult {
  const { x, labels } = set.load();
  const clock = stopwatch();
  const fit = (m: Matrix): number =>
    evaluateClustering(labels, kmeansRestarts(m, set.clusters, 20, new SeededRandom(1)).labels).acc;
  const raw = fit(x);
  const standardised = fit(standardise(x));
  return { set: set.name, raw, standardised, seconds: clock.seconds() };
}

// ---------------------------------------------------------------------------------------------
// The parent: jobs in child processes, then the summary.
// ---------------------------------------------------------------------------------------------

/** One job in a child process, so that jobs run side by side and each starts with a clean heap. */
function jobInChild(job: string): Promise<KmeansResult | RunResult> {
  return runChild(fileURLToPath(import.meta.url), ['--job', job, ...args.raw]) as Promise<
    KmeansResult | RunResult
  >;
}

function summarise(sets: SuiteDataset[], kmeans: KmeansResult[], runs: RunResult[]) {
  return sets.map((set) => {
    const km = kmeans.find((k) => k.set === set.name)!;
    const mine = runs.filter((r) => r.set === set.name);
    const served = mine.map((r) => r.servedAcc);
    const kmeansBest = Math.max(km.raw, km.standardised);
    // Criterion agreement: over every candidate partition of every run of this set, the rank
    // correlation of -score (lower cut is better) with ACC.
    const scores = mine.flatMap((r) => Candidates.map((c) => -criterionScore(r.cut[c])));
    const accs = mine.flatMap((r) => Candidates.map((c) => r.acc[c]));
    return {
      set: set.name,
      half: set.half,
      family: set.family,
      clusters: set.clusters,
      kmeansRaw: km.raw,
      kmeansStandardised: km.standardised,
      kmeansBest,
      aeKmeansMedian: median(mine.map((r) => r.acc.aeKmeans)),
      deepMedian: median(mine.map((r) => r.acc.tuned)),
      defaultMedian: median(served),
      defaultMin: Math.min(...served),
      defaultMax: Math.max(...served),
      spread: Math.max(...served) - Math.min(...served),
      gainOverKmeans: median(served) - kmeansBest,
      servedKinds: mine.map((r) => r.modelKind),
      criterionSpearman: spearmanCorrelation(scores, accs),
      trainSecondsMedian: median(mine.map((r) => r.trainSeconds)),
      // Every record order of a seed trained the very same model.
      orderInvariant: mine.every((r) =>
        mine.filter((o) => o.seed === r.seed).every((o) => o.modelHash === r.modelHash),
      ),
    };
  });
}

async function main(): Promise<void> {
  const job = value('--job');
  if (job !== undefined) {
    const [kind, name, seed, order] = job.split(':') as [string, string, string?, string?];
    const set = suiteDatasets({ small: flag('--small') }).find((s) => s.name === name)!;
    sendResult(kind === 'kmeans' ? runKmeans(set) : await runJob(set, Number(seed), Number(order)));
    return;
  }
  const half = value('--half') as 'tuning' | 'held-out' | undefined;
  const only = value('--sets')?.split(',');
  const sets = suiteDatasets({
    small: flag('--small'),
    ...(half === undefined ? {} : { half }),
  }).filter((s) => only === undefined || only.includes(s.name));
  const seeds = Number(value('--seeds') ?? 3);
  const orders = Number(value('--orders') ?? 2);
  const parallel = Number(value('--parallel') ?? 2);
  const jobs = sets.flatMap((s) => [
    `kmeans:${s.name}`,
    ...Array.from({ length: seeds }, (_, i) =>
      Array.from({ length: orders }, (_, o) => `run:${s.name}:${i + 1}:${o}`),
    ).flat(),
  ]);
  const out = value('--out') ?? resultFile(flag('--small') ? 'suite-small' : 'suite');
  // Every finished job is appended here, so --resume picks up a run that was stopped.
  const journal = `${out}.jobs.jsonl`;
  const done = new Map<string, KmeansResult | RunResult>();
  if (flag('--resume') && existsSync(journal)) {
    for (const line of readFileSync(journal, 'utf8')
      .split('\n')
      .filter((l) => l !== '')) {
      const { job, result } = JSON.parse(line) as { job: string; result: KmeansResult | RunResult };
      done.set(job, result);
    }
  } else {
    mkdirSync(path.dirname(journal), { recursive: true });
    writeFileSync(journal, '');
  }
  const kmeans: KmeansResult[] = [];
  const runs: RunResult[] = [];
  const keep = (job: string, r: KmeansResult | RunResult): void => {
    if (job.startsWith('kmeans:')) kmeans.push(r as KmeansResult);
    else runs.push(r as RunResult);
  };
  for (const [job, r] of done) if (jobs.includes(job)) keep(job, r);
  const clock = stopwatch();
  await inParallel(
    jobs.filter((j) => !done.has(j)),
    parallel,
    jobInChild,
    (job, r) => {
      keep(job, r);
      appendFileSync(journal, `${JSON.stringify({ job, result: r })}\n`);
      const line =
        'servedAcc' in r
          ? `ACC ${r.servedAcc.toFixed(3)} (${r.modelKind}) ${r.trainSeconds.toFixed(0)} s`
          : `k-means ${r.raw.toFixed(3)} / ${r.standardised.toFixed(3)}`;
      console.log(`[${clock.seconds().toFixed(0)} s] ${job}: ${line}`);
    },
  );
  const summary = summarise(sets, kmeans, runs);
  const result = { ...runFacts(), seeds, orders, options: parseOptions(), summary, kmeans, runs };
  // One-space indent: the file holds every run and is committed.
  writeResult(out, result, 1);
  printDocTable('suite', { suite: result });
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
  if (flag('--check')) {
    const failures = summary.flatMap((r) => [
      ...(r.gainOverKmeans < -CHECK_TOLERANCE
        ? [
            `${r.set}: served ${r.defaultMedian.toFixed(3)} against k-means ${r.kmeansBest.toFixed(3)}`,
          ]
        : []),
      ...(r.orderInvariant ? [] : [`${r.set}: record order changed the model`]),
    ]);
    for (const failure of failures) console.error(`check failed: ${failure}`);
    if (failures.length > 0) process.exitCode = 1;
  }
}

await main();
