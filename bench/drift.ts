/**
 * Online refinement under drift, offline: a simulated stream drives the same Refiner (worker thread)
 * and ModelVersion the worker uses, without Kafka.
 *
 * 1. A drifting synthetic mixture (components rotate and change weight; ground truth known) and the
 *    same mixture held still: prequential ACC (each batch labelled by the current model before it is
 *    used for training), Hungarian-matched over the evaluated segment, for refinement, the frozen
 *    bootstrap model and an online k-means with a constant step (River's rule).
 * 2. MNIST-10k streamed after a 3,000-record bootstrap: refinement against the frozen model.
 * 3. p99 labelling latency on the main thread while the refinement thread trains, as a ratio to
 *    refinement off, in the same run (alternating blocks).
 *
 * 4. `--only=spread`: refinement as it is against refinement before the online k-means candidates
 *    and the criterion, over stream seeds and record orders (drift-spread.json).
 *
 * Usage: npm run bench:drift [-- --quick] [--only=synthetic,mnist,retrain,spread]; writes
 * bench/results/drift.json (or drift-retrain.json, drift-spread.json for --only=retrain, spread;
 * drift-mnist-retrain.json for --only=mnist with BENCH_MNIST_RETRAIN=1, which adds the background
 * retrain on MNIST and an offline model on all 10,000 records) and prints a table.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { kmeans } from 'ml-kmeans';
import { clusterIdsOf } from '../src/model/cluster-ids.js';
import { resolveDecOptions } from '../src/model/defaults.js';
import { decodeSnapshot, encodeSnapshot } from '../src/model/snapshot-codec.js';
import { clusteringAccuracy } from '../src/model/evaluation.js';
import { fitStandardisation, standardise } from '../src/model/standardise.js';
import type { DecOptions, Matrix, ModelSnapshot } from '../src/model/types.js';
import { trainDec } from '../src/model/train-dec.js';
import { ModelVersion } from '../src/model/model-version.js';
import {
  DEFAULT_RETRAIN_START,
  type RefinementSettings,
  type RetrainStart,
} from '../src/online/refinement-engine.js';
import { mulberry32 } from '../src/online/refinement-policy.js';
import { silentObserver } from '../src/worker/observer.js';
import type { RefinementReport, RetrainReport, WorkerObserver } from '../src/worker/observer.js';
import type { RefinerOptions } from '../src/worker/refiner/refiner.js';
import { Refiner } from '../src/worker/refiner/refiner.js';
import { digitAugmentation } from '../src/model/augment.js';
import { benchArgs, envNumber } from './common/args.js';
import { benchBackend } from './common/backend.js';
import { printDocTable } from './common/print.js';
import { resultFile, runFacts, writeResult } from './common/results.js';
import { quantile, round } from './common/stats.js';
import { elapsedLog, stopwatch } from './common/timing.js';
import { mnist10k } from './data/synthetic-mixture.js';
import {
  DEFAULT_MAX_REASSIGNED_SHARE,
  DEFAULT_RELABEL_CHARGE,
} from '../src/online/partition-criterion.js';

const args = benchArgs();
const quick = args.flag('--quick');
/**
 * The retrain part's stream seed (BENCH_RETRAIN_SEED, default 1): another draw of every stream and
 * of its bootstrap records, and the bootstrap's training seed, as the spread part numbers them.
 */
const retrainSeed = envNumber('BENCH_RETRAIN_SEED', 1);
/** BENCH_RETRAIN_ORDER above 0: the stream shuffled within 1,000-record blocks with that seed. */
const retrainOrder = envNumber('BENCH_RETRAIN_ORDER', 0);
/**
 * --only=synthetic, mnist or retrain, comma-separated (MNIST includes the latency run). The
 * default, synthetic and MNIST, is what bench/results/drift.json and its generated table hold; the
 * retrain part keeps its own result file (drift-retrain.json) and section.
 */
const parts = (args.value('--only') ?? 'synthetic,mnist').split(',');
const only = args.value('--only');
const clock = stopwatch();
const log = elapsedLog();

// ---------------------------------------------------------------------------------------------
// Data

interface Labelled {
  readonly x: Matrix;
  readonly labels: Int32Array;
}

interface MixtureSpec {
  readonly clusters: number;
  readonly dims: number;
  /** Radius of the circle the latent centres sit on. */
  readonly radius: number;
  readonly spread: number;
  /** Scale of the first tanh layer's weights: how strongly the map bends the latent plane. */
  readonly bend: number;
  /** Rotation (degrees) of the moving components over the whole stream; 0 holds them still. */
  readonly rotationDegrees: number;
  /** Component weights at the end of the stream; undefined: as at the start. */
  readonly finalWeights: readonly number[] | undefined;
  /** Component weights at the start of the stream; undefined: uniform. */
  readonly initialWeights?: readonly number[];
  /** Seed of the fixed tanh map (default 7): another seed is another shape of stream. */
  readonly shapeSeed?: number;
  /**
   * One cluster disappearing while another appears: this component's weight fades from 1/k to 0
   * while a new component (true label k) at `appearingAngleDegrees` on the circle grows from 0 to 1/k.
   */
  readonly fadingComponent?: number;
  readonly appearingAngleDegrees?: number;
}

/** Component weights at time t (k + 1 entries: the last is the appearing component's). */
function weightsAt(spec: MixtureSpec, t: number): number[] {
  const k = spec.clusters;
  const w = Array.from({ length: k }, (_, j) => {
    const initial = spec.initialWeights?.[j] ?? 1 / k;
    return (1 - t) * initial + t * (spec.finalWeights?.[j] ?? initial);
  });
  if (spec.fadingComponent === undefined) return [...w, 0];
  const fading = spec.fadingComponent;
  w[fading] = (w[fading] ?? 0) * (1 - t);
  return [...w, t / k];
}

/** Angle on the latent circle of component c at time t (c = k: the appearing one). */
function angleAt(spec: MixtureSpec, c: number, t: number): number {
  const k = spec.clusters;
  if (c === k) return ((spec.appearingAngleDegrees ?? 0) * Math.PI) / 180;
  return (2 * Math.PI * c) / k + (c % 2 === 0 ? (spec.rotationDegrees * Math.PI * t) / 180 : 0);
}

/**
 * A 2-D latent Gaussian mixture on a circle, pushed through a fixed random tanh network into `dims`
 * dimensions. Over the stream, the even-numbered components rotate by `rotationDegrees` towards
 * their odd neighbours and the weights move from `initialWeights` (uniform by default) to
 * `finalWeights`: a frozen model ends up merging moving components into their neighbours'
 * clusters. `t` runs from 0 to 1 over the rows.
 */
function mixtureStream(
  spec: MixtureSpec,
  rows: number,
  seed: number,
  timeFrom: number,
  timeTo: number,
): Labelled {
  const shape = mulberry32(spec.shapeSeed ?? 7);
  const gaussian = (random: () => number): number =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const hidden = 16;
  const w1 = Array.from({ length: hidden * 2 }, () => gaussian(shape) * spec.bend);
  const b1 = Array.from({ length: hidden }, () => gaussian(shape) * 0.3);
  const w2 = Array.from({ length: spec.dims * hidden }, () => gaussian(shape) / Math.sqrt(hidden));
  const random = mulberry32(seed);
  const data = new Float32Array(rows * spec.dims);
  const labels = new Int32Array(rows);
  const k = spec.clusters;
  const h = new Float64Array(hidden);
  for (let i = 0; i < rows; i++) {
    const t = timeFrom + ((timeTo - timeFrom) * i) / rows;
    // Weights: initialWeights → finalWeights, linearly in t (and the fading / appearing pair).
    const weights = weightsAt(spec, t);
    const total = weights.reduce((sum, w) => sum + w, 0);
    let u = random() * total;
    let c = k - 1;
    for (let j = 0; j < weights.length; j++) {
      const w = weights[j] ?? 0;
      if (u < w) {
        c = j;
        break;
      }
      u -= w;
    }
    labels[i] = c;
    const angle = angleAt(spec, c, t);
    const lx = (spec.radius * Math.cos(angle) + spec.spread * gaussian(random)) / spec.radius;
    const ly = (spec.radius * Math.sin(angle) + spec.spread * gaussian(random)) / spec.radius;
    for (let a = 0; a < hidden; a++)
      h[a] = Math.tanh((w1[2 * a] ?? 0) * lx + (w1[2 * a + 1] ?? 0) * ly + (b1[a] ?? 0));
    for (let d = 0; d < spec.dims; d++) {
      let v = 0;
      for (let a = 0; a < hidden; a++) v += (w2[d * hidden + a] ?? 0) * (h[a] ?? 0);
      data[i * spec.dims + d] = v + 0.03 * gaussian(random);
    }
  }
  return { x: { data, rows, cols: spec.dims }, labels };
}

