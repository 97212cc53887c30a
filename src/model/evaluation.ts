/**
 * External clustering quality: accuracy under the best one-to-one matching of clusters to classes
 * (Hungarian / Jonker-Volgenant via linear-sum-assignment), normalised mutual information
 * (arithmetic-mean normalisation, as scikit-learn's default) and the adjusted Rand index.
 */
import { linearSumAssignment } from 'linear-sum-assignment';

interface Contingency {
  readonly n: number;
  readonly classes: number;
  readonly clusters: number;
  /** counts[c * clusters + k] = rows with truth class c and predicted cluster k. */
  readonly counts: Float64Array;
  readonly classTotals: Float64Array;
  readonly clusterTotals: Float64Array;
}

function contingency(truth: ArrayLike<number>, pred: ArrayLike<number>): Contingency {
  if (truth.length !== pred.length) {
    throw new RangeError(`truth has ${truth.length} labels, prediction ${pred.length}`);
  }
  const classIds = new Map<number, number>();
  const clusterIds = new Map<number, number>();
  const t = new Int32Array(truth.length);
  const p = new Int32Array(pred.length);
  for (let i = 0; i < truth.length; i++) {
    const a = truth[i]!;
    const b = pred[i]!;
    if (!classIds.has(a)) classIds.set(a, classIds.size);
    if (!clusterIds.has(b)) clusterIds.set(b, clusterIds.size);
    t[i] = classIds.get(a)!;
    p[i] = clusterIds.get(b)!;
  }
  const classes = classIds.size;
  const clusters = clusterIds.size;
  const counts = new Float64Array(classes * clusters);
  const classTotals = new Float64Array(classes);
  const clusterTotals = new Float64Array(clusters);
  for (let i = 0; i < t.length; i++) {
    counts[t[i]! * clusters + p[i]!]! += 1;
    classTotals[t[i]!]! += 1;
    clusterTotals[p[i]!]! += 1;
  }
  return { n: truth.length, classes, clusters, counts, classTotals, clusterTotals };
}

/** ACC = max over one-to-one maps m of (1/n) Σ_i 1[truth_i = m(pred_i)]. */
export function clusteringAccuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = contingency(truth, pred);
  if (c.n === 0) return 0;
  const rows: number[][] = [];
  for (let k = 0; k < c.clusters; k++) {
    const row: number[] = [];
    for (let j = 0; j < c.classes; j++) row.push(c.counts[j * c.clusters + k]!);
    rows.push(row);
  }
  const { rowAssignments } = linearSumAssignment(rows, { maximaze: true });
  let matched = 0;
  for (let k = 0; k < c.clusters; k++) {
    const j = rowAssignments[k]!;
    if (j >= 0) matched += c.counts[j * c.clusters + k]!;
  }
  return matched / c.n;
}

function entropy(totals: Float64Array, n: number): number {
  let h = 0;
  for (const v of totals) if (v > 0) h -= (v / n) * Math.log(v / n);
  return h;
}

/** NMI = I(T; P) / ((H(T) + H(P)) / 2); 1 when both labelings are a single identical cluster. */
export function normalizedMutualInfo(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = contingency(truth, pred);
  if (c.n === 0) return 0;
  if (c.classes === 1 && c.clusters === 1) return 1;
  let mi = 0;
  for (let j = 0; j < c.classes; j++) {
    for (let k = 0; k < c.clusters; k++) {
      const v = c.counts[j * c.clusters + k]!;
      if (v > 0) mi += (v / c.n) * Math.log((v * c.n) / (c.classTotals[j]! * c.clusterTotals[k]!));
    }
  }
  const denominator = (entropy(c.classTotals, c.n) + entropy(c.clusterTotals, c.n)) / 2;
  return denominator > 0 ? Math.max(0, mi / denominator) : 0;
}

const pairs = (v: number): number => (v * (v - 1)) / 2;

/** ARI = (Σ C(n_jk,2) − E) / (½(Σ C(a_j,2) + Σ C(b_k,2)) − E), E = Σ C(a_j,2) Σ C(b_k,2) / C(n,2). */
export function adjustedRandIndex(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = contingency(truth, pred);
  if (c.n < 2) return 1;
  let index = 0;
  for (const v of c.counts) index += pairs(v);
  let a = 0;
  for (const v of c.classTotals) a += pairs(v);
  let b = 0;
  for (const v of c.clusterTotals) b += pairs(v);
  const expected = (a * b) / pairs(c.n);
  const max = (a + b) / 2;
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

export function evaluateClustering(
  truth: ArrayLike<number>,
  pred: ArrayLike<number>,
): { n: number; acc: number; nmi: number; ari: number } {
  return {
    n: truth.length,
    acc: clusteringAccuracy(truth, pred),
    nmi: normalizedMutualInfo(truth, pred),
    ari: adjustedRandIndex(truth, pred),
  };
}
