/**
 * The rules around a refinement, pure: which results to accept (guards), how a dying cluster is
 * re-seeded by splitting the largest one, and how cluster ids are kept stable when a retrain produces
 * centroids in a new order (Hungarian matching).
 */
import { linearSumAssignment } from 'linear-sum-assignment';
import type { DecParameters, Matrix } from '../model/types.js';
import { centroidShift, minCentroidDistance } from './drift.js';

export const RejectReason = {
  NaN: 'nan',
  LossBound: 'loss-bound',
  ShiftBound: 'shift-bound',
  LabelChangeBound: 'label-change-bound',
  /** A re-bootstrap produced a different number of clusters than the serving model has. */
  Mismatch: 'mismatch',
  /** Every candidate partitions the window worse than the serving version (the criterion). */
  Criterion: 'criterion',
  /** A retrained shadow did not beat the serving version by the promotion margin. */
  NotBetter: 'not-better',
  /**
   * A retrained shadow would move more recent records between ids both versions keep than
   * `DEC_RETRAIN_MAX_RELABEL` allows.
   */
  RelabelCap: 'relabel-cap',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];
/** Every reject reason: the known values of the refinement-rejection `reason` label. */
export const RejectReasons: readonly RejectReason[] = Object.values(RejectReason);

export interface RefinementBounds {
  /** Reject when the KL loss after the step exceeds this (absolute). */
  readonly maxLoss: number;
  /** Reject when loss / lossBefore exceeds this: the step made the fit clearly worse. */
  readonly maxLossRatio: number;
  /** Reject when a centroid moves further than this, in embedding units. */
  readonly maxCentroidShift: number;
  /**
   * Reject when the largest centroid move exceeds this fraction of the smallest distance between two
   * old centroids: one refinement must not carry a centroid into a neighbour's place.
   */
  readonly maxRelativeCentroidShift: number;
  /**
   * Reject when more than this fraction of the window changes label under the new version: a step
   * that lowers KL by reshuffling the embedding (a collapse) rather than following the data.
   * Not applied to a refinement that re-seeded a cluster (moving records is its purpose).
   */
  readonly maxLabelChangeFraction: number;
}

export const defaultRefinementBounds: RefinementBounds = {
  maxLoss: Infinity,
  maxLossRatio: 2,
  maxCentroidShift: Infinity,
  maxRelativeCentroidShift: 1,
  maxLabelChangeFraction: 0.2,
};

export type Verdict =
  | { readonly accepted: true; readonly centroidShift: number; readonly relativeShift: number }
  | {
      readonly accepted: false;
      readonly reason: RejectReason;
      readonly detail: string;
      readonly centroidShift: number;
      readonly relativeShift: number;
    };

/** True when every weight, bias and centroid is finite. */
export function parametersAreFinite(parameters: DecParameters): boolean {
  const arrays: Float32Array[] = [parameters.centroids];
  for (const layer of [...parameters.encoder, ...parameters.decoder])
    arrays.push(layer.weights, layer.bias);
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] ?? NaN)) return false;
  }
  return true;
}

/**
 * Judges a refinement: NaN anywhere (loss or parameters), a loss beyond the bounds, or a centroid
 * shift beyond the bound rejects it, and the previous version keeps serving.
 */
export function judgeRefinement(
  before: DecParameters,
  after: DecParameters,
  loss: { readonly before: number; readonly after: number },
  bounds: RefinementBounds = defaultRefinementBounds,
): Verdict {
  const shift = centroidShift(
    before.centroids,
    after.centroids,
    before.clusters,
    before.embeddingSize,
  );
  const reject = (reason: RejectReason, detail: string): Verdict => ({
    accepted: false,
    reason,
    detail,
    centroidShift: shift.max,
    relativeShift: shift.relative,
  });
  if (!Number.isFinite(loss.after) || !Number.isFinite(shift.max) || !parametersAreFinite(after)) {
    return reject(RejectReason.NaN, `non-finite result (loss ${loss.after})`);
  }
  if (loss.after > bounds.maxLoss) {
    return reject(RejectReason.LossBound, `loss ${loss.after.toFixed(4)} above ${bounds.maxLoss}`);
  }
  if (
    Number.isFinite(loss.before) &&
    loss.before > 0 &&
    loss.after / loss.before > bounds.maxLossRatio
  ) {
    return reject(
      RejectReason.LossBound,
      `loss rose from ${loss.before.toFixed(4)} to ${loss.after.toFixed(4)} (ratio bound ${bounds.maxLossRatio})`,
    );
  }
  if (shift.max > bounds.maxCentroidShift) {
    return reject(
      RejectReason.ShiftBound,
      `a centroid moved ${shift.max.toFixed(4)} (bound ${bounds.maxCentroidShift})`,
    );
  }
  if (before.clusters > 1 && shift.relative > bounds.maxRelativeCentroidShift) {
    return reject(
      RejectReason.ShiftBound,
      `centroid moved ${shift.relative.toFixed(3)} of the centroid spacing (bound ${bounds.maxRelativeCentroidShift})`,
    );
  }
  return { accepted: true, centroidShift: shift.max, relativeShift: shift.relative };
}