function shuffled(data: Labelled, seed: number): Labelled {
  const random = mulberry32(seed);
  const order = Array.from({ length: data.x.rows }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return take(data, order);
}

function take(data: Labelled, rows: readonly number[]): Labelled {
  const d = data.x.cols;
  const out = new Float32Array(rows.length * d);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    out.set(data.x.data.subarray(r * d, (r + 1) * d), i * d);
    labels[i] = data.labels[r] ?? 0;
  });
  return { x: { data: out, rows: rows.length, cols: d }, labels };
}

function rowsOf(x: Matrix, start: number, count: number): Matrix {
  return {
    data: x.data.slice(start * x.cols, (start + count) * x.cols),
    rows: count,
    cols: x.cols,
  };
}

// ---------------------------------------------------------------------------------------------
// Models

/** Bootstrap models read from BENCH_DRIFT_CACHE in this run (recorded in the results). */
const bootstrapsFromCache: string[] = [];

async function bootstrapSnapshot(
  name: string,
  x: Matrix,
  partial: Partial<DecOptions> & { clusters: number },
): Promise<ModelSnapshot> {
  // BENCH_DRIFT_CACHE=dir reuses bootstrap models between runs. Training is deterministic (same
  // code, data and seed give the same model), so the file is named by the data and options: a
  // stream whose spec changed trains afresh. The results name the models that came from the cache.
  const cacheDir = process.env.BENCH_DRIFT_CACHE;
  const cached =
    cacheDir === undefined
      ? undefined
      : join(cacheDir, `${name}-${bootstrapKey(x, partial)}.decsnap`);
  if (cached !== undefined && existsSync(cached)) {
    log(`${name}: bootstrap model read from ${cached}`);
    bootstrapsFromCache.push(name);
    return decodeSnapshot(readFileSync(cached));
  }
  const standardisation = fitStandardisation(x, { mode: x.cols > 100 ? 'global' : 'per-feature' });
  const xs = standardise(x, standardisation);
  const options = resolveDecOptions(partial, x.cols);
  const training = stopwatch();
  const { parameters, metrics } = await trainDec(xs, options);
  log(`${name}: bootstrap trained on ${x.rows} records in ${training.seconds().toFixed(1)} s`);
  const snapshot: ModelSnapshot = {
    formatVersion: 1,
    version: 1,
    createdAt: new Date().toISOString(),
    featureSpec: { fields: ['features'], widths: [x.cols] },
    standardisation,
    options,
    parameters,
    metrics,
  };
  if (cached !== undefined) {
    mkdirSync(dirname(cached), { recursive: true });
    writeFileSync(cached, encodeSnapshot(snapshot));
  }
  return snapshot;
}

/** A short digest of a bootstrap's records and options: the cache file of its model. */
function bootstrapKey(x: Matrix, partial: Partial<DecOptions>): string {
  return createHash('sha256')
    .update(new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength))
    .update(JSON.stringify(partial))
    .digest('hex')
    .slice(0, 12);
}

/** Predictions of the frozen, refined and online k-means runs over one stream. */
interface StreamRun {
  readonly predictions: Int32Array;
  readonly versions?: number;
  readonly accepted?: number;
  readonly rejected?: number;
  readonly rejectReasons?: string;
  readonly reseeded?: number;
  readonly refineSecondsTotal?: number;
  readonly retrains?: Record<string, unknown>;
  /** Per promotion, the share of the stream records after it that keep their published id. */
  readonly idsKeptAfterPromotion?: readonly { atRecord: number; records: number; kept: number }[];
}

/** Stream records after a promotion on which the ids it kept are counted. */
const IDS_KEPT_AFTER_RECORDS = 1500;

/**
 * The share of `records` (standardised) that the promoted version publishes under the id the
 * version it replaced gives them: the ids a consumer sees kept, on records the promotion's
 * decision never saw.
 */
function idsKeptBetween(before: ModelSnapshot, after: ModelSnapshot, records: Matrix): number {
  const label = (snapshot: ModelSnapshot): number[] => {
    const model = ModelVersion.ofParameters(snapshot.parameters);
    const ids = clusterIdsOf(snapshot);
    const published = Array.from(model.assign(records).cluster, (c) => ids[c]!);
    model.dispose();
    return published;
  };
  const old = label(before);
  const now = label(after);
  let same = 0;
  for (let i = 0; i < old.length; i++) if (old[i] === now[i]) same++;
  return old.length > 0 ? same / old.length : 1;
}

/**
 * Labels each batch with the serving version, then lets the refiner learn from it (lockstep). As
 * in the worker, the refiner first sees the bootstrap window: the worker labels and publishes the
 * window once its first model serves, so those records open the refinement window and the
 * retrain's sample. Only the stream's own records are scored.
 */
async function runRefined(
  snapshot: ModelSnapshot,
  bootstrap: Matrix,
  stream: Matrix,
  batch: number,
  options: RefinerOptions,
): Promise<StreamRun> {
  const reports: RefinementReport[] = [];
  const retrains: PlacedRetrainReport[] = [];
  let reseeded = 0;
  // Stream records scored so far: where in the stream each retrain event happened.
  let scoredRecords = 0;
  const observer: WorkerObserver = {
    ...silentObserver,
    refinement: (r) => reports.push(r),
    retrain: (r) => retrains.push({ ...r, atRecord: scoredRecords }),
    clusterReseeded: () => {
      reseeded++;
    },
  };
  const refiner = new Refiner(options, observer);
  await refiner.start(snapshot);
  let serving = snapshot;
  let assigner = ModelVersion.ofParameters(serving.parameters);
  const predictions = new Int32Array(stream.rows);
  const promotions: { atRecord: number; before: ModelSnapshot; after: ModelSnapshot }[] = [];
  // The bootstrap window is fed unscored and marked as records the model trained on, as the worker
  // marks it: it fills the window and the sample, and the retrain's cadence starts after it.
  const feed = async (records: Matrix, scored?: Int32Array): Promise<void> => {
    for (let start = 0; start < records.rows; start += batch) {
      const next = refiner.poll();
      if (next?.metrics.promotion?.replacedVersion === serving.version && scored !== undefined) {
        promotions.push({ atRecord: start, before: serving, after: next });
      }
      if (next !== undefined) {
        assigner.dispose();
        serving = next;
        assigner = ModelVersion.ofParameters(serving.parameters);
      }
      const rows = Math.min(batch, records.rows - start);
      const x = standardise(rowsOf(records, start, rows), snapshot.standardisation);
      const assignment = assigner.assign(x);
      // Scored as published: a cluster that became a new group carries a fresh id.
      const ids = clusterIdsOf(serving);
      scored?.set(
        assignment.cluster.map((c) => ids[c]!),
        start,
      );
      refiner.observe(x, assignment, serving.version, { trainedOn: scored === undefined });
      if (scored !== undefined) scoredRecords = start + rows;
      // Lockstep: the stream waits for a refinement in flight, so the result does not depend on timing.
      await refiner.whenIdle();
    }
  };
  try {
    await feed(bootstrap);
    await feed(stream, predictions);
  } finally {
    assigner.dispose();
    await refiner.close();
  }
  const idsKeptAfterPromotion = promotions.map(({ atRecord, before, after }) => {
    const rows = Math.min(IDS_KEPT_AFTER_RECORDS, stream.rows - atRecord);
    const records = standardise(rowsOf(stream, atRecord, rows), snapshot.standardisation);
    return { atRecord, records: rows, kept: round(idsKeptBetween(before, after, records), 4) };
  });
  return {
    predictions,
    ...(options.retrain === undefined ? {} : { idsKeptAfterPromotion }),
    versions: refiner.current().version,
    accepted: reports.filter((r) => r.accepted).length,
    rejected: reports.filter((r) => !r.accepted).length,
    rejectReasons: [
      ...new Set(reports.flatMap((r) => (r.rejectReason === undefined ? [] : [r.rejectReason]))),
    ].join(','),
    reseeded,
    refineSecondsTotal: reports.reduce((sum, r) => sum + r.durationSeconds, 0),
    ...(options.retrain === undefined ? {} : { retrains: retrainSummary(retrains) }),
  };
}

