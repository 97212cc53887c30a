/**
 * The guard: the deep model serves only when an unsupervised criterion prefers its partition to
 * k-means' on the inputs by a margin. k-means on standardised inputs is strong on tables (CLUBench
 * 2026 found no deep method better on average), so it is always a candidate, and the simpler model
 * wins a tie.
 *
 * The criterion (shared-graphs.ts) is the normalised cut of each candidate's partition, averaged
 * over k-nearest-neighbour graphs built in spaces both candidates share: the standardised inputs and
 * the pretrained autoencoder's embedding. Lower is better. The fine-tuned embedding is scored too and
 * reported, but left out of the criterion: it is the deep model's own space, where its partition
 * always looks best (on the quality suite's tuning half it chose the deep model on every set,
 * including the two where it lost to k-means; bench/suite.ts).
 */
import type { SeededRandom } from './rng.js';
import { SharedGraphs } from './shared-graphs.js';
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
  const graphs = await SharedGraphs.build(
    SelectionSpaces.map((s) => spaces[s]),
    options,
    rng,
  );
  const candidates = ([ModelKind.Kmeans, ModelKind.Dec] as const).map((kind): CandidateScore => {
    const cuts = graphs.cuts(partitions[kind], options.clusters);
    const cut = Object.fromEntries(SelectionSpaces.map((s, i) => [s, cuts[i]!])) as Record<
      SelectionSpace,
      number
    >;
    return { kind, cut, score: criterionScore(cut) };
  });
  const [kmeans, dec] = candidates as [CandidateScore, CandidateScore];
  const chosen = dec.score < kmeans.score * (1 - options.margin) ? ModelKind.Dec : ModelKind.Kmeans;
  return { chosen, criterion: 'mean-normalised-cut', margin: options.margin, candidates };
}