/** When a cluster counts as dying. */
export interface DyingRule {
  /** A share below this may be dying. */
  readonly minShare: number;
  /**
   * The shares of the bootstrap model, when known. A cluster is dying only once its share is below
   * `minShare` and below half of its bootstrap share: a cluster the bootstrap made small has not
   * lost anything to the stream, and splitting another cluster for it would change a model the
   * stream gave no reason to change.
   */
  readonly baselineShares?: ArrayLike<number>;
}

/** Clusters that are dying under `rule`, smallest share first. */
export function dyingClusters(shares: ArrayLike<number>, rule: DyingRule): number[] {
  const out: number[] = [];
  for (let j = 0; j < shares.length; j++) {
    const share = shares[j] ?? 0;
    const baseline = rule.baselineShares?.[j];
    if (share < rule.minShare && (baseline === undefined || share < baseline / 2)) out.push(j);
  }
  return out.sort((a, b) => (shares[a] ?? 0) - (shares[b] ?? 0));
}

export interface ReseedEvent {
  /** The dying cluster that received a new centroid. */
  readonly cluster: number;
  /** The largest cluster that was split to make it. */
  readonly splitFrom: number;
  /**
   * Set when the cluster was fading rather than dying (fading-cluster.ts): the valley ratio
   * between the two groups the donor held.
   */
  readonly splitValley?: number;
}

export interface ReseedResult {
  /** New centroids [k, d] (a copy; the input is untouched). */
  readonly centroids: Float32Array;
  /** Shares after the splits (each split halves the donor's share between donor and receiver). */
  readonly shares: Float64Array;
  readonly events: readonly ReseedEvent[];
}

/**
 * Re-seeds every dying cluster (see `dyingClusters`) by splitting the currently largest cluster
 * (Spark's StreamingKMeans rule). The split runs 2-means on the window embeddings labelled with the
 * largest cluster, started from the member farthest from its centroid and the member farthest from
 * that one; the donor keeps the half whose mean lies nearer its old centroid (its id stays put), the
 * dying cluster takes the other. With fewer than two members, the donor's centroid is nudged apart
 * along a direction drawn from `seed`. Only dying and donor centroids move; ids never swap.
 */
export function reseedDyingClusters(
  centroids: Float32Array,
  clusters: number,
  dims: number,
  shares: ArrayLike<number>,
  rule: DyingRule,
  window: { readonly embeddings: Matrix; readonly labels: Int32Array },
  seed = 1,
): ReseedResult {
  const state = splitState(centroids, dims, shares, window, seed);
  const spacing = minCentroidDistance(centroids, clusters, dims) || 1;
  for (const dying of dyingClusters(shares, rule)) {
    let donor = -1;
    for (let j = 0; j < clusters; j++) {
      if (j !== dying && (donor < 0 || (state.shares[j] ?? 0) > (state.shares[donor] ?? 0)))
        donor = j;
    }
    if (donor < 0 || (state.shares[donor] ?? 0) <= rule.minShare) break;
    const members = membersOf(state.labels, donor);
    const split =
      members.length >= 2
        ? splitMembers(state, donor, members)
        : nudgeApart(state, donor, 0.05 * spacing);
    applySplit(state, donor, dying, split);
  }
  return { centroids: state.centroids, shares: state.shares, events: state.events };
}

