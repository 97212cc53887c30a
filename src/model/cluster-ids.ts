/**
 * The ids clusters are published under. A model numbers its clusters 0..k-1 (the centroids' rows);
 * downstream consumers store the published id, so an id must keep one meaning for the life of the
 * stream. When a model version makes a cluster out of a group that no earlier id held (a re-seeded
 * centroid, a shadow's cluster for a newcomer), that cluster gets an id no version has used, and
 * the id it replaces is retired rather than handed over.
 */
import type { ModelSnapshot } from './types.js';

/** The id each cluster of `snapshot` is published under, in centroid order. */
export function clusterIdsOf(snapshot: Pick<ModelSnapshot, 'clusterIds' | 'parameters'>): number[] {
  const k = snapshot.parameters.clusters;
  const ids = snapshot.clusterIds;
  if (ids === undefined) return Array.from({ length: k }, (_, c) => c);
  if (ids.length !== k) {
    throw new RangeError(`the snapshot has ${k} clusters but ${ids.length} cluster ids`);
  }
  return [...ids];
}

/** A cluster that stopped being what its id meant: the id retired and the one that replaced it. */
export interface RenewedId {
  readonly retired: number;
  readonly id: number;
}

export interface CarriedIds {
  /** The id of each cluster of the new version, in its centroid order. */
  readonly ids: number[];
  readonly renewed: readonly RenewedId[];
}

/** Below this many records a cluster keeps its id: too few to say it is a new group. */
export const RENEW_MIN_RECORDS = 10;

/**
 * The ids of a new version whose clusters were already matched to the previous version's
 * (cluster c of the new version took the previous version's cluster c). A cluster keeps the
 * previous id unless it is mostly new: at least `minRecords` of the recent records fall in it,
 * and fewer than half of them were in that id before (a group that an earlier id held only in
 * part, or not at all). A cluster in `reseeded` (its centroid moved to another group) is new
 * unless the records show the opposite: at least `minRecords` of them, at least half of them
 * from its id (the matching can give the re-seeded half of a split the split cluster's id).
 * New clusters get fresh ids above every id used so far, in cluster order.
 *
 * @param previous the previous version's ids, in its centroid order
 * @param before   the previous version's clusters (indices) of the recent records
 * @param after    the new version's clusters (indices, matched) of the same records
 *
 * The previous version's largest id is the largest any version has used: each fresh id is larger
 * than every id before it, and it stays in use until a larger one replaces it.
 */
export function carryClusterIds(
  previous: readonly number[],
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  options: { reseeded?: Iterable<number>; minRecords?: number } = {},
): CarriedIds {
  const k = previous.length;
  const members = new Array<number>(k).fill(0);
  const stayed = new Array<number>(k).fill(0);
  for (let i = 0; i < after.length; i++) {
    const c = after[i] as number;
    if (c < 0 || c >= k) continue;
    members[c]!++;
    if (before[i] === c) stayed[c]!++;
  }
  const minRecords = options.minRecords ?? RENEW_MIN_RECORDS;
  const reseeded = new Set(options.reseeded ?? []);
  let next = Math.max(-1, ...previous) + 1;
  const ids = [...previous];
  const renewed: RenewedId[] = [];
  for (let c = 0; c < k; c++) {
    const enough = members[c]! >= minRecords;
    const mostlyNew = enough && 2 * stayed[c]! < members[c]!;
    const mostlyOld = enough && !mostlyNew;
    if (!mostlyNew && !(reseeded.has(c) && !mostlyOld)) continue;
    renewed.push({ retired: previous[c]!, id: next });
    ids[c] = next++;
  }
  return { ids, renewed };
}

/** Per cluster of a new version: whether it publishes the id its place had in the previous one. */
export function keptIds(previous: readonly number[], next: readonly number[]): boolean[] {
  return next.map((id, c) => id === previous[c]);
}
