/**
 * The unsupervised criterion online decisions are made by, the same the bootstrap's guard uses
 * (model/model-guard.ts): the normalised cut of a partition on k-nearest-neighbour graphs,
 * averaged over spaces every candidate shares. Lower is better.
 *
 * The graphs are built once per decision on a seeded sample of rows (a kNN graph costs
 * rows² · width), and every candidate's labels are then scored on them, which is cheap.
 */
import { sampleRowIndices } from '../model/model-guard.js';
import { reorderRows } from '../model/canonical-order.js';
import { nearestNeighbourGraph, normalisedCut } from '../model/partition-score.js';
import { SeededRandom } from '../model/rng.js';
import type { Matrix } from '../model/types.js';

export interface CriterionOptions {
  /** Neighbours per row in each graph. */
  readonly neighbours: number;
  /** Rows the graphs are built on (a seeded sample when there are more). */
  readonly sampleRows: number;
  readonly seed: number;
}

export const defaultCriterionOptions: CriterionOptions = {
  neighbours: 10,
  sampleRows: 1000,
  seed: 1,
};

/** kNN graphs of the same rows in several spaces, to score partitions of those rows on. */
export class SharedGraphs {
  private constructor(
    private readonly rows: Int32Array,
    private readonly neighbours: number,
    private readonly graphs: readonly Int32Array[],
  ) {}

  /**
   * Builds one graph per space. Every space holds the same records in the same order (row i of
   * each is record i): the inputs, or an embedding of them.
   */
  static async build(spaces: readonly Matrix[], options: CriterionOptions): Promise<SharedGraphs> {
    const first = spaces[0];
    if (first === undefined) throw new RangeError('the criterion needs at least one space');
    const rows = sampleRowIndices(first.rows, options.sampleRows, new SeededRandom(options.seed));
    const graphs: Int32Array[] = [];
    for (const space of spaces) {
      if (space.rows !== first.rows) throw new RangeError('every space must hold the same rows');
      const picked = rows.length === space.rows ? space : reorderRows(space, rows);
      graphs.push(await nearestNeighbourGraph(picked, options.neighbours));
    }
    return new SharedGraphs(rows, Math.min(options.neighbours, rows.length - 1), graphs);
  }

  /** The normalised cut of `labels` (one per record of the spaces) on each graph. */
  cuts(labels: Int32Array, clusters: number): number[] {
    const picked =
      this.rows.length === labels.length ? labels : Int32Array.from(this.rows, (r) => labels[r]!);
    return this.graphs.map((graph) => normalisedCut(graph, this.neighbours, picked, clusters));
  }

  /** The criterion: the mean normalised cut over the spaces. Lower is better. */
  score(labels: Int32Array, clusters: number): number {
    const cuts = this.cuts(labels, clusters);
    return cuts.reduce((sum, c) => sum + c, 0) / cuts.length;
  }
}

export interface PromotionDecision {
  readonly promote: boolean;
  /** Criterion of the serving model's partition (lower is better). */
  readonly servingScore: number;
  readonly shadowScore: number;
  /** The shadow must score below servingScore × (1 − margin). */
  readonly margin: number;
  readonly detail: string;
}

/**
 * Promote the shadow only when its criterion beats the serving model's by the relative margin:
 * a retrain that is merely as good would renumber nothing useful and cost a version.
 */
export function decidePromotion(
  servingScore: number,
  shadowScore: number,
  margin: number,
): PromotionDecision {
  const bar = servingScore * (1 - margin);
  const promote = Number.isFinite(shadowScore) && shadowScore < bar;
  const detail =
    `criterion (mean normalised cut, lower is better): shadow ${shadowScore.toFixed(4)}, ` +
    `serving ${servingScore.toFixed(4)}, bar ${bar.toFixed(4)} (margin ${(100 * margin).toFixed(1)}%)`;
  return { promote, servingScore, shadowScore, margin, detail };
}