/** The working copy a sequence of splits edits: centroids, shares, window labels and events. */
export interface SplitState {
  readonly centroids: Float32Array;
  readonly shares: Float64Array;
  readonly labels: Int32Array;
  readonly embeddings: Matrix;
  readonly dims: number;
  readonly random: () => number;
  readonly events: ReseedEvent[];
}

export function splitState(
  centroids: Float32Array,
  dims: number,
  shares: ArrayLike<number>,
  window: { readonly embeddings: Matrix; readonly labels: Int32Array },
  seed: number,
): SplitState {
  return {
    centroids: Float32Array.from(centroids),
    shares: Float64Array.from(shares),
    labels: Int32Array.from(window.labels),
    embeddings: window.embeddings,
    dims,
    random: mulberry32(seed),
    events: [],
  };
}

/** How a donor's members divide: `keep` stays the donor's centroid, `give` goes to the receiver. */
export interface DonorSplit {
  readonly keep: Float32Array;
  readonly give: Float32Array;
  readonly keptMembers: readonly number[];
  readonly givenMembers: readonly number[];
}

/** Window rows labelled `cluster`. */
export function membersOf(labels: Int32Array, cluster: number): number[] {
  const members: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === cluster) members.push(i);
  return members;
}

/** 2-means of the donor's members; the donor keeps the half whose mean lies nearer its centroid. */
function splitMembers(state: SplitState, donor: number, members: readonly number[]): DonorSplit {
  const dims = state.dims;
  const donorCentroid = state.centroids.slice(donor * dims, (donor + 1) * dims);
  const split = twoMeans(state.embeddings, members, donorCentroid);
  const d0 = squaredDistance(split.a, 0, donorCentroid, 0, dims);
  const d1 = squaredDistance(split.b, 0, donorCentroid, 0, dims);
  return d0 <= d1
    ? { keep: split.a, give: split.b, keptMembers: split.aMembers, givenMembers: split.bMembers }
    : { keep: split.b, give: split.a, keptMembers: split.bMembers, givenMembers: split.aMembers };
}

/** Two points `step` apart around the donor's centroid, along a direction drawn from the state. */
function nudgeApart(state: SplitState, donor: number, step: number): DonorSplit {
  const dims = state.dims;
  const donorCentroid = state.centroids.slice(donor * dims, (donor + 1) * dims);
  const direction = new Float32Array(dims);
  let norm = 0;
  for (let t = 0; t < dims; t++) {
    direction[t] = state.random() - 0.5;
    norm += (direction[t] ?? 0) ** 2;
  }
  const scale = step / (Math.sqrt(norm) || 1);
  return {
    keep: donorCentroid.map((v, t) => v + (direction[t] ?? 0) * scale),
    give: donorCentroid.map((v, t) => v - (direction[t] ?? 0) * scale),
    keptMembers: [],
    givenMembers: [],
  };
}

/** Moves the given half to `receiver`: its centroid, its window labels and half the donor's share. */
export function applySplit(
  state: SplitState,
  donor: number,
  receiver: number,
  split: DonorSplit,
): void {
  const dims = state.dims;
  state.centroids.set(split.keep, donor * dims);
  state.centroids.set(split.give, receiver * dims);
  for (const i of split.givenMembers) state.labels[i] = receiver;
  const half = (state.shares[donor] ?? 0) / 2;
  state.shares[donor] = half;
  state.shares[receiver] = half;
  state.events.push({ cluster: receiver, splitFrom: donor });
}

function squaredDistance(
  a: Float32Array,
  ai: number,
  b: Float32Array,
  bi: number,
  dims: number,
): number {
  let d2 = 0;
  for (let t = 0; t < dims; t++) {
    const diff = (a[ai + t] ?? 0) - (b[bi + t] ?? 0);
    d2 += diff * diff;
  }
  return d2;
}