/** A retrain event and the number of stream records scored when it reached the stream. */
type PlacedRetrainReport = RetrainReport & { readonly atRecord: number };

/** What the background retrain did over one stream. */
function retrainSummary(reports: readonly PlacedRetrainReport[]): Record<string, unknown> {
  const judged = reports.filter((r) => r.outcome === 'promoted' || r.outcome === 'discarded');
  const kept = judged.flatMap((r) =>
    r.labelChangeRatio === undefined ? [] : [1 - r.labelChangeRatio],
  );
  const trained = reports.filter((r) => r.outcome === 'trained' || r.outcome === 'failed');
  return {
    trained: reports.filter((r) => r.outcome === 'trained').length,
    failed: reports.filter((r) => r.outcome === 'failed').length,
    promoted: reports.filter((r) => r.outcome === 'promoted').length,
    discarded: reports.filter((r) => r.outcome === 'discarded').length,
    retrainSecondsTotal: round(
      trained.reduce((sum, r) => sum + r.durationSeconds, 0),
      1,
    ),
    // Fraction of the judging records that would keep their id were the shadow promoted.
    idsKeptPerJudgedShadow: kept.map((v) => round(v, 4)),
    idsKeptPerPromotion: judged
      .filter((r) => r.outcome === 'promoted' && r.labelChangeRatio !== undefined)
      .map((r) => round(1 - (r.labelChangeRatio ?? 0), 4)),
    criteria: judged.map((r) => ({
      outcome: r.outcome,
      serving: round(r.servingScore ?? NaN, 4),
      shadow: round(r.shadowScore ?? NaN, 4),
      relabelled: round(r.labelChangeRatio ?? NaN, 4),
      reassigned: round(r.reassignedShare ?? NaN, 4),
      atRecord: r.atRecord,
    })),
  };
}

/**
 * ACC just before and just after each promotion (1,500 records each side, or to the stream's end),
 * with the frozen model's ACC on the same records: how much a promotion changed, beside how much
 * the records themselves moved ACC.
 */
function promotionEffects(
  truth: Int32Array,
  run: StreamRun,
  frozen: StreamRun,
): Record<string, number>[] {
  const width = 1500;
  const criteria = (run.retrains?.criteria ?? []) as { outcome: string; atRecord: number }[];
  return criteria
    .filter((c) => c.outcome === 'promoted' && c.atRecord > 0 && c.atRecord < truth.length)
    .map(({ atRecord }) => {
      const before = Math.max(0, atRecord - width);
      const after = Math.min(truth.length, atRecord + width);
      return {
        atRecord,
        accBefore: round(acc(truth, run.predictions, before, atRecord)),
        accAfter: round(acc(truth, run.predictions, atRecord, after)),
        frozenBefore: round(acc(truth, frozen.predictions, before, atRecord)),
        frozenAfter: round(acc(truth, frozen.predictions, atRecord, after)),
      };
    });
}

function runFrozen(snapshot: ModelSnapshot, stream: Matrix, batch: number): StreamRun {
  const assigner = ModelVersion.ofParameters(snapshot.parameters);
  const predictions = new Int32Array(stream.rows);
  for (let start = 0; start < stream.rows; start += batch) {
    const rows = Math.min(batch, stream.rows - start);
    predictions.set(
      assigner.assign(standardise(rowsOf(stream, start, rows), snapshot.standardisation)).cluster,
      start,
    );
  }
  assigner.dispose();
  return { predictions };
}

/** k-means on the standardised bootstrap (best of 5 seeds by inertia): the online baseline's start. */
function kmeansCentroids(x: Matrix, k: number): Float64Array {
  const rows: number[][] = [];
  for (let i = 0; i < x.rows; i++)
    rows.push(Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
  let best: { inertia: number; centroids: number[][] } | undefined;
  for (let seed = 1; seed <= 5; seed++) {
    const result = kmeans(rows, k, { seed, initialization: 'kmeans++', maxIterations: 100 });
    let inertia = 0;
    rows.forEach((row, i) => {
      const c = result.centroids[result.clusters[i] ?? 0] ?? [];
      for (let t = 0; t < row.length; t++) inertia += ((row[t] ?? 0) - (c[t] ?? 0)) ** 2;
    });
    if (best === undefined || inertia < best.inertia)
      best = { inertia, centroids: result.centroids };
  }
  return Float64Array.from((best?.centroids ?? []).flat());
}

/**
 * Online k-means with a constant step (River's KMeans rule): each record is labelled by its nearest
 * centroid, then that centroid moves c ← c + step·(x − c). Labels come before the update.
 */
function runOnlineKmeans(bootstrap: Matrix, stream: Matrix, k: number, step: number): StreamRun {
  const s = fitStandardisation(bootstrap, {
    mode: bootstrap.cols > 100 ? 'global' : 'per-feature',
  });
  const centroids = kmeansCentroids(standardise(bootstrap, s), k);
  const xs = standardise(stream, s);
  const d = xs.cols;
  const predictions = new Int32Array(xs.rows);
  for (let i = 0; i < xs.rows; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      let dist = 0;
      for (let t = 0; t < d; t++)
        dist += ((xs.data[i * d + t] ?? 0) - (centroids[j * d + t] ?? 0)) ** 2;
      if (dist < bestD) {
        bestD = dist;
        best = j;
      }
    }
    predictions[i] = best;
    for (let t = 0; t < d; t++) {
      const c = centroids[best * d + t] ?? 0;
      centroids[best * d + t] = c + step * ((xs.data[i * d + t] ?? 0) - c);
    }
  }
  return { predictions };
}

function acc(truth: Int32Array, pred: Int32Array, from: number, to: number): number {
  return clusteringAccuracy(truth.subarray(from, to), pred.subarray(from, to));
}

/** ACC per consecutive segment (each Hungarian-matched on its own): the shape of the curve. */
function segments(truth: Int32Array, pred: Int32Array, count: number): number[] {
  const size = Math.floor(truth.length / count);
  return Array.from({ length: count }, (_, s) => round(acc(truth, pred, s * size, (s + 1) * size)));
}

