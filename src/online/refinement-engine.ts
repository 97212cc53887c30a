/**
 * One refinement, start to finish, on the thread that owns the model: measure the window under the
 * serving version, re-seed dying clusters, run the mini-batch KL step, judge the result, and produce
 * the next version (or a rejection). Also the optional re-bootstrap: a full retrain on the window with
 * cluster ids matched to the old ones. Pure: no threads, no files; the refiner thread drives it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rescheduleForRows } from '../model/defaults.js';
import { versionStatistics } from '../model/version-statistics.js';
import { ModelVersion } from '../model/model-version.js';
import { trainDec } from '../model/train-dec.js';
import type {
  AssignmentBatch,
  DecOptions,
  DecParameters,
  Matrix,
  ModelSnapshot,
  IdMappingReport,
  PromotionRecord,
  TrainingMetrics,
} from '../model/types.js';
import {
  applyIdMapping,
  idMappingReport,
  matchClusterIds,
  permuteValues,
  reassignedShare,
} from './id-mapping.js';
import type { IdMapping } from './id-mapping.js';
import { onlineKmeansPass } from './online-kmeans.js';
import { reseedFadingCluster } from './fading-cluster.js';
import { SEPARATE_GROUPS_MAX_CUT } from '../model/partition-score.js';
import type { CriterionOptions } from '../model/shared-graphs.js';
import { SharedGraphs, defaultCriterionOptions } from '../model/shared-graphs.js';
import { DEFAULT_RELABEL_POLICY, decidePromotion } from './partition-criterion.js';
import type { RelabelPolicy } from './partition-criterion.js';
import { agreedPartition } from './shadow-start.js';
import { centroidShift, labelChangeRate, meanOf, toShares } from './drift.js';
import { refineStep } from './refine-step.js';
import type { RefineStepResult } from './refine-step.js';
import type { RefinementBounds, ReseedEvent } from './refinement-policy.js';
import {
  RejectReason,
  defaultRefinementBounds,
  judgeRefinement,
  matchByOverlap,
  parametersAreFinite,
  permuteRows,
  relabel,
  reseedDyingClusters,
} from './refinement-policy.js';
import { carryClusterIds, clusterIdsOf, keptIds } from '../model/cluster-ids.js';
import type { RenewedId } from '../model/cluster-ids.js';

export interface RefinementSettings {
  /**
   * Plain-SGD step size of the centroid updates. The KL loss is a per-row mean, so a centroid's
   * gradient is scaled by its cluster's share: useful values are around 1.
   */
  readonly learningRate: number;
  /** Step size of the encoder (and decoder) pass when `updateEncoder` is on; much smaller. */
  readonly encoderLearningRate: number;
  /** Mini-batch steps per refinement. */
  readonly steps: number;
  readonly batchSize: number;
  /** Also train the encoder (IDEC's reconstruction term guards the embedding). */
  readonly updateEncoder: boolean;
  /** IDEC: L = L_rec + gamma · L_KL when the encoder is trained. */
  readonly gamma: number;
  readonly bounds: RefinementBounds;
  /** A cluster whose running share falls below this is re-seeded by splitting the largest; 0: never. */
  readonly minClusterShare: number;
  /**
   * A cluster below half its bootstrap share of the window is re-seeded earlier, from the cluster
   * that grew most, when that cluster's 2-means halves are separate groups: a valley ratio at most
   * this (fading-cluster.ts); 0: only the `minClusterShare` rule.
   */
  readonly fadingSplitMaxValley: number;
  /**
   * Constant steps of the online k-means candidates (one pass over the window in the embedding,
   * warm-started from the serving centroids) that compete with the KL step; empty: none.
   */
  readonly kmeansSteps: readonly number[];
  /**
   * Judge candidates by the criterion (mean normalised cut on shared kNN graphs of the window):
   * the best candidate serves only when it does not score worse than the serving version.
   * Undefined: judge by the bounds alone.
   */
  readonly criterion: CriterionOptions | undefined;
  readonly seed: number;
}

export const defaultRefinementSettings: RefinementSettings = {
  learningRate: 1,
  encoderLearningRate: 0.05,
  steps: 5,
  batchSize: 256,
  updateEncoder: false,
  gamma: 0.1,
  bounds: defaultRefinementBounds,
  minClusterShare: 0.005,
  fadingSplitMaxValley: 0.3,
  kmeansSteps: [0.01, 0.05, 0.2],
  criterion: defaultCriterionOptions,
  seed: 1,
};

/**
 * refine: a step on the window; rebootstrap: a retrain on the window that serves at once;
 * retrain: a shadow model trained on the stream sample, not serving yet; promotion: the shadow
 * judged against the serving version on records neither trained on.
 */
export type RefinementKind = 'refine' | 'rebootstrap' | 'retrain' | 'promotion';

