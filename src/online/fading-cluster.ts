/**
 * A cluster that fades while a new group appears elsewhere. The new group's records join the
 * nearest cluster, which then holds two separate groups, and the fading cluster keeps a centroid
 * for records that are going away. The dying rule (refinement-policy.ts) re-seeds only once the
 * fading cluster's share is under `DEC_MIN_CLUSTER_SHARE`, at the very end of such a swap, so the
 * merge serves for most of it.
 *
 * The earlier rule here: once a cluster holds less than half its bootstrap share of the window,
 * the cluster that grew most (against its own bootstrap share) is split by 2-means on its members'
 * inputs, and the split is taken only when its halves are separate groups: along the line through
 * the two half-means, the members near the midpoint are few next to those near either mean (a
 * valley, not a dense middle). The inputs, not the embedding: the serving encoder never saw the
 * new group and may map it right against the old one, valley or not. A single group that merely grew (weights shifting between clusters), elongated or not,
 * is densest in its middle, so it is left alone. The fading cluster's id goes to the split-off
 * half, and only when that half is larger than what the fading cluster still holds: the re-seed
 * dissolves those records into their neighbours, one merge traded for a smaller one.
 */
import type { Matrix } from '../model/types.js';
import {
  applySplit,
  meanInto,
  membersOf,
  splitState,
  twoMeans,
  type DonorSplit,
  type ReseedResult,
} from './refinement-policy.js';

/**
 * Half-width of the bands (as a share of the distance between the half-means) in which the valley
 * test counts members: around the midpoint and around each half-mean.
 */
const VALLEY_BAND = 0.1;

export interface FadingRule {
  /** Clusters under this share are the dying rule's, not this one's. */
  readonly minShare: number;
  /** The bootstrap model's shares: fading and growing are measured against them. */
  readonly baselineShares: ArrayLike<number>;
  /**
   * Largest valley ratio (members near the midpoint ÷ members near the emptier half-mean) at
   * which the donor's halves count as two separate groups.
   */
  readonly maxValley: number;
}

export interface FadingReseed extends ReseedResult {
  /** The valley ratio of the split that was tried (NaN when none was). */
  readonly valley: number;
}

/** The fading cluster with the smallest share: below half its bootstrap share, above `minShare`. */
export function fadingCluster(shares: ArrayLike<number>, rule: FadingRule): number | undefined {
  let fading: number | undefined;
  for (let j = 0; j < shares.length; j++) {
    const share = shares[j] ?? 0;
    const baseline = rule.baselineShares[j] ?? 0;
    if (share < rule.minShare || share >= baseline / 2) continue;
    if (fading === undefined || share < (shares[fading] ?? 0)) fading = j;
  }
  return fading;
}

/** The cluster that grew most against its bootstrap share (undefined when none grew). */
export function mostGrownCluster(
  shares: ArrayLike<number>,
  baselineShares: ArrayLike<number>,
): number | undefined {
  let grown: number | undefined;
  let bestRatio = 1;
  for (let j = 0; j < shares.length; j++) {
    const baseline = baselineShares[j] ?? 0;
    if (baseline <= 0) continue;
    const ratio = (shares[j] ?? 0) / baseline;
    if (ratio > bestRatio) {
      bestRatio = ratio;
      grown = j;
    }
  }
  return grown;
}

/**
 * Re-seeds at most one fading cluster from the cluster that grew most, when that cluster splits
 * cleanly in two (see the module comment). Returns no event otherwise; the input is untouched.
 */
export function reseedFadingCluster(
  centroids: Float32Array,
  dims: number,
  shares: ArrayLike<number>,
  rule: FadingRule,
  window: { readonly inputs: Matrix; readonly embeddings: Matrix; readonly labels: Int32Array },
  seed = 1,
): FadingReseed {
  const state = splitState(centroids, dims, shares, window, seed);
  const unchanged = { centroids: state.centroids, shares: state.shares, events: [], valley: NaN };
  const fading = fadingCluster(shares, rule);
  const donor = mostGrownCluster(shares, rule.baselineShares);
  if (fading === undefined || donor === undefined || donor === fading) return unchanged;
  const members = membersOf(state.labels, donor);
  // Each half must be a share the dying rule would not re-seed at once.
  const smallest = Math.max(2, Math.ceil(rule.minShare * window.labels.length));
  if (members.length < 2 * smallest) return unchanged;
  const split = splitOnInputs(window, members);
  if (Math.min(split.keptMembers.length, split.givenMembers.length) < smallest) return unchanged;
  if (split.givenMembers.length <= membersOf(state.labels, fading).length) return unchanged;
  const valley = valleyRatio(window.inputs, split);
  if (!(valley <= rule.maxValley)) return { ...unchanged, valley };
  applySplit(state, donor, fading, inEmbedding(window.embeddings, split));
  const events = [{ cluster: fading, splitFrom: donor, splitValley: valley }];
  return { centroids: state.centroids, shares: state.shares, events, valley };
}

/**
 * 2-means of the donor's members on their inputs, started from their mean; the larger half stays
 * the donor's (its id keeps most of its records). The halves' means are input-space points here.
 */
function splitOnInputs(
  window: { readonly inputs: Matrix },
  members: readonly number[],
): DonorSplit {
  const centre = new Float32Array(window.inputs.cols);
  meanInto(window.inputs, members, centre);
  const { a, b, aMembers, bMembers } = twoMeans(window.inputs, members, centre);
  return aMembers.length >= bMembers.length
    ? { keep: a, give: b, keptMembers: aMembers, givenMembers: bMembers }
    : { keep: b, give: a, keptMembers: bMembers, givenMembers: aMembers };
}

/** The same split with each half's centroid at its members' mean embedding. */
function inEmbedding(embeddings: Matrix, split: DonorSplit): DonorSplit {
  const keep = new Float32Array(embeddings.cols);
  const give = new Float32Array(embeddings.cols);
  meanInto(embeddings, split.keptMembers, keep);
  meanInto(embeddings, split.givenMembers, give);
  return { ...split, keep, give };
}

/**
 * Members near the midpoint between the two half-means ÷ members near the emptier half-mean,
 * counted along the line through the half-means in bands of ±`VALLEY_BAND` of their distance.
 * About 0.9 for one 4-dimensional Gaussian group; for two groups d standard deviations apart about
 * 2·exp(−d²/8) (0.27 at 4, 0.02 at 6). Infinity when a band around a mean is empty.
 */
export function valleyRatio(space: Matrix, split: DonorSplit): number {
  const dims = space.cols;
  const axis = split.give.map((v, t) => v - (split.keep[t] ?? 0));
  const length2 = axis.reduce((sum, v) => sum + v * v, 0);
  if (length2 === 0) return Infinity;
  const counts = [0, 0, 0];
  for (const row of [...split.keptMembers, ...split.givenMembers]) {
    let along = 0;
    for (let t = 0; t < dims; t++)
      along += ((space.data[row * dims + t] ?? 0) - (split.keep[t] ?? 0)) * (axis[t] ?? 0);
    // 0 at the kept half's mean, 1 at the given half's.
    const position = along / length2;
    [0, 0.5, 1].forEach((centre, band) => {
      if (Math.abs(position - centre) < VALLEY_BAND) counts[band]! += 1;
    });
  }
  const emptierMode = Math.min(counts[0]!, counts[2]!);
  return emptierMode === 0 ? Infinity : counts[1]! / emptierMode;
}
