/**
 * The guard: the deep model serves only when an unsupervised criterion prefers its partition to
 * k-means' on the inputs by a margin. k-means on standardised inputs is strong on tables (CLUBench
 * 2026 found no deep method better on average), so it is always a candidate, and the simpler model
 * wins a tie.
 *
 * The criterion is the normalised cut (partition-score.ts) of each candidate's partition, averaged
 * over k-nearest-neighbour graphs built in spaces both candidates share: the standardised inputs and
 * the pretrained autoencoder's embedding. Lower is better. The fine-tuned embedding is scored too and
 * reported, but left out of the criterion: it is the deep model's own space, where its partition
 * always looks best (on the quality suite's tuning half it chose the deep model on every set,
 * including the two where it lost to k-means; bench/suite.ts).
 */
import { reorderRows } from './canonical-order.js';
import { nearestNeighbourGraph, normalisedCut } from './partition-score.js';
import type { SeededRandom } from './rng.js';
import type { Matrix } from './types.js';

export const ModelKind = { Dec: 'dec', Kmeans: 'kmeans' } as const;
export type ModelKind = (typeof ModelKind)[keyof typeof ModelKind];

/** The spaces candidates are scored in, by name. */
export const SelectionSpaces = ['input', 'pretrained', 'final'] as const;
export type SelectionSpace = (typeof SelectionSpaces)[number];
/** The spaces whose scores make the criterion: those the candidates share. */
export const CriterionSpaces: readonly SelectionSpace[] = ['input', 'pretrained'];

/** The criterion from a candidate's cut in each space. */
export function criterionScore(cut: Readonly<Record<SelectionSpace, number>>): number {
  return CriterionSpaces.reduce((sum, s) => sum + cut[s], 0) / CriterionSpaces.length;
}

export interface GuardOptions {
  readonly clusters: number;
  /** Neighbours per row in each graph. */
  readonly neighbours: number;
  /** Rows the graphs are built on (a seeded sample when there are more). */
  readonly sampleRows: number;
  /** The deep model serves when its score is below (1 - margin) times k-means' score. */
  readonly margin: number;
}

export interface CandidateScore {
  readonly kind: ModelKind;
  /** Normalised cut of the candidate's partition on each space's graph. */
  readonly cut: Readonly<Record<SelectionSpace, number>>;
  /** The criterion: the mean over CriterionSpaces. */
  readonly score: number;
}

export interface GuardDecision {
  readonly chosen: ModelKind;
  readonly criterion: 'mean-normalised-cut';
  readonly margin: number;
  readonly candidates: readonly CandidateScore[];
}

/** Sorted row indices of a seeded sample of `wanted` rows (all rows when there are fewer). */
export function sampleRowIndices(rows: number, wanted: number, rng: SeededRandom): Int32Array {
  if (rows <= wanted) return Int32Array.from({ length: rows }, (_, i) => i);
  return rng.permutation(rows).subarray(0, wanted).sort();
}

function pickRows(x: Matrix, rows: Int32Array): Matrix {
  return rows.length === x.rows ? x : reorderRows(x, rows);
}

function pickLabels(labels: Int32Array, rows: Int32Array): Int32Array {
  return rows.length === labels.length ? labels : Int32Array.from(rows, (r) => labels[r]!);
}

/** Scores partitions of one row sample on nearest-neighbour graphs of some spaces. */
export interface PartitionJudge {
  /** Normalised cut of `labels` (one per row of the full set) on each space's graph. */
  cuts(labels: Int32Array): Partial<Record<SelectionSpace, number>>;
}

/**
 * Builds the nearest-neighbour graph of each given space on the same seeded sample of rows, once,
 * so that any number of candidate partitions can be scored on them.
 */
export async function partitionJudge(
  spaces: Partial<Readonly<Record<SelectionSpace, Matrix>>>,
  options: Pick<GuardOptions, 'clusters' | 'neighbours' | 'sampleRows'>,
  rng: SeededRandom,
): Promise<PartitionJudge> {
  const present = SelectionSpaces.filter((s) => spaces[s] !== undefined);
  const rows = sampleRowIndices(spaces[present[0]!]!.rows, options.sampleRows, rng);
  const graphs: { space: SelectionSpace; graph: Int32Array }[] = [];
  for (const space of present) {
    const graph = await nearestNeighbourGraph(pickRows(spaces[space]!, rows), options.neighbours);
    graphs.push({ space, graph });
  }
  const neighbours = Math.min(options.neighbours, rows.length - 1);
  return {
    cuts: (labels) => {
      const picked = pickLabels(labels, rows);
      return Object.fromEntries(
        graphs.map(({ space, graph }) => [
          space,
          normalisedCut(graph, neighbours, picked, options.clusters),
        ]),
      );
    },
  };
}

/** The criterion of a partition, from a judge that has (at least) the criterion's spaces. */
export function judgedScore(judge: PartitionJudge, labels: Int32Array): number {
  return criterionScore(judge.cuts(labels) as Record<SelectionSpace, number>);
}

/**
 * Scores k-means' and the deep model's partitions in every space and chooses: the deep model when
 * its score is lower than k-means' by more than the relative margin, k-means otherwise.
 */
export async function guardChoice(
  spaces: Readonly<Record<SelectionSpace, Matrix>>,
  partitions: Readonly<Record<ModelKind, Int32Array>>,
  options: GuardOptions,
  rng: SeededRandom,
): Promise<GuardDecision> {
  const judge = await partitionJudge(spaces, options, rng);
  const candidates = ([ModelKind.Kmeans, ModelKind.Dec] as const).map((kind): CandidateScore => {
    const cut = judge.cuts(partitions[kind]) as Record<SelectionSpace, number>;
    return { kind, cut, score: criterionScore(cut) };
  });
  const [kmeans, dec] = candidates as [CandidateScore, CandidateScore];
  const chosen = dec.score < kmeans.score * (1 - options.margin) ? ModelKind.Dec : ModelKind.Kmeans;
  return { chosen, criterion: 'mean-normalised-cut', margin: options.margin, candidates };
}
