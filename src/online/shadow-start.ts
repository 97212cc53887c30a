/**
 * The partition a 'hybrid' shadow model starts from. A shadow trained from its own initialisation
 * can find groups the serving model lacks or merges, but where clusters touch it also draws the
 * borders between the groups both models agree on somewhere else, and every moved record is a
 * changed id for a consumer. A shadow distilled from the serving labels keeps those borders but
 * cannot split what the serving model merged. The hybrid takes each from the model it trusts:
 * the serving label where both models hold the same group, the fresh model's label elsewhere.
 */
import { matchByOverlap, relabel } from './refinement-policy.js';

/**
 * Per record, the serving id when the serving cluster and the fresh cluster matched to it
 * (Hungarian on the same records) are the same group on both sides of that record, else the
 * fresh model's cluster under its matched id. `serving[i]` and `fresh[i]` label the same record.
 */
export function agreedPartition(
  serving: Int32Array,
  fresh: Int32Array,
  clusters: number,
): Int32Array {
  if (serving.length !== fresh.length) {
    throw new RangeError(`${serving.length} serving labels for ${fresh.length} fresh ones`);
  }
  const matched = relabel(fresh, matchByOverlap(serving, fresh, clusters));
  const same = sameGroups(serving, matched, clusters);
  return serving.map((id, i) => {
    const freshId = matched[i]!;
    return same[id] === true && same[freshId] === true ? id : freshId;
  });
}

/**
 * Per id: whether its serving cluster and its matched fresh cluster each hold more than half of
 * the other's records. A split, a merge or a new group fails it on at least one side; a border
 * that moved a little does not.
 */
function sameGroups(serving: Int32Array, matched: Int32Array, clusters: number): boolean[] {
  const servingSize = new Float64Array(clusters);
  const freshSize = new Float64Array(clusters);
  const shared = new Float64Array(clusters);
  for (let i = 0; i < serving.length; i++) {
    const id = serving[i]!;
    servingSize[id]! += 1;
    freshSize[matched[i]!]! += 1;
    if (matched[i] === id) shared[id]! += 1;
  }
  return Array.from(
    { length: clusters },
    (_, id) => shared[id]! > servingSize[id]! / 2 && shared[id]! > freshSize[id]! / 2,
  );
}
