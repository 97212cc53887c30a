/**
 * The unsupervised criterion every choice between partitions is made by: the bootstrap's guard
 * (model-guard.ts), the manifold start's pick among UMAP starts (train-dec.ts), and online, the
 * refinement's candidates and the promotion of a retrained model (online/refinement-engine.ts).
 * It is the normalised cut of a partition (partition-score.ts) on k-nearest-neighbour graphs,
 * averaged over spaces every candidate shares. Lower is better.
 *
 * The graphs are built once per decision on a seeded sample of rows (a kNN graph costs
 * rows² · width), and every candidate's labels are then scored on them, which is cheap.
 */
import { reorderRows } from './canonical-order.js';
import { mergedAgainst, nearestNeighbourGraph, normalisedCut } from './partition-score.js';
import { SeededRandom } from './rng.js';
import type { Matrix } from './types.js';

/** Sorted row indices of a seeded sample of `wanted` rows (all rows when there are fewer). */
export function sampleRowIndices(rows: number, wanted: number, rng: SeededRandom): Int32Array {
  if (rows <= wanted) return Int32Array.from({ length: rows }, (_, i) => i);
  return rng.permutation(rows).subarray(0, wanted).sort();
}

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
   * each is record i): the inputs, or an embedding of them. The row sample is drawn from `rng`,
   * by default a stream seeded with `options.seed`.
   */
  static async build(
    spaces: readonly Matrix[],
    options: Pick<CriterionOptions, 'neighbours' | 'sampleRows'> & { readonly seed?: number },
    rng: SeededRandom = new SeededRandom(options.seed ?? 1),
  ): Promise<SharedGraphs> {
    const first = spaces[0];
    if (first === undefined) throw new RangeError('the criterion needs at least one space');
    const rows = sampleRowIndices(first.rows, options.sampleRows, rng);
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
    const picked = this.pick(labels);
    return this.graphs.map((graph) => normalisedCut(graph, this.neighbours, picked, clusters));
  }

  /** The criterion: the mean normalised cut over the spaces. Lower is better. */
  score(labels: Int32Array, clusters: number): number {
    const cuts = this.cuts(labels, clusters);
    return cuts.reduce((sum, c) => sum + c, 0) / cuts.length;
  }

  /**
   * The criterion of two partitions with the same k judged against each other: each one's mean
   * normalised cut plus the share of rows it merges that the other keeps apart (`mergedAgainst`).
   * The cut alone cannot see a merge (two separate groups in one cluster cut no edge), so between
   * a model that merges a new group into a neighbour and one that gives it a cluster, it prefers
   * the merge; this charges each partition for the separate groups it merges. Lower is better.
   */
  scorePair(
    a: Int32Array,
    b: Int32Array,
    clusters: number,
    maxCut: number,
  ): { readonly a: number; readonly b: number } {
    const pa = this.pick(a);
    const pb = this.pick(b);
    let scoreA = 0;
    let scoreB = 0;
    for (const graph of this.graphs) {
      scoreA +=
        normalisedCut(graph, this.neighbours, pa, clusters) +
        mergedAgainst(graph, this.neighbours, pa, pb, clusters, maxCut);
      scoreB +=
        normalisedCut(graph, this.neighbours, pb, clusters) +
        mergedAgainst(graph, this.neighbours, pb, pa, clusters, maxCut);
    }
    return { a: scoreA / this.graphs.length, b: scoreB / this.graphs.length };
  }

  /** The sampled rows' labels. */
  private pick(labels: Int32Array): Int32Array {
    return this.rows.length === labels.length
      ? labels
      : Int32Array.from(this.rows, (r) => labels[r]!);
  }
}