/** How an accepted refinement moved the centroids. */
export type RefinementMethod = 'kl' | 'kmeans';

export interface RefinementOutcome {
  readonly kind: RefinementKind;
  readonly accepted: boolean;
  /** One of RejectReasons when rejected. */
  readonly reason?: string;
  readonly detail?: string;
  /** The new version when accepted. */
  readonly snapshot?: ModelSnapshot;
  readonly durationSeconds: number;
  readonly loss: number;
  readonly lossBefore: number;
  /** Largest centroid move (embedding units); NaN for a re-bootstrap (a new embedding). */
  readonly centroidShift: number;
  /** Fraction of the window labelled differently by the new version. */
  readonly labelChangeFraction: number;
  /** Mean squared reconstruction error of the window under the version that served it. */
  readonly reconstructionError: number;
  /** Soft cluster sizes of the window under the new version (accepted outcomes). */
  readonly clusterSizes?: Float32Array;
  /** Dying clusters re-seeded by this refinement (only when accepted). */
  readonly reseeded: readonly ReseedEvent[];
  /** The candidate that won (refinements judged by the criterion). */
  readonly method?: RefinementMethod;
  /** Criterion of the serving version and of the best candidate (lower is better). */
  readonly criterion?: { readonly serving: number; readonly candidate: number };
  /** How a refinement that re-seeded clusters matched them to the served ids. */
  readonly idMapping?: IdMappingReport;
  /** A promotion's evidence and id matching (kind promotion, accepted or not). */
  readonly promotion?: PromotionRecord;
  /** Records a shadow model trained on (kind retrain). */
  readonly trainedOnRecords?: number;
}

/** Options for the full retrain on the window; unset ones keep the serving version's options. */
export type RebootstrapOptions = Partial<Omit<DecOptions, 'clusters'>>;

/**
 * Where a shadow model's clustering starts. 'fresh': its own initialisation, as the bootstrap's
 * (the manifold step or k-means in its new embedding), free to find other clusters. 'serving': the
 * serving version's labels of the sample, distilled first and then self-trained, so the shadow
 * keeps the clusters (and the borders) the serving model has; it cannot split a cluster the serving
 * model merged. 'hybrid': a fresh shadow first, then one started from the serving labels where both
 * hold the same group and from the fresh labels elsewhere (shadow-start.ts).
 */
export type RetrainStart = 'fresh' | 'serving' | 'hybrid';
export const DEFAULT_RETRAIN_START: RetrainStart = 'fresh';

/** A retrained model that does not serve yet. */
interface Shadow {
  readonly parameters: DecParameters;
  readonly metrics: TrainingMetrics;
  readonly options: DecOptions;
  readonly trainedOnRecords: number;
}

/** The window as the serving version labelled it, before a refinement or a retrain. */
interface ServedWindow {
  readonly served: AssignmentBatch;
  readonly reconstructionError: number;
}

export class RefinementEngine {
  private snapshot: ModelSnapshot;
  private model: ModelVersion;
  private readonly settings: RefinementSettings;
  private readonly now: () => number;
  private shadow: Shadow | undefined;

  constructor(
    snapshot: ModelSnapshot,
    settings: RefinementSettings,
    now: () => number = () => performance.now(),
  ) {
    this.snapshot = snapshot;
    this.model = new ModelVersion(snapshot);
    this.settings = settings;
    this.now = now;
  }

  /** The version new refinements start from. */
  current(): ModelSnapshot {
    return this.snapshot;
  }

  /** Serves `snapshot` from now on (e.g. a version restored elsewhere). */
  replace(snapshot: ModelSnapshot): void {
    this.shadow = undefined;
    this.model.dispose();
    this.snapshot = snapshot;
    this.model = new ModelVersion(snapshot);
  }