/** A few Lloyd iterations of 2-means over the given rows of z. */
export function twoMeans(
  z: Matrix,
  members: readonly number[],
  centre: Float32Array,
): { a: Float32Array; b: Float32Array; aMembers: number[]; bMembers: number[] } {
  const d = z.cols;
  const farthestFrom = (point: Float32Array): number => {
    let best = members[0] ?? 0;
    let bestD = -1;
    for (const i of members) {
      const dist = squaredDistance(z.data, i * d, point, 0, d);
      if (dist > bestD) {
        bestD = dist;
        best = i;
      }
    }
    return best;
  };
  const first = farthestFrom(centre);
  const a = z.data.slice(first * d, (first + 1) * d);
  const second = farthestFrom(a);
  const b = z.data.slice(second * d, (second + 1) * d);
  let aMembers: number[] = [];
  let bMembers: number[] = [];
  for (let iteration = 0; iteration < 10; iteration++) {
    aMembers = [];
    bMembers = [];
    for (const i of members) {
      if (squaredDistance(z.data, i * d, a, 0, d) <= squaredDistance(z.data, i * d, b, 0, d))
        aMembers.push(i);
      else bMembers.push(i);
    }
    if (aMembers.length === 0 || bMembers.length === 0) break;
    meanInto(z, aMembers, a);
    meanInto(z, bMembers, b);
  }
  return { a, b, aMembers, bMembers };
}

export function meanInto(z: Matrix, rows: readonly number[], out: Float32Array): void {
  const d = z.cols;
  out.fill(0);
  for (const i of rows)
    for (let t = 0; t < d; t++) out[t] = (out[t] ?? 0) + (z.data[i * d + t] ?? 0);
  for (let t = 0; t < d; t++) out[t] = (out[t] ?? 0) / rows.length;
}

/**
 * Hungarian matching on a [k, k] cost (rows: old ids, columns: new ids): returns `permutation` with
 * permutation[oldId] = the new cluster that takes that id.
 */
export function matchIds(cost: readonly (readonly number[])[], maximise: boolean): Int32Array {
  const k = cost.length;
  const { rowAssignments } = linearSumAssignment(
    cost.map((row) => [...row]),
    { maximaze: maximise },
  );
  const permutation = new Int32Array(k);
  for (let j = 0; j < k; j++) permutation[j] = rowAssignments[j] ?? j;
  return permutation;
}

/** Matches new centroids to old ones by squared distance (both [k, d] in the same embedding). */
export function matchByCentroids(
  oldCentroids: Float32Array,
  newCentroids: Float32Array,
  clusters: number,
  dims: number,
): Int32Array {
  const cost: number[][] = [];
  for (let a = 0; a < clusters; a++) {
    const row: number[] = [];
    for (let b = 0; b < clusters; b++)
      row.push(squaredDistance(oldCentroids, a * dims, newCentroids, b * dims, dims));
    cost.push(row);
  }
  return matchIds(cost, false);
}

/**
 * Matches a new model's clusters to the old ids by how many window records they share: the right
 * test across two different embeddings (a retrain), where centroid distances mean nothing.
 */
export function matchByOverlap(
  oldLabels: ArrayLike<number>,
  newLabels: ArrayLike<number>,
  clusters: number,
): Int32Array {
  const cost: number[][] = Array.from({ length: clusters }, () =>
    new Array<number>(clusters).fill(0),
  );
  for (let i = 0; i < oldLabels.length; i++) {
    const row = cost[oldLabels[i] ?? -1];
    const b = newLabels[i] ?? -1;
    if (row !== undefined && b >= 0 && b < clusters) row[b] = (row[b] ?? 0) + 1;
  }
  return matchIds(cost, true);
}

/** Reorders centroid rows so that row j becomes old row permutation[j]. */
export function permuteRows(
  rowsData: Float32Array,
  permutation: ArrayLike<number>,
  dims: number,
): Float32Array {
  const out = new Float32Array(rowsData.length);
  for (let j = 0; j < permutation.length; j++) {
    const from = permutation[j] ?? j;
    out.set(rowsData.subarray(from * dims, (from + 1) * dims), j * dims);
  }
  return out;
}

/** Relabels a prediction made with the new numbering into the old ids. */
export function relabel(labels: ArrayLike<number>, permutation: ArrayLike<number>): Int32Array {
  const inverse = new Int32Array(permutation.length);
  for (let j = 0; j < permutation.length; j++) inverse[permutation[j] ?? j] = j;
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = inverse[labels[i] ?? 0] ?? 0;
  return out;
}

/** A small seeded generator for the rare nudge that needs randomness. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
