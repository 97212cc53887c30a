/**
 * Suggests the number of clusters for a data set: pretrain the autoencoder once, as training
 * would (cluster-count-spaces.ts), then score k-means' partition for each k in a range in one of
 * its spaces (suggest-k.ts) and pick k by one criterion. Used by `dec-stream suggest-k`, by
 * `dec-stream train --clusters auto` and by the worker's bootstrap with DEC_CLUSTERS=auto.
 */
import type { ScalingMode } from './standardise.js';
import { clusterCountSpaces, type ClusterCountSpaceOptions } from './cluster-count-spaces.js';
import type { TrainingHooks } from './pretrain.js';
import { SeededRandom } from './rng.js';
import {
  checkClusterCountRange,
  ClusterCountCriterion,
  recommendClusterCount,
  scoreClusterCounts,
  type ClusterCountRange,
  type ClusterCountScore,
} from './suggest-k.js';
import { standardisedTrainingMatrix } from './training-matrix.js';
import type { Matrix } from './types.js';
import { UsageError } from '../errors.js';

/** Where k-means runs and is scored: the pretrained embedding or its UMAP layout. */
export type ClusterCountSpace = 'embedding' | 'layout';

export interface ClusterCountRule {
  readonly space: ClusterCountSpace;
  readonly criterion: ClusterCountCriterion;
  /** The smallest k within this much of the best value wins (recommendClusterCount). */
  readonly tolerance: number;
}

/**
 * The rule chosen on the quality suite's tuning half (bench/suggest-k.ts; see
 * docs/choosing-settings.md for its hit rates on both halves).
 */
export const DEFAULT_CLUSTER_COUNT_RULE: ClusterCountRule = Object.freeze({
  space: 'layout',
  criterion: ClusterCountCriterion.Silhouette,
  tolerance: 0.01,
});

export const DEFAULT_CLUSTER_COUNT_RANGE: ClusterCountRange = Object.freeze({ min: 2, max: 20 });

export interface ClusterCountSuggestion {
  /** The recommended number of clusters. */
  readonly clusters: number;
  readonly rule: ClusterCountRule;
  /** One row per k of the range, in the rule's space. */
  readonly scores: readonly ClusterCountScore[];
  /** Rows the scores were computed on (a sample of the data when it is large). */
  readonly rows: number;
  /** Feature columns of the input. */
  readonly columns: number;
  /** Feature columns left out as training leaves them out (column-screening.ts). */
  readonly leftOutColumns: readonly string[];
  readonly wallMs: { readonly pretrain: number; readonly layout: number; readonly scoring: number };
}

export interface SuggestClustersOptions extends ClusterCountSpaceOptions {
  readonly range?: ClusterCountRange;
  readonly rule?: ClusterCountRule;
}

/** Suggests k for x, standardised as trainDec receives it. Same x and seed, same suggestion. */
export async function suggestClusters(
  x: Matrix,
  options: SuggestClustersOptions = {},
  hooks: TrainingHooks = {},
): Promise<ClusterCountSuggestion> {
  const {
    range = DEFAULT_CLUSTER_COUNT_RANGE,
    rule = DEFAULT_CLUSTER_COUNT_RULE,
    ...rest
  } = options;
  try {
    checkClusterCountRange(range, x.rows);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const spaces = await clusterCountSpaces(x, rest, hooks);
  const started = performance.now();
  const scores = await scoreClusterCounts(
    spaces[rule.space],
    range,
    new SeededRandom(options.seed ?? 1),
    hooks.signal === undefined ? {} : { signal: hooks.signal },
  );
  return {
    clusters: recommendClusterCount(scores, rule.criterion, rule.tolerance),
    rule,
    scores,
    rows: spaces.rows.length,
    columns: x.cols,
    leftOutColumns: [],
    wallMs: { ...spaces.wallMs, scoring: performance.now() - started },
  };
}

/** Suggests k for raw records, with the features and scaling that training would use. */
export async function suggestClustersForRecords(
  records: readonly unknown[],
  fields: readonly string[],
  options: SuggestClustersOptions & {
    readonly scaling?: ScalingMode | 'auto';
    readonly columnScreening?: boolean;
  } = {},
  hooks: TrainingHooks = {},
): Promise<ClusterCountSuggestion> {
  const { scaling, columnScreening, ...rest } = options;
  if (records.length === 0) throw new UsageError('there are no records to choose k on');
  const input = standardisedTrainingMatrix(records, fields, scaling, columnScreening ?? true);
  const suggestion = await suggestClusters(input.matrix, rest, hooks);
  return { ...suggestion, leftOutColumns: input.leftOutColumns };
}

/** The score table as plain rows, rounded for logs and JSON. */
export function clusterCountTable(scores: readonly ClusterCountScore[]): {
  k: number;
  silhouette: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
  normalisedCut: number;
  smallestShare: number;
}[] {
  const round = (v: number, digits: number): number => Number(v.toFixed(digits));
  return scores.map((s) => ({
    k: s.k,
    silhouette: round(s.silhouette, 4),
    calinskiHarabasz: round(s.calinskiHarabasz, 1),
    daviesBouldin: round(s.daviesBouldin, 4),
    normalisedCut: round(s.normalisedCut, 4),
    smallestShare: round(s.smallestShare, 4),
  }));
}

/** The rule in words, for the command's output and the worker's log. */
export function describeClusterCountRule(rule: ClusterCountRule): string {
  const where = `k-means in the ${rule.space === 'layout' ? 'UMAP layout' : 'embedding'}`;
  return rule.tolerance > 0
    ? `smallest k whose ${rule.criterion} of ${where} is within ${rule.tolerance} of the best`
    : `best ${rule.criterion} of ${where}`;
}