  /**
   * Refines the serving version on `window` (standardised rows, oldest first) with the running
   * cluster-size estimate `clusterSizes` (f in DEC's target, never the window's own).
   */
  async refine(window: Matrix, clusterSizes: Float32Array): Promise<RefinementOutcome> {
    const started = this.now();
    const { served, reconstructionError } = this.serve(window);
    const { start, sizes, reseeded } = this.reseed(window, served, clusterSizes);
    const step = this.step(start, window, sizes);
    const verdict = judgeRefinement(
      start,
      step.parameters,
      { before: step.lossBefore, after: step.loss },
      this.settings.bounds,
    );
    const common = {
      kind: 'refine' as const,
      durationSeconds: 0,
      loss: step.loss,
      lossBefore: step.lossBefore,
      reconstructionError,
      centroidShift: verdict.centroidShift,
    };
    const rejected = { ...common, accepted: false, reseeded: [] };
    const elapsed = (): number => (this.now() - started) / 1000;
    const candidates = [
      ...(verdict.accepted ? [{ method: 'kl' as const, parameters: step.parameters }] : []),
      ...this.kmeansCandidates(start, window),
    ];
    if (candidates.length === 0) {
      const { reason, detail } = verdict.accepted ? { reason: 'none', detail: '' } : verdict;
      const labelChangeFraction = step.labelChangeFraction;
      return { ...rejected, reason, detail, labelChangeFraction, durationSeconds: elapsed() };
    }
    const reference = this.criterionReference(window, served, { start, reseeded });
    const chosen = await this.choose(candidates, window, reference.labels);
    const choice =
      reseeded.length === 0
        ? { ...chosen, reseeded, start }
        : this.matchReseeded(chosen, window, served, { reseeded, start });
    const labelChangeFraction = labelChangeRate(served.cluster, choice.labelled.cluster);
    const judged = {
      ...(choice.criterion === undefined ? {} : { criterion: choice.criterion }),
      method: choice.method,
    };
    const veto =
      worseThanReference(choice, reference.name) ??
      this.labelChangeBound(window, choice.start, reseeded, choice.labelled, labelChangeFraction);
    if (veto !== undefined) {
      return { ...rejected, ...judged, ...veto, labelChangeFraction, durationSeconds: elapsed() };
    }
    return {
      ...common,
      ...judged,
      centroidShift: centroidShiftOf(start, choice.parameters),
      accepted: true,
      snapshot: this.nextRefinedVersion(choice, window),
      labelChangeFraction,
      clusterSizes: softSizes(choice.labelled.q, choice.labelled.rows, choice.labelled.clusters),
      reseeded: choice.reseeded,
      ...(choice.idMapping === undefined ? {} : { idMapping: choice.idMapping }),
      durationSeconds: elapsed(),
    };
  }

  /**
   * The partition the chosen candidate must not score worse than: the served labels, or after a
   * fading cluster's re-seed the re-seeded start's. That re-seed dissolves the records the fading
   * cluster still holds into their neighbours on purpose (fading-cluster.ts); the criterion cannot
   * see the merge it undoes (two separate groups in one cluster cut no edge), only the records
   * dissolved, so the step after it is held to where it started.
   */
  private criterionReference(
    window: Matrix,
    served: AssignmentBatch,
    { start, reseeded }: { start: DecParameters; reseeded: readonly ReseedEvent[] },
  ): { labels: Int32Array; name: string } {
    if (!reseeded.some((e) => e.splitValley !== undefined))
      return { labels: served.cluster, name: 'the serving version' };
    return { labels: this.labelsUnder(start, window), name: 'the re-seeded start' };
  }

  /** Warm-started online k-means passes in the serving embedding, one per configured step. */
  private kmeansCandidates(
    start: DecParameters,
    window: Matrix,
  ): { method: 'kmeans'; parameters: DecParameters }[] {
    const steps = this.settings.kmeansSteps;
    if (steps.length === 0) return [];
    const embedded = this.model.embed(window);
    const out: { method: 'kmeans'; parameters: DecParameters }[] = [];
    for (const step of steps) {
      const centroids = onlineKmeansPass(start.centroids, embedded, start.clusters, step);
      const parameters = { ...start, centroids };
      // Its loss is not computed: only the NaN and shift bounds apply.
      const verdict = judgeRefinement(
        start,
        parameters,
        { before: NaN, after: 0 },
        this.settings.bounds,
      );
      if (verdict.accepted) out.push({ method: 'kmeans', parameters });
    }
    return out;
  }

