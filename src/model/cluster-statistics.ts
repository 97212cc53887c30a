/**
 * What a model version remembers about the records it was made on, so that its clusters can be
 * explained later without those records: how many records each cluster took, how sure the model
 * was of them, each cluster's mean next to the whole set's, and a small bounded sample of real
 * members. Computed when a version is made (bootstrap, `train`, refinement) and kept in its
 * snapshot; cluster-profile.ts turns it into profiles.
 */
import type { AssignmentBatch, Matrix, Standardisation } from './types.js';

/** One kept member of a cluster. */
export interface ClusterMember {
  readonly cluster: number;
  /**
   * Where the record came from, when the version's maker knew: `<partition>:<offset>` of the
   * input topic for the worker's bootstrap, the record's 0-based position in the input file for
   * `train`. Absent for refined versions, whose window keeps feature rows only.
   */
  readonly id?: string;
  /** max_j q_ij under the version. */
  readonly confidence: number;
  /** Euclidean distance from the record's embedding to its centroid. */
  readonly distance: number;
}

export interface ClusterStatistics {
  /** Records the statistics were computed on. */
  readonly rows: number;
  /** Records per cluster (hard labels). */
  readonly counts: readonly number[];
  /** Mean confidence (max_j q_ij) of each cluster's records; NaN for an empty cluster. */
  readonly meanConfidence: readonly number[];
  /** Per input column, in input units, over all rows: mean and population standard deviation. */
  readonly mean: Float32Array;
  readonly std: Float32Array;
  /** Row-major [clusters, dims]: each cluster's mean in input units (the overall mean if empty). */
  readonly clusterMeans: Float32Array;
  /** The kept sample: per cluster, its records nearest the centroid and its most confident ones. */
  readonly members: readonly ClusterMember[];
  /** Row-major [members.length, dims]: the members' features in input units. */
  readonly memberFeatures: Float32Array;
}

/** Per cluster, this many nearest the centroid plus this many most confident (often the same). */
export const DefaultMembersPerCluster = 5;
/**
 * The sample's features are stored in the snapshot header: at most this many floats (4 MiB), so
 * wide inputs with many clusters keep fewer members each rather than a huge header.
 */
export const MaxMemberFloats = 1 << 20;

export interface ClusterStatisticsOptions {
  /** An id per row of x (see ClusterMember.id). */
  readonly ids?: readonly (string | undefined)[];
  readonly membersPerCluster?: number;
}

/**
 * Statistics of standardised rows `x` labelled by `assignment` (the same rows, in order), in the
 * input's units: each value is unscaled with `standardisation` (x · std + mean).
 */
export function clusterStatistics(
  x: Matrix,
  assignment: AssignmentBatch,
  standardisation: Standardisation,
  options: ClusterStatisticsOptions = {},
): ClusterStatistics {
  if (assignment.rows !== x.rows) {
    throw new RangeError(`${assignment.rows} assignments for ${x.rows} rows`);
  }
  if (options.ids !== undefined && options.ids.length !== x.rows) {
    throw new RangeError(`${options.ids.length} ids for ${x.rows} rows`);
  }
  const moments = unscaledMoments(x, assignment, standardisation);
  const { members, memberFeatures } = keptMembers(x, assignment, standardisation, options);
  return {
    rows: x.rows,
    counts: moments.counts,
    meanConfidence: moments.confidenceSums.map((s, c) => s / (moments.counts[c] as number)),
    mean: moments.mean,
    std: moments.std,
    clusterMeans: moments.clusterMeans,
    members,
    memberFeatures,
  };
}

/**
 * One pass over the rows in input units: the whole set's mean and spread per feature, and each
 * cluster's count, confidence sum and feature means (an empty cluster gets the overall mean).
 */
