/**
 * Stable cluster ids across model versions. A new model (a promoted retrain, or a refinement that
 * re-seeded clusters) numbers its clusters as it likes; downstream consumers store ids. So the new
 * clusters are matched to the old ids by the Hungarian method on the assignments of the same
 * records under both models: the matching maximises the records whose id stays the same.
 * The report says how well that worked, per id and overall.
 */
import type { ClusterOverlap, DecParameters, IdMappingReport } from '../model/types.js';
import type { RenewedId } from '../model/cluster-ids.js';
import { matchByOverlap, permuteRows, relabel } from './refinement-policy.js';

export interface IdMapping {
  /** permutation[id] = the new model's own index of the cluster that takes id `id`. */
  readonly permutation: Int32Array;
  /** Per id: how many of its records keep it. */
  readonly overlap: readonly ClusterOverlap[];
  /** Records compared. */
  readonly records: number;
  /** Fraction of the records whose id changed, after matching: 0 when the models agree. */
  readonly labelChangeRatio: number;
}

/**
 * Matches the new model's clusters to the old ids by the records both labelled (`oldLabels[i]`
 * and `newLabels[i]` are the same record). Hungarian on the k × k contingency table.
 */
export function matchClusterIds(
  oldLabels: ArrayLike<number>,
  newLabels: ArrayLike<number>,
  clusters: number,
): IdMapping {
  if (oldLabels.length !== newLabels.length) {
    throw new RangeError(
      `matching needs the same records under both models (${oldLabels.length} vs ${newLabels.length})`,
    );
  }
  const permutation = matchByOverlap(oldLabels, newLabels, clusters);
  const mapped = relabel(newLabels, permutation);
  const records = new Array<number>(clusters).fill(0);
  const kept = new Array<number>(clusters).fill(0);
  let changed = 0;
  for (let i = 0; i < oldLabels.length; i++) {
    const id = oldLabels[i] ?? -1;
    if (id < 0 || id >= clusters) continue;
    records[id] = (records[id] ?? 0) + 1;
    if (mapped[i] === id) kept[id] = (kept[id] ?? 0) + 1;
    else changed++;
  }
  const overlap = records.map((n, id): ClusterOverlap => ({
    id,
    from: permutation[id] ?? id,
    records: n,
    kept: n > 0 ? (kept[id] ?? 0) / n : null,
  }));
  const total = oldLabels.length;
  return {
    permutation,
    overlap,
    records: total,
    labelChangeRatio: total > 0 ? changed / total : 0,
  };
}

/**
 * Share of the records that move from one cluster to another while both clusters keep their ids:
 * a border redrawn between groups that go on meaning what they meant. A record whose old cluster's
 * id is retired, or whose new cluster is published under a fresh id (cluster-ids.ts), is not
 * counted: those ids announce that their meaning changed, and a retired id is never reused.
 *
 * @param before  the serving version's clusters of the records
 * @param after   the new version's clusters of the same records, matched to the serving numbering
 * @param keepsId keepsId[c]: cluster c publishes the same id in both versions
 */
export function reassignedShare(
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  keepsId: readonly boolean[],
): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) {
    const from = before[i] as number;
    const to = after[i] as number;
    if (from !== to && keepsId[from] === true && keepsId[to] === true) moved++;
  }
  return before.length > 0 ? moved / before.length : 0;
}

/** The mapping as plain JSON. */
export function idMappingReport(
  mapping: IdMapping,
  ids: { renewed: readonly RenewedId[] } = { renewed: [] },
): IdMappingReport {
  return {
    permutation: Array.from(mapping.permutation),
    overlap: mapping.overlap,
    records: mapping.records,
    labelChangeRatio: mapping.labelChangeRatio,
    ...(ids.renewed.length === 0 ? {} : { renewed: ids.renewed }),
  };
}

/** The new model's parameters with its clusters renumbered to the matched ids. */
export function applyIdMapping(parameters: DecParameters, mapping: IdMapping): DecParameters {
  return {
    ...parameters,
    centroids: permuteRows(parameters.centroids, mapping.permutation, parameters.embeddingSize),
  };
}

/** Per-cluster values (sizes, shares) of the new model, renumbered to the matched ids. */
export function permuteValues(values: readonly number[], mapping: IdMapping): number[] {
  return Array.from(mapping.permutation, (from) => values[from] ?? 0);
}

/** One line for the log: `id←new (kept %)` per id and the overall change. */
export function describeIdMapping(
  mapping: Pick<IdMappingReport, 'overlap' | 'records' | 'labelChangeRatio' | 'renewed'>,
): string {
  const pairs = mapping.overlap
    .map((o) => `${o.id}←${o.from} (${o.kept === null ? '-' : `${(100 * o.kept).toFixed(1)}%`})`)
    .join(' ');
  const renewed = (mapping.renewed ?? []).map((r) => `${r.retired}→${r.id}`).join(' ');
  const fresh = renewed === '' ? '' : `; new groups, ids retired→new: ${renewed}`;
  return `${(100 * mapping.labelChangeRatio).toFixed(2)}% of ${mapping.records} recent records change id; ${pairs}${fresh}`;
}
