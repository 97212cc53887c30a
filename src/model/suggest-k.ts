/**
 * Choosing the number of clusters k: for each k in a range, k-means in one space, then internal
 * validity indices of that partition (cluster-validity.ts), the normalised cut on the space's
 * nearest-neighbour graph (partition-score.ts). A criterion turns the table into one recommended k.
 *
 * The gap statistic (Tibshirani, Walther & Hastie 2001) was tried and left out: against uniform
 * reference data in the box of a UMAP layout or an autoencoder embedding it rose with every k, and
 * its reference k-means runs cost several times the rest of the scoring.
 */
import {
  calinskiHarabasz,
  daviesBouldin,
  pairwiseDistances,
  silhouette,
} from './cluster-validity.js';
import { reorderRows } from './canonical-order.js';
import { sampleRowIndices } from './shared-graphs.js';
import { nearestNeighbourGraph, normalisedCut } from './partition-score.js';
import { yieldToEventLoop } from './pretrain.js';
import type { SeededRandom } from './rng.js';
import { tensorKmeans } from './tensor-kmeans.js';
import type { Matrix } from './types.js';

export interface ClusterCountRange {
  readonly min: number;
  readonly max: number;
}

/** The scores of k-means' partition into k clusters. */
export interface ClusterCountScore {
  readonly k: number;
  /** Mean silhouette on a sample of rows; higher is better. */
  readonly silhouette: number;
  /** Calinski–Harabasz; higher is better. */
  readonly calinskiHarabasz: number;
  /** Davies–Bouldin; lower is better. */
  readonly daviesBouldin: number;
  /** Mean normalised cut on the k-nearest-neighbour graph; grows with k. */
  readonly normalisedCut: number;
  /** The smallest cluster's share of the rows. */
  readonly smallestShare: number;
}

export interface ClusterCountScoringOptions {
  /** k-means restarts per k (lowest inertia wins). */
  readonly restarts?: number;
  /** Rows of the silhouette's sample. */
  readonly silhouetteRows?: number;
  /** Neighbours per row of the normalised cut's graph. */
  readonly neighbours?: number;
  readonly signal?: AbortSignal;
}

export const SCORING_DEFAULTS = {
  restarts: 10,
  silhouetteRows: 1000,
  neighbours: 10,
} as const;

export function checkClusterCountRange(range: ClusterCountRange, rows: number): void {
  const { min, max } = range;
  if (!Number.isInteger(min) || min < 2) {
    throw new RangeError(`the smallest number of clusters must be an integer >= 2, got ${min}`);
  }
  if (!Number.isInteger(max) || max < min) {
    throw new RangeError(
      `the largest number of clusters must be an integer >= the smallest (${min}), got ${max}`,
    );
  }
  if (max >= rows) {
    throw new RangeError(
      `cannot score up to ${max} clusters on ${rows} rows: use a smaller maximum`,
    );
  }
}

function smallestShare(labels: Int32Array, clusters: number): number {
  const sizes = new Float64Array(clusters);
  for (const label of labels) sizes[label]! += 1;
  return Math.min(...sizes) / labels.length;
}

/**
 * Scores k-means' partition of `space` for every k in the range. Deterministic for the same
 * space and rng state.
 */
export async function scoreClusterCounts(
  space: Matrix,
  range: ClusterCountRange,
  rng: SeededRandom,
  options: ClusterCountScoringOptions = {},
): Promise<ClusterCountScore[]> {
  checkClusterCountRange(range, space.rows);
  const o = { ...SCORING_DEFAULTS, ...options };
  const neighbours = Math.min(o.neighbours, space.rows - 1);
  const graph = await nearestNeighbourGraph(space, neighbours);
  const sample = sampleRowIndices(space.rows, o.silhouetteRows, rng);
  const distances = pairwiseDistances(reorderRows(space, sample));
  const scores: ClusterCountScore[] = [];
  for (let k = range.min; k <= range.max; k++) {
    o.signal?.throwIfAborted();
    await yieldToEventLoop();
    const { labels } = await tensorKmeans(space, k, o.restarts, rng);
    scores.push({
      k,
      silhouette: silhouette(
        distances,
        Int32Array.from(sample, (r) => labels[r]!),
        k,
      ),
      calinskiHarabasz: calinskiHarabasz(space, labels, k),
      daviesBouldin: daviesBouldin(space, labels, k),
      normalisedCut: normalisedCut(graph, neighbours, labels, k),
      smallestShare: smallestShare(labels, k),
    });
  }
  return scores;
}

/** Which index turns a table of scores into one k. */
export const ClusterCountCriterion = {
  /** The mean silhouette; higher is better. */
  Silhouette: 'silhouette',
  /** The Calinski–Harabasz index; higher is better. */
  CalinskiHarabasz: 'calinski-harabasz',
  /** The Davies–Bouldin index; lower is better. */
  DaviesBouldin: 'davies-bouldin',
} as const;
export type ClusterCountCriterion =
  (typeof ClusterCountCriterion)[keyof typeof ClusterCountCriterion];

/** Each criterion as a value to maximise. */
const higherIsBetter: Record<ClusterCountCriterion, (s: ClusterCountScore) => number> = {
  silhouette: (s) => s.silhouette,
  'calinski-harabasz': (s) => s.calinskiHarabasz,
  'davies-bouldin': (s) => -s.daviesBouldin,
};

/**
 * The recommended k: the smallest k whose criterion is within `tolerance` (absolute, in the
 * criterion's units) of the best value in the table. With tolerance 0 that is the best k (ties go
 * to the smaller k); a small tolerance prefers fewer clusters when more score barely better, in
 * the spirit of the one-standard-error rule: a UMAP layout tends to break a cluster into pieces
 * that look as well separated as the whole.
 */
export function recommendClusterCount(
  scores: readonly ClusterCountScore[],
  criterion: ClusterCountCriterion,
  tolerance = 0,
): number {
  if (scores.length === 0) throw new RangeError('no scores to choose from');
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const value = higherIsBetter[criterion];
  const best = Math.max(...scores.map(value));
  return scores.find((s) => value(s) >= best - tolerance)!.k;
}