function unscaledMoments(
  x: Matrix,
  assignment: AssignmentBatch,
  standardisation: Standardisation,
): {
  counts: number[];
  confidenceSums: number[];
  mean: Float32Array;
  std: Float32Array;
  clusterMeans: Float32Array;
} {
  const k = assignment.clusters;
  const dims = x.cols;
  const row = new Float64Array(dims);
  const sum = new Float64Array(dims);
  const squares = new Float64Array(dims);
  const clusterSums = new Float64Array(k * dims);
  const counts = new Array<number>(k).fill(0);
  const confidenceSums = new Array<number>(k).fill(0);
  for (let i = 0; i < x.rows; i++) {
    unscaleRow(x, i, standardisation, row);
    const c = assignment.cluster[i] as number;
    counts[c] = (counts[c] as number) + 1;
    confidenceSums[c] = (confidenceSums[c] as number) + (assignment.confidence[i] as number);
    for (let d = 0; d < dims; d++) {
      const v = row[d] as number;
      sum[d] = (sum[d] as number) + v;
      squares[d] = (squares[d] as number) + v * v;
      clusterSums[c * dims + d] = (clusterSums[c * dims + d] as number) + v;
    }
  }
  const n = Math.max(1, x.rows);
  const mean = Float32Array.from(sum, (s) => s / n);
  // Var = E[v²] − E[v]², clamped at 0 against rounding; float64 keeps it accurate enough here.
  const std = Float32Array.from(squares, (s, d) =>
    Math.sqrt(Math.max(0, s / n - ((sum[d] as number) / n) ** 2)),
  );
  const clusterMeans = new Float32Array(k * dims);
  for (let c = 0; c < k; c++) {
    const count = counts[c] as number;
    for (let d = 0; d < dims; d++) {
      clusterMeans[c * dims + d] =
        count === 0 ? (mean[d] as number) : (clusterSums[c * dims + d] as number) / count;
    }
  }
  return { counts, confidenceSums, mean, std, clusterMeans };
}

/** The sample of real members kept per cluster, their features in input units. */
function keptMembers(
  x: Matrix,
  assignment: AssignmentBatch,
  standardisation: Standardisation,
  options: ClusterStatisticsOptions,
): { members: ClusterMember[]; memberFeatures: Float32Array } {
  const dims = x.cols;
  const row = new Float64Array(dims);
  const perCluster = Math.min(
    options.membersPerCluster ?? DefaultMembersPerCluster,
    Math.floor(MaxMemberFloats / Math.max(1, 2 * assignment.clusters * dims)),
  );
  const chosen = sampleMembers(assignment, perCluster);
  const memberFeatures = new Float32Array(chosen.length * dims);
  chosen.forEach((i, m) => {
    unscaleRow(x, i, standardisation, row);
    memberFeatures.set(row, m * dims);
  });
  const members = chosen.map((i): ClusterMember => {
    const id = options.ids?.[i];
    return {
      cluster: assignment.cluster[i] as number,
      ...(id === undefined ? {} : { id }),
      confidence: assignment.confidence[i] as number,
      distance: assignment.distance[i] as number,
    };
  });
  return { members, memberFeatures };
}

/** Row i of standardised x in input units, into `out`. */
function unscaleRow(x: Matrix, i: number, s: Standardisation, out: Float64Array): void {
  const base = i * x.cols;
  for (let d = 0; d < x.cols; d++) {
    out[d] = (x.data[base + d] as number) * (s.std[d] as number) + (s.mean[d] as number);
  }
}

/**
 * Row indices of the sample, grouped by cluster in cluster order: the `perCluster` rows nearest
 * each centroid, then those of its `perCluster` most confident rows not already taken.
 */
function sampleMembers(assignment: AssignmentBatch, perCluster: number): number[] {
  if (perCluster <= 0) return [];
  const byCluster: number[][] = Array.from({ length: assignment.clusters }, () => []);
  for (let i = 0; i < assignment.rows; i++) byCluster[assignment.cluster[i] as number]?.push(i);
  const out: number[] = [];
  for (const rows of byCluster) {
    const nearest = [...rows]
      .sort((a, b) => (assignment.distance[a] as number) - (assignment.distance[b] as number))
      .slice(0, perCluster);
    const confident = [...rows]
      .sort((a, b) => (assignment.confidence[b] as number) - (assignment.confidence[a] as number))
      .slice(0, perCluster);
    out.push(...new Set([...nearest, ...confident]));
  }
  return out;
}