function summary(truth: Int32Array, run: StreamRun): Record<string, unknown> {
  const n = truth.length;
  const half = Math.floor(n / 2);
  const { predictions, ...rest } = run;
  const tenths = segments(truth, predictions, 10);
  return {
    accSecondHalf: round(acc(truth, predictions, half, n)),
    accFirstHalf: round(acc(truth, predictions, 0, half)),
    accWholeStream: round(acc(truth, predictions, 0, n)),
    accPerTenth: tenths,
    // Each tenth matched on its own: a model may hand a vanished cluster's id to a new one
    // without being charged for it, which one matching over the whole stream cannot allow.
    accPerTenthMean: round(tenths.reduce((sum, a) => sum + a, 0) / tenths.length),
    ...Object.fromEntries(
      Object.entries(rest).map(([key, v]) => [key, typeof v === 'number' ? round(v, 3) : v]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Latency

/**
 * Alternating blocks on one warm refiner: "off" blocks label batches and observe nothing (the thread
 * idles), "on" blocks also observe every batch with a refinement due every other batch, so the
 * thread trains throughout. Each batch's time covers the event-loop turn before it (a version arriving
 * from the thread is deserialised there), poll + swap, assign and observe.
 */
async function latency(
  snapshot: ModelSnapshot,
  data: Matrix,
  batch: number,
  blocks: number,
  batchesPerBlock: number,
  options: RefinerOptions,
): Promise<Record<string, unknown>> {
  const reports: RefinementReport[] = [];
  const retrains: RetrainReport[] = [];
  const refiner = new Refiner(
    { ...options, everyRecords: 2 * batch, intervalMs: 3_600_000 },
    {
      ...silentObserver,
      refinement: (r) => reports.push(r),
      retrain: (r) => retrains.push(r),
    },
  );
  await refiner.start(snapshot);
  let assigner = ModelVersion.ofParameters(snapshot.parameters);
  let serving = snapshot;
  const off: number[] = [];
  const on: number[] = [];
  let onWallMs = 0;
  let rssMaxOffMiB = 0;
  let rssBeforeOnMiB = 0;
  let rssMaxOnMiB = 0;
  let row = 0;
  let swaps = 0;
  const nextBatch = (): Matrix => {
    if (row + batch > data.rows) row = 0;
    const x = standardise(rowsOf(data, row, batch), snapshot.standardisation);
    row += batch;
    return x;
  };
  // Warm-up: let both threads compile their kernels.
  for (let i = 0; i < 20; i++) assigner.assign(nextBatch());
  for (let block = 0; block < blocks; block++) {
    const refining = block % 2 === 1;
    if (!refining) await refiner.whenIdle();
    const blockStart = performance.now();
    for (let i = 0; i < batchesPerBlock; i++) {
      const x = nextBatch();
      const t0 = process.hrtime.bigint();
      // The batch "arrives" here: event-loop work queued before it (a refined version arriving from
      // the thread, its deserialisation) delays it and is counted, as it would delay a Kafka batch.
      await new Promise((resolve) => setImmediate(resolve));
      const next = refiner.poll();
      if (next !== undefined) {
        assigner.dispose();
        serving = next;
        assigner = ModelVersion.ofParameters(serving.parameters);
        swaps += 1;
      }
      const assignment = assigner.assign(x);
      if (refining) refiner.observe(x, assignment, serving.version);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      // A version judged at the end of a training block is often swapped in by the first batch of
      // the idle block after it; that batch's delay is the training's doing, so it counts as "on".
      (refining || next !== undefined ? on : off).push(ms);
      // Resident memory of the whole process (both threads), at its highest in each kind of block.
      const rss = process.memoryUsage.rss() / 2 ** 20;
      if (refining) rssMaxOnMiB = Math.max(rssMaxOnMiB, rss);
      else rssMaxOffMiB = Math.max(rssMaxOffMiB, rss);
    }
    if (refining) onWallMs += performance.now() - blockStart;
    // Before the first retrain: the process with both threads warm and nothing trained yet.
    if (block === 0) rssBeforeOnMiB = process.memoryUsage.rss() / 2 ** 20;
  }
  await refiner.whenIdle();
  assigner.dispose();
  await refiner.close();
  const refineSeconds = [...reports, ...retrains].reduce((sum, r) => sum + r.durationSeconds, 0);
  off.sort((a, b) => a - b);
  on.sort((a, b) => a - b);
  const p99Off = quantile(off, 0.99);
  const p99On = quantile(on, 0.99);
  return {
    batchRecords: batch,
    batchesOff: off.length,
    batchesOn: on.length,
    p50OffMs: round(quantile(off, 0.5), 3),
    p50OnMs: round(quantile(on, 0.5), 3),
    p99OffMs: round(p99Off, 3),
    p99OnMs: round(p99On, 3),
    p99Ratio: round(p99On / p99Off, 3),
    versionsSwappedIn: swaps,
    refinementsDuringOn: reports.length,
    refinementsAccepted: reports.filter((r) => r.accepted).length,
    ...(options.retrain === undefined
      ? {}
      : {
          shadowsTrainedDuringOn: retrains.filter((r) => r.outcome === 'trained').length,
          shadowsPromotedDuringOn: retrains.filter((r) => r.outcome === 'promoted').length,
        }),
    threadBusyFractionDuringOn: round(Math.min(1, refineSeconds / (onWallMs / 1000)), 3),
    modelVersionAtEnd: serving.version,
    rssBeforeOnMiB: round(rssBeforeOnMiB, 1),
    rssMaxOffMiB: round(rssMaxOffMiB, 1),
    rssMaxOnMiB: round(rssMaxOnMiB, 1),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const backend = await benchBackend('auto');
  log(
    `main-thread backend: ${backend}; no Kafka: an offline stream drives the worker's Refiner + ModelVersion`,
  );
  const results: Record<string, unknown> = {
    benchmark: 'drift',
    mode: 'offline stream simulation (no Kafka): the same Refiner (worker thread) and ModelVersion the worker uses',
    quick,
    ...runFacts(),
    backend,
  };

  if (parts.includes('synthetic')) await syntheticPart(results);
  if (parts.includes('mnist')) await mnistPart(results);
  if (parts.includes('retrain')) await retrainPart(results);
  if (parts.includes('spread')) await spreadPart(results);
  results.checks = checks(results);
  results.bootstrapsFromCache = bootstrapsFromCache;
  results.wallSeconds = round(clock.seconds(), 1);

  const out = writeResult(
    resultFile(
      only === 'retrain' || only === 'spread'
        ? `drift-${only}${quick || args.values('--stream').length > 0 ? '-partial' : ''}`
        : only === 'mnist' && process.env.BENCH_MNIST_RETRAIN === '1' && !quick
          ? 'drift-mnist-retrain'
          : quick || !parts.includes('synthetic') || !parts.includes('mnist')
            ? 'drift-partial'
            : 'drift',
    ),
    results,
  );
  printDocTable('drift', { drift: results });
  log(`wrote ${out}`);
}

async function syntheticPart(results: Record<string, unknown>): Promise<void> {
  // 1. Synthetic mixture: drifting and stationary.
  const spec: MixtureSpec = {
    clusters: 4,
    dims: 10,
    radius: 6,
    spread: envNumber('BENCH_SYN_SPREAD', 0.8),
    bend: envNumber('BENCH_SYN_BEND', 2.5),
    rotationDegrees: envNumber('BENCH_SYN_ROTATION', 60),
    finalWeights: [0.35, 0.15, 0.35, 0.15],
  };
  const still: MixtureSpec = { ...spec, rotationDegrees: 0, finalWeights: undefined };
  const bootstrapRows = quick ? 1500 : 3000;
  const streamRows = quick ? 6000 : 20000;
  const batch = 100;
  const bootstrap = mixtureStream(spec, bootstrapRows, 11, 0, 0);
  const drifting = mixtureStream(spec, streamRows, 12, 0, 1);
  const stationary = mixtureStream(still, streamRows, 12, 0, 1);
  const synthetic = await bootstrapSnapshot(
    'synthetic',
    bootstrap.x,
    syntheticDecOptions(spec.clusters),
  );
  const syntheticRefiner = syntheticRefinerOptions();
  const kmeansStep = envNumber('BENCH_KMEANS_STEP', 0.02);
  const syntheticResults: Record<string, unknown> = {
    stream: {
      clusters: spec.clusters,
      dims: spec.dims,
      latentRadius: spec.radius,
      latentSpread: spec.spread,
      tanhBend: spec.bend,
      bootstrapRecords: bootstrapRows,
      streamRecords: streamRows,
      batchRecords: batch,
      drift: `even components rotate ${spec.rotationDegrees}° towards their neighbours; weights uniform → ${spec.finalWeights?.join('/')}`,
    },
    refiner: { ...syntheticRefiner },
    onlineKmeansStep: kmeansStep,
    bootstrapMetrics: pickMetrics(synthetic),
  };
  for (const [name, stream] of [
    ['drifting', drifting],
    ['stationary', stationary],
  ] as const) {
    const frozen = runFrozen(synthetic, stream.x, batch);
    const refined = await runRefined(synthetic, bootstrap.x, stream.x, batch, syntheticRefiner);
    const online = runOnlineKmeans(bootstrap.x, stream.x, spec.clusters, kmeansStep);
    const entry = {
      frozen: summary(stream.labels, frozen),
      refined: summary(stream.labels, refined),
      onlineKmeans: summary(stream.labels, online),
    };
    syntheticResults[name] = entry;
    log(
      `synthetic ${name}: second-half ACC refined ${String(entry.refined.accSecondHalf)}, frozen ${String(entry.frozen.accSecondHalf)}, ` +
        `online k-means ${String(entry.onlineKmeans.accSecondHalf)}`,
    );
  }
  results.synthetic = syntheticResults;
}

async function mnistPart(results: Record<string, unknown>): Promise<void> {
  const batch = 100;

  // 2. MNIST-10k streamed after a 3,000-record bootstrap.
  const digits = shuffled(mnist10k(), 5);
  const mnistBootstrapRows = 3000;
  const mnistStreamRows = quick ? 3000 : digits.x.rows - mnistBootstrapRows;
  const mnistBoot = take(
    digits,
    Array.from({ length: mnistBootstrapRows }, (_, i) => i),
  );
  const mnistStream = take(
    digits,
    Array.from({ length: mnistStreamRows }, (_, i) => mnistBootstrapRows + i),
  );
  // The product's defaults for 784-pixel records: the paper architecture, IDEC, one shared scale,
  // and DEC_AUGMENT_IMAGE=28x28.
  const mnist = await bootstrapSnapshot('mnist', mnistBoot.x, {
    clusters: 10,
    embeddingSize: 10,
    seed: 1,
    imageAugmentation: digitAugmentation(),
    pretrainEpochs: quick ? 15 : 60,
    kmeansRestarts: 10,
    maxIterations: quick ? 600 : 2000,
    batchSize: 256,
  });
  const mnistRefiner: RefinerOptions = {
    everyRecords: 500,
    intervalMs: 3_600_000,
    windowRecords: 2000,
    halfLifeRecords: 3000,
    backend: 'auto',
    settings: refineSettings('MNIST', {
      learningRate: 1,
      steps: 5,
      batchSize: 256,
      updateEncoder: false,
      minClusterShare: 0.01,
    }),
  };
  const mnistFrozen = runFrozen(mnist, mnistStream.x, batch);
  const mnistRefined = await runRefined(mnist, mnistBoot.x, mnistStream.x, batch, mnistRefiner);
  const mnistResults = {
    bootstrapRecords: mnistBootstrapRows,
    streamRecords: mnistStreamRows,
    refiner: mnistRefiner,
    bootstrapMetrics: pickMetrics(mnist),
    frozen: summary(mnistStream.labels, mnistFrozen),
    refined: summary(mnistStream.labels, mnistRefined),
    onlineKmeans: summary(
      mnistStream.labels,
      runOnlineKmeans(mnistBoot.x, mnistStream.x, 10, envNumber('BENCH_KMEANS_STEP', 0.02)),
    ),
  };
  results.mnist = mnistResults;
  log(
    `mnist: whole-stream ACC refined ${String(mnistResults.refined.accWholeStream)}, frozen ${String(mnistResults.frozen.accWholeStream)}`,
  );
  if (process.env.BENCH_MNIST_RETRAIN === '1') {
    (results.mnist as Record<string, unknown>).retrain = await mnistRetrain(
      mnist,
      mnistBoot.x,
      digits,
      mnistStream,
      mnistRefiner,
    );
  }

  if (process.env.BENCH_SKIP_LATENCY === '1') return;
  // 3. p99 labelling latency, refinement on / off, same run, MNIST model.
  const lat = await latency(
    mnist,
    mnistStream.x,
    batch,
    quick ? 4 : 8,
    quick ? 100 : 250,
    mnistRefiner,
  );
  results.latency = lat;
  log(
    `latency: p99 off ${String(lat.p99OffMs)} ms, on ${String(lat.p99OnMs)} ms, ratio ${String(lat.p99Ratio)}`,
  );
}

function checks(
  results: Record<string, unknown>,
): Record<string, { value: number; pass: boolean }> {
  const out: Record<string, { value: number; pass: boolean }> = {};
  const synthetic = results.synthetic as
    Record<string, Record<string, Record<string, number>>> | undefined;
  if (synthetic !== undefined) {
    const drift = synthetic.drifting;
    const still = synthetic.stationary;
    const gap = (drift?.refined?.accSecondHalf ?? 0) - (drift?.frozen?.accSecondHalf ?? 0);
    const stillGap = (still?.refined?.accSecondHalf ?? 0) - (still?.frozen?.accSecondHalf ?? 0);
    out.driftingRefinedBeatsFrozenBy10Points = { value: round(gap), pass: gap >= 0.1 };
    out.stationaryRefinedWithin1Point = { value: round(stillGap), pass: stillGap >= -0.01 };
  }
  const mnist = results.mnist as Record<string, Record<string, number>> | undefined;
  if (mnist !== undefined) {
    const refined = mnist.refined?.accWholeStream ?? 0;
    const frozen = mnist.frozen?.accWholeStream ?? 0;
    out.mnistRefinedAtLeastFrozen = { value: round(refined - frozen), pass: refined >= frozen };
  }
  const lat = results.latency as Record<string, number> | undefined;
  if (lat !== undefined) {
    out.p99LatencyRatioAtMost1_5 = {
      value: lat.p99Ratio ?? NaN,
      pass: (lat.p99Ratio ?? Infinity) <= 1.5,
    };
  }
  return out;
}

/** Refinement settings with optional overrides from BENCH_<PREFIX>_LR / _ELR / _STEPS / _ENCODER / _MINSHARE. */
function refineSettings(
  prefix: string,
  base: Partial<RefinementSettings>,
): Partial<RefinementSettings> {
  const env = process.env;
  return {
    ...base,
    ...(env[`BENCH_${prefix}_LR`] === undefined
      ? {}
      : { learningRate: Number(env[`BENCH_${prefix}_LR`]) }),
    ...(env[`BENCH_${prefix}_ELR`] === undefined
      ? {}
      : { encoderLearningRate: Number(env[`BENCH_${prefix}_ELR`]) }),
    ...(env[`BENCH_${prefix}_STEPS`] === undefined
      ? {}
      : { steps: Number(env[`BENCH_${prefix}_STEPS`]) }),
    ...(env[`BENCH_${prefix}_ENCODER`] === undefined
      ? {}
      : { updateEncoder: env[`BENCH_${prefix}_ENCODER`] === '1' }),
    ...(env[`BENCH_${prefix}_MINSHARE`] === undefined
      ? {}
      : { minClusterShare: Number(env[`BENCH_${prefix}_MINSHARE`]) }),
    ...(env[`BENCH_${prefix}_FADING_VALLEY`] === undefined
      ? {}
      : { fadingSplitMaxValley: Number(env[`BENCH_${prefix}_FADING_VALLEY`]) }),
    ...(env[`BENCH_${prefix}_KMEANS_STEPS`] === undefined
      ? {}
      : {
          kmeansSteps: (env[`BENCH_${prefix}_KMEANS_STEPS`] ?? '')
            .split(',')
            .filter((v) => v.trim() !== '')
            .map(Number),
        }),
  };
}

function pickMetrics(snapshot: ModelSnapshot): Record<string, unknown> {
  const m = snapshot.metrics;
  return {
    hiddenSizes: snapshot.options.hiddenSizes,
    embeddingSize: snapshot.options.embeddingSize,
    pretrainEpochs: m.pretrainEpochs,
    clusterIterations: m.clusterIterations,
    reconstructionError: round(m.reconstructionError),
    wallSeconds: round((m.wallMs.pretrain + m.wallMs.kmeans + m.wallMs.cluster) / 1000, 1),
  };
}

await main();

// ---------------------------------------------------------------------------------------------
// Background retrain: three kinds of drift, a stream held out of tuning, stationary streams

/** Online k-means with each constant step of the grid; the best (prequential ACC) is the baseline. */
function bestOnlineKmeans(
  bootstrap: Matrix,
  stream: Labelled,
  k: number,
): { run: StreamRun; step: number; perStep: Record<string, number> } {
  const steps = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
  let best: { run: StreamRun; step: number; acc: number } | undefined;
  const perStep: Record<string, number> = {};
  for (const step of steps) {
    const run = runOnlineKmeans(bootstrap, stream.x, k, step);
    const whole = acc(stream.labels, run.predictions, 0, stream.labels.length);
    perStep[String(step)] = round(whole);
    if (best === undefined || whole > best.acc) best = { run, step, acc: whole };
  }
  if (best === undefined) throw new Error('no step');
  return { run: best.run, step: best.step, perStep };
}

interface BootstrapModel {
  readonly snapshot: ModelSnapshot;
  readonly bootstrap: Labelled;
}

/**
 * Every contender on one stream from one bootstrap model: the frozen model, the model refined with
 * each of two refiner settings, and online k-means with its best constant step.
 */
async function runContenders(
  model: BootstrapModel,
  data: Labelled,
  clusters: number,
  batch: number,
  refiners: readonly RefinerOptions[],
): Promise<{
  frozen: StreamRun;
  refined: readonly StreamRun[];
  kmeansBest: ReturnType<typeof bestOnlineKmeans>;
}> {
  const frozen = runFrozen(model.snapshot, data.x, batch);
  const refined: StreamRun[] = [];
  for (const options of refiners)
    refined.push(await runRefined(model.snapshot, model.bootstrap.x, data.x, batch, options));
  const kmeansBest = bestOnlineKmeans(model.bootstrap.x, data, clusters);
  return { frozen, refined, kmeansBest };
}

interface RetrainStream {
  readonly name: string;
  /** Whether the retrain settings were tuned on this stream (reported apart). */
  readonly tuned: boolean;
  readonly drifting: boolean;
  readonly family: 'four' | 'unseen';
  readonly spec: MixtureSpec;
  /**
   * The stream starts from other weights than its family's stationary stream, so its bootstrap
   * model is trained on its own first records instead of the family's.
   */
  readonly ownBootstrap?: boolean;
}

function retrainStreams(): RetrainStream[] {
  const base: MixtureSpec = {
    clusters: 4,
    dims: 10,
    radius: 6,
    spread: 0.8,
    bend: 2.5,
    rotationDegrees: 0,
    finalWeights: undefined,
  };
  // Six clusters in 12 dimensions through another tanh map: never used while tuning.
  const unseen: MixtureSpec = {
    clusters: 6,
    dims: 12,
    radius: 6,
    spread: 0.6,
    bend: 2,
    rotationDegrees: 30,
    finalWeights: [0.3, 0.1, 0.25, 0.05, 0.2, 0.1],
    shapeSeed: 19,
  };
  return [
    {
      name: 'moving',
      tuned: true,
      drifting: true,
      family: 'four',
      spec: { ...base, rotationDegrees: 60 },
    },
    {
      name: 'weights',
      tuned: true,
      drifting: true,
      family: 'four',
      spec: { ...base, finalWeights: [0.55, 0.05, 0.35, 0.05] },
    },
    {
      name: 'swap',
      tuned: true,
      drifting: true,
      family: 'four',
      spec: { ...base, fadingComponent: 3, appearingAngleDegrees: 45 },
    },
    { name: 'stationary', tuned: true, drifting: false, family: 'four', spec: base },
    {
      // Stationary, with clusters that touch: the criterion is above 0 and moves with the
      // sample, so refinements and shadows can move boundaries where nothing changed.
      name: 'touching',
      tuned: true,
      drifting: false,
      family: 'four',
      ownBootstrap: true,
      spec: { ...base, spread: 2 },
    },
    {
      // The same family, overlapping further: a tuning stream for how ids hold across promotions.
      name: 'touching-wide',
      tuned: true,
      drifting: false,
      family: 'four',
      ownBootstrap: true,
      spec: { ...base, spread: 2.6 },
    },
    { name: 'unseen', tuned: false, drifting: true, family: 'unseen', spec: unseen },
    {
      // One of the unseen family's six clusters fades while a new one grows between two others;
      // added with the rule that re-seeds a fading cluster early, and never used to tune it.
      name: 'unseen-swap',
      tuned: false,
      drifting: true,
      family: 'unseen',
      spec: {
        ...unseen,
        rotationDegrees: 0,
        finalWeights: undefined,
        fadingComponent: 4,
        appearingAngleDegrees: 90,
      },
    },
    {
      // Weights that matter: a cluster rare in the bootstrap window (0.5 %) grows to the largest
      // while another fades. Added after the settings were chosen and never used to tune them.
      name: 'unseen-growing',
      tuned: false,
      drifting: true,
      family: 'unseen',
      ownBootstrap: true,
      spec: {
        ...unseen,
        rotationDegrees: 0,
        initialWeights: [0.25, 0.2, 0.2, 0.2, 0.145, 0.005],
        finalWeights: [0.02, 0.2, 0.15, 0.15, 0.18, 0.3],
      },
    },
    {
      name: 'unseen-stationary',
      tuned: false,
      drifting: false,
      family: 'unseen',
      spec: { ...unseen, rotationDegrees: 0, finalWeights: undefined },
    },
    {
      // The unseen family's touching clusters: added after the settings were chosen and held out of
      // them, except the relabel charge of a promotion, which it helped choose.
      name: 'unseen-touching',
      tuned: true,
      drifting: false,
      family: 'unseen',
      ownBootstrap: true,
      spec: { ...unseen, spread: 1.6, rotationDegrees: 0, finalWeights: undefined },
    },
    {
      // Two families of touching clusters added after the relabel charge was chosen, held out of
      // every setting: five clusters in 8 dimensions, and eight in 16.
      name: 'fresh-touching',
      tuned: false,
      drifting: false,
      family: 'unseen',
      ownBootstrap: true,
      spec: {
        clusters: 5,
        dims: 8,
        radius: 6,
        spread: 1.8,
        bend: 2.2,
        rotationDegrees: 0,
        shapeSeed: 23,
        finalWeights: undefined,
      },
    },
    {
      name: 'fresh-touching-many',
      tuned: false,
      drifting: false,
      family: 'unseen',
      ownBootstrap: true,
      spec: {
        clusters: 8,
        dims: 16,
        radius: 6,
        spread: 1.2,
        bend: 2,
        rotationDegrees: 0,
        shapeSeed: 41,
        finalWeights: undefined,
      },
    },
  ];
}

/** The bootstrap of every synthetic stream's model: small, as the streams are 10- or 12-wide. */
function syntheticDecOptions(clusters: number): Partial<DecOptions> & { clusters: number } {
  return {
    clusters,
    hiddenSizes: [32, 64],
    embeddingSize: 4,
    seed: 1,
    pretrainEpochs: quick ? 30 : 60,
    kmeansRestarts: 10,
    maxIterations: quick ? 600 : 1500,
    batchSize: 256,
  };
}

/** The refiner of the synthetic streams (BENCH_SYN_* override its settings). */
function syntheticRefinerOptions(): RefinerOptions {
  return {
    everyRecords: 500,
    intervalMs: 3_600_000,
    windowRecords: 2000,
    halfLifeRecords: 2000,
    backend: 'auto',
    settings: refineSettings('SYN', {
      learningRate: 3,
      encoderLearningRate: 0.2,
      steps: 5,
      batchSize: 256,
      updateEncoder: true,
      minClusterShare: 0.02,
    }),
  };
}

function retrainRefinerOptions(streamRows: number): {
  refined: RefinerOptions;
  retrain: RefinerOptions;
} {
  const refined = syntheticRefinerOptions();
  const every = envNumber('BENCH_RETRAIN_EVERY', Math.max(1000, Math.round(streamRows / 8)));
  const retrain: RefinerOptions = {
    ...refined,
    retrain: {
      everyRecords: every,
      sampleRecords: envNumber('BENCH_RETRAIN_SAMPLE', 3000),
      sampleHalfLifeRecords: envNumber('BENCH_RETRAIN_HALF_LIFE', 2000),
      holdoutRecords: envNumber('BENCH_RETRAIN_HOLDOUT', 1000),
      promotionMargin: envNumber('BENCH_RETRAIN_MARGIN', 0.02),
      relabelCharge: envNumber('BENCH_RETRAIN_RELABEL_CHARGE', DEFAULT_RELABEL_CHARGE),
      maxReassignedShare: envNumber('BENCH_RETRAIN_MAX_RELABEL', DEFAULT_MAX_REASSIGNED_SHARE),
      start: retrainStart(process.env.BENCH_RETRAIN_START) ?? DEFAULT_RETRAIN_START,
    },
  };
  return { refined, retrain };
}

/** A retrain start named in the environment, or undefined when unset. */
function retrainStart(value: string | undefined): RetrainStart | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'fresh' || value === 'serving' || value === 'hybrid') return value;
  throw new Error(`a retrain start is 'fresh', 'serving' or 'hybrid', got '${value}'`);
}

/** A bootstrap model trained on the first `rows` records of `spec` (its weights at t = 0). */
async function streamBootstrap(
  name: string,
  spec: MixtureSpec,
  rows: number,
): Promise<BootstrapModel> {
  const bootstrap = mixtureStream(spec, rows, 11 + 100 * (retrainSeed - 1), 0, 0);
  const options = syntheticDecOptions(spec.clusters);
  const seeded = retrainSeed === 1 ? options : { ...options, seed: retrainSeed };
  const label = retrainSeed === 1 ? name : `${name}-seed${retrainSeed}`;
  const snapshot = await bootstrapSnapshot(label, bootstrap.x, seeded);
  return { snapshot, bootstrap };
}

async function retrainPart(results: Record<string, unknown>): Promise<void> {
  const bootstrapRows = quick ? 1500 : 3000;
  const streamRows = envNumber('BENCH_RETRAIN_STREAM', quick ? 6000 : 20000);
  const batch = 100;
  const streams = retrainStreams();
  const { refined: refinedOptions, retrain: retrainOptions } = retrainRefinerOptions(streamRows);
  // BENCH_RETRAIN_BASELINE_CHARGE=c, BENCH_RETRAIN_BASELINE_START=s and
  // BENCH_RETRAIN_BASELINE_MAX_RELABEL=m add, in the same run, the retrain with relabel charge c,
  // start s and cap m on the ids a promotion moves (the rest as the retrain's).
  const baselineCharge = process.env.BENCH_RETRAIN_BASELINE_CHARGE;
  const baselineStart = retrainStart(process.env.BENCH_RETRAIN_BASELINE_START);
  const baselineCap = process.env.BENCH_RETRAIN_BASELINE_MAX_RELABEL;
  const baselineOptions: RefinerOptions | undefined =
    baselineCharge === undefined && baselineStart === undefined && baselineCap === undefined
      ? undefined
      : {
          ...retrainOptions,
          retrain: {
            ...retrainOptions.retrain!,
            ...(baselineCharge === undefined ? {} : { relabelCharge: Number(baselineCharge) }),
            ...(baselineStart === undefined ? {} : { start: baselineStart }),
            ...(baselineCap === undefined ? {} : { maxReassignedShare: Number(baselineCap) }),
          },
        };
  const models = new Map<string, BootstrapModel>();
  for (const family of ['four', 'unseen'] as const) {
    const spec = streams.find((s) => s.family === family && !s.drifting)?.spec;
    if (spec === undefined) continue;
    models.set(family, await streamBootstrap(`retrain-${family}`, spec, bootstrapRows));
  }
  const out: Record<string, unknown> = {
    bootstrapRecords: bootstrapRows,
    streamRecords: streamRows,
    batchRecords: batch,
    streamSeed: retrainSeed,
    order: retrainOrder,
    refiner: retrainOptions,
    streams: {},
  };
  const streamResults = out.streams as Record<string, unknown>;
  const wanted = args.values('--stream');
  for (const stream of streams) {
    if (wanted.length > 0 && !wanted.includes(stream.name)) continue;
    const model =
      stream.ownBootstrap === true
        ? await streamBootstrap(`retrain-${stream.name}`, stream.spec, bootstrapRows)
        : models.get(stream.family);
    if (model === undefined) continue;
    const drawn = mixtureStream(stream.spec, streamRows, 12 + 100 * (retrainSeed - 1), 0, 1);
    const data = retrainOrder === 0 ? drawn : blockShuffled(drawn, 1000, retrainOrder);
    const started = stopwatch();
    const {
      frozen,
      refined: [refined, retrained, otherRetrain],
      kmeansBest,
    } = await runContenders(model, data, stream.spec.clusters, batch, [
      refinedOptions,
      retrainOptions,
      ...(baselineOptions === undefined ? [] : [baselineOptions]),
    ]);
    const entry = {
      tuned: stream.tuned,
      drifting: stream.drifting,
      spec: stream.spec,
      frozen: summary(data.labels, frozen),
      refined: summary(data.labels, refined!),
      retrain: summary(data.labels, retrained!),
      onlineKmeansBest: {
        step: kmeansBest.step,
        accWholeByStep: kmeansBest.perStep,
        ...summary(data.labels, kmeansBest.run),
      },
      wallSeconds: round(started.seconds(), 1),
    };
    entry.retrain.promotionEffects = promotionEffects(data.labels, retrained!, frozen);
    if (otherRetrain !== undefined && baselineOptions !== undefined) {
      const other = summary(data.labels, otherRetrain);
      other.relabelCharge = baselineOptions.retrain?.relabelCharge;
      other.start = baselineOptions.retrain?.start;
      other.maxReassignedShare = baselineOptions.retrain?.maxReassignedShare;
      other.promotionEffects = promotionEffects(data.labels, otherRetrain, frozen);
      (entry as Record<string, unknown>).retrainBaseline = other;
    }
    streamResults[stream.name] = entry;
    log(
      `retrain ${stream.name}${stream.tuned ? '' : ' (held out)'}: prequential ACC retrain ${String(entry.retrain.accWholeStream)}, ` +
        `refined ${String(entry.refined.accWholeStream)}, frozen ${String(entry.frozen.accWholeStream)}, ` +
        `best online k-means ${String((entry.onlineKmeansBest as Record<string, unknown>).accWholeStream)} (step ${kmeansBest.step}); ` +
        `second half retrain ${String(entry.retrain.accSecondHalf)} vs frozen ${String(entry.frozen.accSecondHalf)}; ` +
        `retrains ${JSON.stringify(entry.retrain.retrains)}`,
    );
    results.retrain = out;
    writeResult(resultFile('drift-retrain-progress-partial'), results);
  }
  if (process.env.BENCH_SKIP_LATENCY !== '1') {
    const four = models.get('four');
    if (four !== undefined) {
      const data = mixtureStream(streams[0]!.spec, 20000, 13, 0, 1);
      const latencyBatch = envNumber('BENCH_RETRAIN_LATENCY_BATCH', batch);
      out.latency = await latency(
        four.snapshot,
        data.x,
        latencyBatch,
        envNumber('BENCH_RETRAIN_LATENCY_BLOCKS', quick ? 4 : 24),
        quick ? 100 : 250,
        {
          ...retrainOptions,
          retrain: {
            ...retrainOptions.retrain!,
            everyRecords: 2 * latencyBatch,
            holdoutRecords: latencyBatch,
          },
        },
      );
      log(`retrain latency: ${JSON.stringify(out.latency)}`);
    }
  }
  results.retrain = out;
  results.retrainChecks = retrainChecks(out);
}

/**
 * The rows of `data` shuffled within consecutive blocks of `block` rows: the same drift over time,
 * but another arrival order, as when partitions fill at different rates.
 */
function blockShuffled(data: Labelled, block: number, seed: number): Labelled {
  const random = mulberry32(seed);
  const order = Array.from({ length: data.x.rows }, (_, i) => i);
  for (let from = 0; from < order.length; from += block) {
    const to = Math.min(order.length, from + block);
    for (let i = to - 1; i > from; i--) {
      const j = from + Math.floor(random() * (i - from + 1));
      [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
    }
  }
  return take(data, order);
}

/** Median, minimum and maximum, rounded. */
function spreadOf(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: round(
      sorted.length % 2 === 1
        ? sorted[(sorted.length - 1) / 2]!
        : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2,
    ),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/**
 * 4. Refinement as it is (online k-means candidates weighed against the KL step, kept only when
 * the partition criterion does not get worse) against refinement before them (the KL step alone,
 * judged by the bounds), on the retrain part's streams (but swap, where every method ties), over
 * stream seeds (each with its own bootstrap model) and two record orders. Held-out streams are
 * reported apart: the current default was chosen on the tuning ones.
 */
async function spreadPart(results: Record<string, unknown>): Promise<void> {
  const seeds = quick ? [1] : [1, 2, 3];
  const orders = quick ? [0] : [0, 1];
  const bootstrapRows = quick ? 1500 : 3000;
  const streamRows = envNumber('BENCH_SPREAD_STREAM', quick ? 6000 : 20000);
  const batch = 100;
  const current = syntheticRefinerOptions();
  const before: RefinerOptions = {
    ...current,
    settings: { ...current.settings, kmeansSteps: [], criterion: undefined },
  };
  // Refinement as now without the fading-cluster re-seed: what that rule adds, seed by seed.
  const withoutFading: RefinerOptions = {
    ...current,
    settings: { ...current.settings, fadingSplitMaxValley: 0 },
  };
  const streams = retrainStreams();
  const runs: Record<string, unknown>[] = [];
  for (const seed of seeds) {
    const models = new Map<string, BootstrapModel>();
    for (const stream of streams) {
      if (models.has(stream.family)) continue;
      const still = streams.find((s) => s.family === stream.family && !s.drifting)!.spec;
      const bootstrap = mixtureStream(still, bootstrapRows, 11 + 100 * (seed - 1), 0, 0);
      const snapshot = await bootstrapSnapshot(`spread-${stream.family}-seed${seed}`, bootstrap.x, {
        ...syntheticDecOptions(still.clusters),
        seed,
      });
      models.set(stream.family, { snapshot, bootstrap });
    }
    for (const stream of streams) {
      const model = models.get(stream.family)!;
      const inOrder = mixtureStream(stream.spec, streamRows, 12 + 100 * (seed - 1), 0, 1);
      for (const order of orders) {
        const data = order === 0 ? inOrder : blockShuffled(inOrder, 1000, order);
        const whole = (run: StreamRun): number =>
          round(acc(data.labels, run.predictions, 0, streamRows));
        const second = (run: StreamRun): number =>
          round(acc(data.labels, run.predictions, Math.floor(streamRows / 2), streamRows));
        const {
          frozen,
          refined: [now, then, noFading],
          kmeansBest,
        } = await runContenders(model, data, stream.spec.clusters, batch, [
          current,
          before,
          withoutFading,
        ]);
        const run = {
          stream: stream.name,
          tuned: stream.tuned,
          drifting: stream.drifting,
          seed,
          order,
          whole: {
            frozen: whole(frozen),
            refined: whole(now!),
            before: whole(then!),
            withoutFading: whole(noFading!),
            onlineKmeans: whole(kmeansBest.run),
          },
          secondHalf: {
            frozen: second(frozen),
            refined: second(now!),
            before: second(then!),
            withoutFading: second(noFading!),
            onlineKmeans: second(kmeansBest.run),
          },
          onlineKmeansStep: kmeansBest.step,
        };
        runs.push(run);
        log(`spread ${stream.name} seed ${seed} order ${order}: ${JSON.stringify(run.whole)}`);
      }
    }
  }
  const byStream = streams.map((stream) => {
    const mine = runs.filter((r) => r.stream === stream.name) as unknown as {
      whole: Record<string, number>;
      secondHalf: Record<string, number>;
    }[];
    const of = (part: 'whole' | 'secondHalf', method: string) =>
      spreadOf(mine.map((r) => r[part][method]!));
    return {
      stream: stream.name,
      tuned: stream.tuned,
      drifting: stream.drifting,
      runs: mine.length,
      whole: Object.fromEntries(
        ['frozen', 'refined', 'before', 'withoutFading', 'onlineKmeans'].map((m) => [
          m,
          of('whole', m),
        ]),
      ),
      secondHalf: Object.fromEntries(
        ['frozen', 'refined', 'before', 'withoutFading', 'onlineKmeans'].map((m) => [
          m,
          of('secondHalf', m),
        ]),
      ),
      refinedMinusBefore: spreadOf(mine.map((r) => r.whole.refined! - r.whole.before!)),
      refinedMinusOnlineKmeans: spreadOf(mine.map((r) => r.whole.refined! - r.whole.onlineKmeans!)),
    };
  });
  results.spread = {
    seeds,
    orders: orders.map((o) =>
      o === 0 ? 'in time order' : `shuffled within 1,000-record blocks (seed ${o})`,
    ),
    bootstrapRecords: bootstrapRows,
    streamRecords: streamRows,
    batchRecords: batch,
    refiner: current,
    before:
      'the same, with kmeansSteps [] and no criterion: the KL step alone, judged by the bounds',
    withoutFading: 'the same as now, with fadingSplitMaxValley 0: no fading-cluster re-seed',
    byStream,
    runs,
  };
}

function retrainChecks(
  out: Record<string, unknown>,
): Record<string, { value: number; pass: boolean; heldOut: boolean }> {
  const checks: Record<string, { value: number; pass: boolean; heldOut: boolean }> = {};
  const streams = out.streams as Record<string, Record<string, Record<string, unknown>>>;
  const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  for (const [name, entry] of Object.entries(streams)) {
    const heldOut = (entry.tuned as unknown as boolean) === false;
    const retrain = entry.retrain ?? {};
    const frozen = entry.frozen ?? {};
    const kmeans = entry.onlineKmeansBest ?? {};
    if (entry.drifting as unknown as boolean) {
      const vsKmeans = num(retrain.accWholeStream) - num(kmeans.accWholeStream);
      checks[`${name}: prequential ACC retrain − best online k-means ≥ 0`] = {
        value: round(vsKmeans, 4),
        pass: vsKmeans >= 0,
        heldOut,
      };
      const vsFrozen = num(retrain.accSecondHalf) - num(frozen.accSecondHalf);
      checks[`${name}: second-half ACC retrain − frozen ≥ 0.10`] = {
        value: round(vsFrozen, 4),
        pass: vsFrozen >= 0.1,
        heldOut,
      };
    } else {
      const gap = Math.min(
        num(retrain.accSecondHalf) - num(frozen.accSecondHalf),
        num(retrain.accWholeStream) - num(frozen.accWholeStream),
      );
      checks[`${name}: ACC retrain − frozen ≥ −0.005`] = {
        value: round(gap, 4),
        pass: gap >= -0.005,
        heldOut,
      };
      const kept =
        (retrain.retrains as Record<string, number[]> | undefined)?.idsKeptPerJudgedShadow ?? [];
      const worst = kept.length === 0 ? NaN : Math.min(...kept);
      checks[`${name}: ids kept across a promotion (worst judged shadow) ≥ 0.97`] = {
        value: worst,
        pass: worst >= 0.97,
        heldOut,
      };
    }
  }
  const lat = out.latency as Record<string, number> | undefined;
  if (lat !== undefined) {
    checks['p99 labelling latency, retraining ÷ idle ≤ 1.5'] = {
      value: lat.p99Ratio ?? NaN,
      pass: (lat.p99Ratio ?? Infinity) <= 1.5,
      heldOut: false,
    };
  }
  return checks;
}

/**
 * MNIST with the background retrain: prequential ACC of the stream's last third, against an
 * offline model trained with the same defaults on all 10,000 records (the target: within 3 points).
 * Hours on two shared cores: run only with BENCH_MNIST_RETRAIN=1.
 */
async function mnistRetrain(
  bootstrap: ModelSnapshot,
  bootstrapRecords: Matrix,
  digits: Labelled,
  stream: Labelled,
  refiner: RefinerOptions,
): Promise<Record<string, unknown>> {
  const options: RefinerOptions = {
    ...refiner,
    retrain: {
      everyRecords: envNumber('BENCH_MNIST_RETRAIN_EVERY', 2000),
      // DEC_RETRAIN_SAMPLE_RECORDS' default: the sample can hold every record of the stream.
      sampleRecords: envNumber('BENCH_MNIST_RETRAIN_SAMPLE', 10000),
      sampleHalfLifeRecords: 0,
      holdoutRecords: 1000,
      promotionMargin: 0.02,
    },
  };
  const run = await runRefined(bootstrap, bootstrapRecords, stream.x, 100, options);
  const offline = await bootstrapSnapshot('mnist-offline-all', digits.x, {
    ...bootstrap.options,
    clusters: 10,
  });
  const offlineRun = runFrozen(offline, stream.x, 100);
  const n = stream.labels.length;
  const third = Math.floor((2 * n) / 3);
  const lastThird = round(acc(stream.labels, run.predictions, third, n));
  const offlineLastThird = round(acc(stream.labels, offlineRun.predictions, third, n));
  log(
    `mnist retrain: last third ACC ${lastThird}, offline model on all records ${offlineLastThird}`,
  );
  return {
    retrain: summary(stream.labels, run),
    accLastThird: lastThird,
    offlineAllRecordsAccLastThird: offlineLastThird,
    withinThreePoints: lastThird >= offlineLastThird - 0.03,
  };
}