  /**
   * The candidate to serve: with the criterion on, the one whose partition of the window has the
   * lowest mean normalised cut on kNN graphs of the window's inputs and serving embedding (spaces
   * every candidate shares); otherwise the first (the KL step when the bounds let it through).
   * `criterion.serving` is the score of `reference`, the partition the candidate must not be worse
   * than: the served labels, or the re-seeded start's.
   */
  private async choose(
    candidates: readonly { method: RefinementMethod; parameters: DecParameters }[],
    window: Matrix,
    reference: Int32Array,
  ): Promise<{
    method: RefinementMethod;
    parameters: DecParameters;
    labelled: AssignmentBatch;
    criterion?: { serving: number; candidate: number };
  }> {
    const labelledBy = candidates.map((c) => ({
      ...c,
      labelled: this.assignUnder(c.parameters, window),
    }));
    const first = labelledBy[0]!;
    const options = this.settings.criterion;
    if (options === undefined) return first;
    const graphs = await SharedGraphs.build([window, this.model.embed(window)], options);
    const k = this.snapshot.parameters.clusters;
    const serving = graphs.score(reference, k);
    let best = first;
    let bestScore = Infinity;
    for (const candidate of labelledBy) {
      const score = graphs.score(candidate.labelled.cluster, k);
      if (score < bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return { ...best, criterion: { serving, candidate: bestScore } };
  }

  /**
   * After a re-seed, the clusters are matched to the served ids by the Hungarian method on the
   * window's labels (the split cluster's id goes to the half that keeps most of its records), and
   * the re-seed events are renumbered to match.
   */
  private matchReseeded<C extends { parameters: DecParameters; labelled: AssignmentBatch }>(
    choice: C,
    window: Matrix,
    served: AssignmentBatch,
    { reseeded, start }: { reseeded: readonly ReseedEvent[]; start: DecParameters },
  ): C & {
    reseeded: readonly ReseedEvent[];
    start: DecParameters;
    clusterIds?: number[];
    idMapping?: IdMappingReport;
  } {
    const k = choice.parameters.clusters;
    const mapping = matchClusterIds(served.cluster, choice.labelled.cluster, k);
    if (mapping.permutation.every((from, id) => from === id)) {
      const ids = this.carriedIds(served.cluster, choice.labelled.cluster, reseeded);
      return { ...choice, reseeded, start, ...ids, idMapping: idMappingReport(mapping, ids) };
    }
    const idOf = new Int32Array(k);
    mapping.permutation.forEach((from, id) => (idOf[from] = id));
    const parameters = applyIdMapping(choice.parameters, mapping);
    const labelled = this.assignUnder(parameters, window);
    const renumbered = reseeded.map((e) => ({
      ...e,
      cluster: idOf[e.cluster]!,
      splitFrom: idOf[e.splitFrom]!,
    }));
    const ids = this.carriedIds(served.cluster, labelled.cluster, renumbered);
    return {
      ...choice,
      parameters,
      labelled,
      // The step's starting point in the same numbering, for the label-change bound.
      start: applyIdMapping(start, mapping),
      reseeded: renumbered,
      ...ids,
      idMapping: idMappingReport(mapping, ids),
    };
  }

  /**
   * The published ids of a new version whose clusters are matched to the serving one's: a
   * re-seeded cluster, or one that is mostly a group the serving version's id did not hold, gets a
   * fresh id (cluster-ids.ts).
   */
  private carriedIds(
    before: ArrayLike<number>,
    after: ArrayLike<number>,
    reseeded: readonly ReseedEvent[] = [],
  ): { clusterIds: number[]; renewed: readonly RenewedId[] } {
    const carried = carryClusterIds(clusterIdsOf(this.snapshot), before, after, {
      reseeded: reseeded.map((e) => e.cluster),
    });
    return { clusterIds: carried.ids, renewed: carried.renewed };
  }

  /** The next version from an accepted refinement, its re-seeded clusters' shares rebased. */
  private nextRefinedVersion(
    choice: {
      parameters: DecParameters;
      reseeded: readonly ReseedEvent[];
      labelled: AssignmentBatch;
      clusterIds?: number[];
    },
    window: Matrix,
  ): ModelSnapshot {
    const rebased = this.rebasedShares(choice.reseeded, choice.labelled.cluster);
    const ids = choice.clusterIds === undefined ? {} : { clusterIds: choice.clusterIds };
    return this.nextVersion(choice.parameters, window, { ...rebased, ...ids });
  }

  /**
   * After a re-seed, the baseline the dying and fading rules measure a re-seeded cluster against
   * (the bootstrap's cluster sizes) becomes its share of the window now: it holds another group,
   * and without this a newly re-seeded cluster, still small, would count as fading at once.
   */
  private rebasedShares(
    reseeded: readonly ReseedEvent[],
    labels: Int32Array,
  ): Partial<Pick<ModelSnapshot, 'metrics'>> {
    if (reseeded.length === 0) return {};
    const metrics = this.snapshot.metrics;
    const sizes = [...metrics.clusterSizes];
    const total = sizes.reduce((sum, n) => sum + n, 0);
    const shares = labelShares(labels, sizes.length);
    for (const event of reseeded) sizes[event.cluster] = (shares[event.cluster] ?? 0) * total;
    return { metrics: { ...metrics, clusterSizes: sizes } };
  }

  /** `window` labelled under `parameters`. */
  private assignUnder(parameters: DecParameters, window: Matrix): AssignmentBatch {
    const model = ModelVersion.ofParameters(parameters);
    try {
      return model.assign(window);
    } finally {
      model.dispose();
    }
  }

  /** The window under the serving version: its labels and its reconstruction error. */
  private serve(window: Matrix): ServedWindow {
    const served = this.model.assign(window);
    const reconstructionError = meanOf(this.model.reconstructionError(window));
    return { served, reconstructionError };
  }

  /**
   * Where the step starts: the serving parameters, with each dying cluster re-seeded by splitting
   * the largest one (or else a fading cluster re-seeded from a grown cluster that holds two separate
   * groups), and the cluster sizes split to match.
   */
  private reseed(
    window: Matrix,
    served: AssignmentBatch,
    clusterSizes: Float32Array,
  ): { start: DecParameters; sizes: Float32Array; reseeded: readonly ReseedEvent[] } {
    const before = this.snapshot.parameters;
    const sizes = Float32Array.from(clusterSizes);
    if (this.settings.minClusterShare <= 0) return { start: before, sizes, reseeded: [] };
    const shares = toShares(sizes);
    const baselineShares = toShares(this.snapshot.metrics.clusterSizes);
    const seed = this.settings.seed + this.snapshot.version;
    const labelled = {
      inputs: window,
      embeddings: this.model.embed(window),
      labels: served.cluster,
    };
    const minShare = this.settings.minClusterShare;
    const dims = before.embeddingSize;
    let reseed = reseedDyingClusters(
      before.centroids,
      before.clusters,
      dims,
      shares,
      { minShare, baselineShares },
      labelled,
      seed,
    );
    if (reseed.events.length === 0 && this.settings.fadingSplitMaxValley > 0) {
      // Measured on the window's own labels: the running estimate lags a swap by its half-life.
      reseed = reseedFadingCluster(
        before.centroids,
        dims,
        labelShares(served.cluster, before.clusters),
        { minShare, baselineShares, maxValley: this.settings.fadingSplitMaxValley },
        labelled,
        seed,
      );
    }
    if (reseed.events.length === 0) return { start: before, sizes, reseeded: [] };
    for (const event of reseed.events) {
      const half = (sizes[event.splitFrom] ?? 0) / 2;
      sizes[event.splitFrom] = half;
      sizes[event.cluster] = half;
    }
    return {
      start: { ...before, centroids: reseed.centroids },
      sizes,
      reseeded: reseed.events,
    };
  }

  /**
   * The rejection when the step relabels more of the window than the bound allows, else
   * undefined. Bounded against the starting point of the step: a re-seed moves the records of the
   * split cluster on purpose, but the gradient steps after it must still keep to the bound.
   */
  private labelChangeBound(
    window: Matrix,
    start: DecParameters,
    reseeded: readonly ReseedEvent[],
    after: AssignmentBatch,
    labelChangeFraction: number,
  ): { reason: string; detail: string } | undefined {
    const stepChange =
      reseeded.length === 0
        ? labelChangeFraction
        : labelChangeRate(this.labelsUnder(start, window), after.cluster);
    const bound = this.settings.bounds.maxLabelChangeFraction;
    if (stepChange <= bound) return undefined;
    return {
      reason: RejectReason.LabelChangeBound,
      detail: `${(100 * stepChange).toFixed(1)}% of the window changed label in the step${reseeded.length === 0 ? '' : ' after re-seeding'} (bound ${(100 * bound).toFixed(1)}%)`,
    };
  }

  /** Hard labels of `window` under `parameters`. */
  private labelsUnder(parameters: DecParameters, window: Matrix): Int32Array {
    const model = ModelVersion.ofParameters(parameters);
    try {
      return model.labels(window);
    } finally {
      model.dispose();
    }
  }

  /** The serving version's training options, its schedule set again for the records in `x`. */
  private optionsFor(x: Matrix): DecOptions {
    return rescheduleForRows(this.snapshot.options, x.cols, this.snapshot.metrics.samples, x.rows);
  }

  /**
   * Retrains from scratch on `window` and matches the new clusters to the old ids by how many window
   * records they share (Hungarian), so ids stay stable across the retrain.
   */
  async rebootstrap(
    window: Matrix,
    options: RebootstrapOptions = {},
    signal?: AbortSignal,
  ): Promise<RefinementOutcome> {
    const started = this.now();
    const { served, reconstructionError } = this.serve(window);
    const decOptions: DecOptions = {
      ...this.optionsFor(window),
      ...options,
      clusters: this.snapshot.parameters.clusters,
    };
    const { parameters, metrics } = await trainDec(
      window,
      decOptions,
      signal === undefined ? {} : { signal },
    );
    const common = {
      kind: 'rebootstrap' as const,
      loss: metrics.finalKl,
      lossBefore: NaN,
      centroidShift: NaN,
      reconstructionError,
      reseeded: [],
    };
    const rejection = this.checkRetrain(parameters, metrics.finalKl);
    if (rejection !== undefined) {
      const durationSeconds = (this.now() - started) / 1000;
      return {
        ...common,
        ...rejection,
        accepted: false,
        durationSeconds,
        labelChangeFraction: NaN,
      };
    }
    const { permutation, matchedLabels } = this.matchClusters(parameters, window, served);
    const { clusterIds } = this.carriedIds(served.cluster, matchedLabels);
    const next = this.nextVersion(matchedParameters(parameters, permutation), window, {
      options: decOptions,
      metrics: {
        ...metrics,
        clusterSizes: Array.from(permutation, (from) => metrics.clusterSizes[from] ?? 0),
      },
      clusterIds,
    });
    const after = this.model.assign(window);
    return {
      ...common,
      accepted: true,
      snapshot: next,
      durationSeconds: (this.now() - started) / 1000,
      labelChangeFraction: labelChangeRate(served.cluster, after.cluster),
      clusterSizes: softSizes(after.q, after.rows, after.clusters),
    };
  }

  /** Why a retrain's result cannot serve, or undefined when it can. */
  private checkRetrain(
    parameters: DecParameters,
    finalKl: number,
  ): { reason: string; detail: string } | undefined {
    if (!parametersAreFinite(parameters) || !Number.isFinite(finalKl)) {
      return { reason: RejectReason.NaN, detail: 'the retrain produced non-finite parameters' };
    }
    const k = parameters.clusters;
    if (k !== this.snapshot.parameters.clusters) {
      return { reason: RejectReason.Mismatch, detail: `retrain gave ${k} clusters` };
    }
    return undefined;
  }

  /** For each new cluster id, the old id whose window records it shares most (Hungarian). */
  private matchClusters(
    parameters: DecParameters,
    window: Matrix,
    served: AssignmentBatch,
  ): { permutation: Int32Array; matchedLabels: Int32Array } {
    const fresh = ModelVersion.ofParameters(parameters);
    try {
      const labels = fresh.labels(window);
      const permutation = matchByOverlap(served.cluster, labels, parameters.clusters);
      return { permutation, matchedLabels: relabel(labels, permutation) };
    } finally {
      fresh.dispose();
    }
  }

  /** True while a retrained shadow waits to be judged. */
  hasShadow(): boolean {
    return this.shadow !== undefined;
  }

  /** Drops the shadow waiting to be judged, if any. */
  discardShadow(): void {
    this.shadow = undefined;
  }

  /**
   * Trains a shadow model from scratch on `sample` (the bounded sample of the stream) with the
   * full pipeline (pretraining, initialisation, guard, fine-tuning); unless `start` is 'fresh',
   * its fine-tuning starts from the serving version's labels of the sample, wholly ('serving') or
   * where the fresh shadow holds the same groups ('hybrid'; RetrainStart). It does not serve: it waits,
   * in this engine, for `judgeShadow` on records that arrive after it was trained.
   */
  async trainShadow(
    sample: Matrix,
    options: RebootstrapOptions = {},
    start: RetrainStart = DEFAULT_RETRAIN_START,
    signal?: AbortSignal,
  ): Promise<RefinementOutcome> {
    const started = this.now();
    this.shadow = undefined;
    const decOptions: DecOptions = {
      ...this.optionsFor(sample),
      ...options,
      clusters: this.snapshot.parameters.clusters,
    };
    const { parameters, metrics } = await this.trainFrom(sample, decOptions, start, signal);
    const rejection = this.checkRetrain(parameters, metrics.finalKl);
    const outcome = {
      kind: 'retrain' as const,
      accepted: rejection === undefined,
      ...rejection,
      durationSeconds: (this.now() - started) / 1000,
      loss: metrics.finalKl,
      lossBefore: NaN,
      centroidShift: NaN,
      labelChangeFraction: NaN,
      reconstructionError: metrics.reconstructionError,
      reseeded: [],
      trainedOnRecords: sample.rows,
    };
    if (rejection === undefined) {
      this.shadow = { parameters, metrics, options: decOptions, trainedOnRecords: sample.rows };
    }
    return outcome;
  }

  /**
   * The shadow's training on `sample` from `start`: its own initialisation; the serving labels; or
   * (hybrid) its own initialisation first, then again from the serving labels where both models
   * hold the same group and its own elsewhere (shadow-start.ts).
   */
  private async trainFrom(
    sample: Matrix,
    options: DecOptions,
    start: RetrainStart,
    signal: AbortSignal | undefined,
  ): Promise<{ parameters: DecParameters; metrics: TrainingMetrics }> {
    const hooks = signal === undefined ? {} : { signal };
    if (start === 'serving') {
      return trainDec(sample, options, hooks, { labels: this.model.labels(sample) });
    }
    const fresh = await trainDec(sample, options, hooks);
    if (start === 'fresh' || this.checkRetrain(fresh.parameters, fresh.metrics.finalKl)) {
      return fresh;
    }
    const servingLabels = this.model.labels(sample);
    const freshLabels = this.labelsUnder(fresh.parameters, sample);
    const labels = agreedPartition(servingLabels, freshLabels, options.clusters);
    return trainDec(sample, options, hooks, { labels });
  }

  /**
   * Judges the shadow against the serving version on `holdout`, recent records neither trained on,
   * by the criterion: the mean normalised cut on kNN graphs of the records' inputs and of both
   * models' embeddings (each model gets its own space once, so neither is favoured). Promoted
   * only past the margin, with its clusters matched to the serving ids (Hungarian on both
   * models' labels of the holdout); the shadow is gone afterwards either way. With a relabel
   * charge above 0 the bar falls with the share of holdout records the matched shadow would
   * relabel, and a shadow that would move more than the policy's cap of them between ids both
   * versions keep is not promoted (partition-criterion.ts).
   */
  async judgeShadow(
    holdout: Matrix,
    margin: number,
    relabelPolicy: RelabelPolicy = DEFAULT_RELABEL_POLICY,
    criterion: CriterionOptions = defaultCriterionOptions,
  ): Promise<RefinementOutcome> {
    const shadow = this.shadow;
    if (shadow === undefined) throw new Error('there is no shadow model to judge');
    this.shadow = undefined;
    const started = this.now();
    const { served, reconstructionError } = this.serve(holdout);
    const { shadowLabels, servingScore, shadowScore } = await this.scoreShadow(
      shadow,
      holdout,
      served.cluster,
      criterion,
    );
    const { mapping, ids, reassigned } = this.matchShadow(served.cluster, shadowLabels);
    const decision = decidePromotion(servingScore, shadowScore, margin, {
      changedShare: mapping.labelChangeRatio,
      charge: relabelPolicy.charge,
      reassignedShare: reassigned,
      maxReassignedShare: relabelPolicy.maxReassignedShare,
    });
    const promotion: PromotionRecord = {
      replacedVersion: this.snapshot.version,
      servingScore: decision.servingScore,
      shadowScore: decision.shadowScore,
      margin,
      trainedOnRecords: shadow.trainedOnRecords,
      judgedOnRecords: holdout.rows,
      idMapping: idMappingReport(mapping, ids),
      reassignedShare: reassigned,
    };
    const common = {
      kind: 'promotion' as const,
      loss: shadow.metrics.finalKl,
      lossBefore: NaN,
      centroidShift: NaN,
      reconstructionError,
      reseeded: [],
      promotion,
      labelChangeFraction: mapping.labelChangeRatio,
    };
    if (!decision.promote) {
      const durationSeconds = (this.now() - started) / 1000;
      const reason = decision.overCap ? RejectReason.RelabelCap : RejectReason.NotBetter;
      return { ...common, accepted: false, reason, detail: decision.detail, durationSeconds };
    }
    const next = this.promote(shadow, holdout, { mapping, promotion, clusterIds: ids.clusterIds });
    const after = this.model.assign(holdout);
    return {
      ...common,
      accepted: true,
      detail: decision.detail,
      snapshot: next,
      durationSeconds: (this.now() - started) / 1000,
      clusterSizes: softSizes(after.q, after.rows, after.clusters),
    };
  }

  /**
   * The shadow's clusters matched to the serving ids on the same records, the ids it would publish,
   * and the share of records it would move between ids both versions keep.
   */
  private matchShadow(
    servedLabels: Int32Array,
    shadowLabels: Int32Array,
  ): {
    mapping: IdMapping;
    ids: { clusterIds: number[]; renewed: readonly RenewedId[] };
    reassigned: number;
  } {
    const mapping = matchClusterIds(servedLabels, shadowLabels, this.snapshot.parameters.clusters);
    const matched = relabel(shadowLabels, mapping.permutation);
    const ids = this.carriedIds(servedLabels, matched);
    const keepsId = keptIds(clusterIdsOf(this.snapshot), ids.clusterIds);
    return { mapping, ids, reassigned: reassignedShare(servedLabels, matched, keepsId) };
  }

  /** The shadow as the next version, its clusters in the serving ids' order. */
  private promote(
    shadow: Shadow,
    holdout: Matrix,
    matched: { mapping: IdMapping; promotion: PromotionRecord; clusterIds: number[] },
  ): ModelSnapshot {
    const { mapping, promotion, clusterIds } = matched;
    const metrics = { ...shadow.metrics, promotion };
    metrics.clusterSizes = permuteValues(shadow.metrics.clusterSizes, mapping);
    const parameters = applyIdMapping(shadow.parameters, mapping);
    return this.nextVersion(parameters, holdout, {
      options: shadow.options,
      metrics,
      clusterIds,
    });
  }

  /**
   * The criterion of both partitions of `holdout`, on kNN graphs of its inputs and of both models'
   * embeddings (each model gets its own space once, so neither is favoured).
   */
  private async scoreShadow(
    shadow: Shadow,
    holdout: Matrix,
    servedLabels: Int32Array,
    criterion: CriterionOptions,
  ): Promise<{ shadowLabels: Int32Array; servingScore: number; shadowScore: number }> {
    const candidate = ModelVersion.ofParameters(shadow.parameters);
    try {
      const shadowLabels = candidate.labels(holdout);
      const spaces = [holdout, this.model.embed(holdout), candidate.embed(holdout)];
      const graphs = await SharedGraphs.build(spaces, criterion);
      const k = shadow.parameters.clusters;
      return {
        shadowLabels,
        ...scoresOf(graphs.scorePair(servedLabels, shadowLabels, k, SEPARATE_GROUPS_MAX_CUT)),
      };
    } finally {
      candidate.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
    this.shadow = undefined;
  }

  /**
   * The mini-batch KL update: with `updateEncoder`, first a pass over encoder, decoder and centroids
   * at the small encoder rate (IDEC's reconstruction term guards the embedding), then a pass over the
   * centroids alone at their own rate. Loss before is the first pass's, loss after the last one's.
   */
  private step(start: DecParameters, window: Matrix, sizes: Float32Array): RefineStepResult {
    const { settings } = this;
    const run = (parameters: DecParameters, encoder: boolean): RefineStepResult => {
      // The step returns plain arrays only; the scope frees any tensor it leaves behind.
      let result: RefineStepResult | undefined;
      tf.tidy(() => {
        result = refineStep(parameters, window, sizes, {
          learningRate: encoder ? settings.encoderLearningRate : settings.learningRate,
          steps: settings.steps,
          updateEncoder: encoder,
          gamma: settings.gamma,
          batchSize: settings.batchSize,
        });
      });
      if (result === undefined) throw new Error('refineStep returned nothing');
      return result;
    };
    if (!settings.updateEncoder) return run(start, false);
    const encoderPass = run(start, true);
    if (!parametersAreFinite(encoderPass.parameters)) return encoderPass;
    const centroidPass = run(encoderPass.parameters, false);
    return { ...centroidPass, lossBefore: encoderPass.lossBefore };
  }

  /** The version after the serving one, with statistics of `window` (the records it was made on). */
  private nextVersion(
    parameters: DecParameters,
    window: Matrix,
    extra: Partial<Pick<ModelSnapshot, 'options' | 'metrics' | 'clusterIds'>> = {},
  ): ModelSnapshot {
    const next: ModelSnapshot = {
      ...this.snapshot,
      ...extra,
      version: this.snapshot.version + 1,
      createdAt: new Date().toISOString(),
      parameters,
      clusterStatistics: versionStatistics(parameters, window, this.snapshot.standardisation),
    };
    this.model.dispose();
    this.snapshot = next;
    this.model = new ModelVersion(next);
    return next;
  }
}

/** The rejection when the chosen candidate scores worse than the serving version, else undefined. */
function worseThanReference(
  choice: {
    method: RefinementMethod;
    criterion?: { serving: number; candidate: number };
  },
  reference: string,
): { reason: string; detail: string } | undefined {
  const c = choice.criterion;
  if (c === undefined || c.candidate <= c.serving) return undefined;
  return {
    reason: RejectReason.Criterion,
    detail: `the best candidate (${choice.method}) scores ${c.candidate.toFixed(4)} against ${reference}'s ${c.serving.toFixed(4)} (mean normalised cut, lower is better)`,
  };
}

/** Largest centroid move between two parameter sets in the same embedding. */
function centroidShiftOf(before: DecParameters, after: DecParameters): number {
  return centroidShift(before.centroids, after.centroids, before.clusters, before.embeddingSize)
    .max;
}

/** The retrain's parameters with its centroids renumbered to the old ids. */
function matchedParameters(parameters: DecParameters, permutation: Int32Array): DecParameters {
  return {
    ...parameters,
    centroids: permuteRows(parameters.centroids, permutation, parameters.embeddingSize),
  };
}

/** Σ_i q_ij for each cluster j. */
export function softSizes(q: Float32Array, rows: number, clusters: number): Float32Array {
  const out = new Float32Array(clusters);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < clusters; j++) out[j] = (out[j] ?? 0) + (q[i * clusters + j] ?? 0);
  }
  return out;
}

/** The share of `labels` in each of `clusters` clusters. */
function labelShares(labels: Int32Array, clusters: number): Float64Array {
  const shares = new Float64Array(clusters);
  for (const c of labels) shares[c] = (shares[c] ?? 0) + 1 / labels.length;
  return shares;
}

/** A pair score (serving first) as the promotion names it. */
function scoresOf(pair: { readonly a: number; readonly b: number }): {
  servingScore: number;
  shadowScore: number;
} {
  return { servingScore: pair.a, shadowScore: pair.b };
}
