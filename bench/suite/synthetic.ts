/**
 * Seeded synthetic mixtures for the clustering quality suite. Each set is drawn in three steps:
 *
 * 1. a latent sample: cluster c gets `sizes[c]` points (exact counts, so the imbalance is exact),
 *    each the cluster's centre plus an anisotropic spread, Gaussian or Student-t;
 * 2. a warp from the latent space into `dims` informative columns: linear, a spiral or a swiss roll
 *    (clusters lie along a curled one-dimensional manifold), random sinusoids, or a quadratic map;
 *    plus a little Gaussian observation noise (5 % of each column's spread);
 * 3. the nuisances: pure-noise columns, exact duplicate columns, column scales of 1e-3..1e3; then the
 *    columns and the rows are shuffled.
 *
 * Everything follows from `seed`: the same spec gives the same bytes.
 */
import { SeededRandom } from '../../src/model/rng.js';
import type { LabelledData } from '../data/synthetic-mixture.js';

export const Warp = {
  Linear: 'linear',
  Spiral: 'spiral',
  SwissRoll: 'swiss-roll',
  Sine: 'sine',
  Poly: 'poly',
} as const;
export type Warp = (typeof Warp)[keyof typeof Warp];

export interface SyntheticSpec {
  readonly rows: number;
  readonly clusters: number;
  /** Informative observed columns (before noise and duplicate columns are added). */
  readonly dims: number;
  readonly seed: number;
  readonly warp: Warp;
  /**
   * Linear, sine, poly: spread of the cluster centres in units of the within-cluster spread.
   * Spiral: how many turns each arm makes. Swiss roll: the gap between neighbouring segments as a
   * fraction of a segment's length.
   */
  readonly separation: number;
  /** Latent dimensions for the linear, sine and poly warps (default 3). */
  readonly latentDims?: number;
  /** Sine: frequency of the sinusoids; poly: weight of the quadratic term (default 1). */
  readonly warpStrength?: number;
  /** Largest / smallest cluster size, sizes geometric in between (default 1: balanced). */
  readonly imbalance?: number;
  /** Degrees of freedom of a Student-t within-cluster spread (default: Gaussian). */
  readonly tailDf?: number;
  /** Pure N(0, s^2) columns drawn independently of everything else. */
  readonly noiseFeatures?: number;
  /** Exact copies of randomly chosen informative columns. */
  readonly duplicates?: number;
  /** Multiply column j by 10^u_j, u_j uniform in [-decades, decades], both extremes present. */
  readonly scaleDecades?: number;
}

/** Cluster sizes summing to `rows`, geometric from largest to smallest with the given ratio. */
export function clusterSizes(rows: number, clusters: number, imbalance = 1): number[] {
  const weights = Array.from({ length: clusters }, (_, c) =>
    clusters === 1 ? 1 : Math.pow(imbalance, -c / (clusters - 1)),
  );
  const total = weights.reduce((s, w) => s + w, 0);
  const sizes = weights.map((w) => Math.floor((rows * w) / total));
  // The rounding remainder goes to the middle clusters, so the extremes keep the exact ratio.
  let left = rows - sizes.reduce((s, n) => s + n, 0);
  for (let c = Math.floor(clusters / 2); left > 0; c = (c + 1) % clusters, left--) sizes[c]! += 1;
  return sizes;
}

/** Student-t with `df` degrees of freedom: z / sqrt(chi2_df / df), chi2 as a sum of squares. */
function studentT(rng: SeededRandom, df: number): number {
  let chi2 = 0;
  for (let i = 0; i < df; i++) chi2 += rng.normal() ** 2;
  return rng.normal() / Math.sqrt(chi2 / df);
}

function gaussianMatrix(rng: SeededRandom, rows: number, cols: number, scale: number): number[] {
  return Array.from({ length: rows * cols }, () => rng.normal() * scale);
}

/** The latent points (row-major, `latent` wide) and their labels, in cluster order. */
function latentSample(
  spec: SyntheticSpec,
  dist: SeededRandom,
  rng: SeededRandom,
): { points: Float64Array; latent: number; labels: Int32Array } {
  const { rows, clusters } = spec;
  const sizes = clusterSizes(rows, clusters, spec.imbalance ?? 1);
  const labels = new Int32Array(rows);
  const spread = (): number =>
    spec.tailDf === undefined ? rng.normal() : studentT(rng, spec.tailDf);

  if (spec.warp === Warp.Spiral || spec.warp === Warp.SwissRoll) {
    // Two-dimensional curled manifold coordinates plus a height.
    const latent = 3;
    const points = new Float64Array(rows * latent);
    let i = 0;
    for (let c = 0; c < clusters; c++) {
      for (let n = 0; n < sizes[c]!; n++, i++) {
        labels[i] = c;
        let t: number;
        let phase: number;
        if (spec.warp === Warp.Spiral) {
          // k interleaved arms of a spiral: r = t, angle = t + 2πc/k.
          t = 2 + rng.next() * spec.separation * 2 * Math.PI;
          phase = (2 * Math.PI * c) / clusters;
        } else {
          // One roll r = t over 1.5π..4.5π, cut into k segments with gaps between them.
          const length = (3 * Math.PI) / clusters;
          const gap = spec.separation * length;
          t = 1.5 * Math.PI + c * length + gap / 2 + rng.next() * (length - gap);
          phase = 0;
        }
        const noise = spec.warp === Warp.Spiral ? 0.35 : 0.5;
        points[i * latent] = t * Math.cos(t + phase) + noise * spread();
        points[i * latent + 1] = t * Math.sin(t + phase) + noise * spread();
        points[i * latent + 2] = spec.warp === Warp.SwissRoll ? rng.next() * 10 : noise * spread();
      }
    }
    return { points, latent, labels };
  }

  const latent = spec.latentDims ?? 3;
  const centres = Array.from({ length: clusters }, () =>
    Array.from({ length: latent }, () => dist.normal() * spec.separation),
  );
  // Per-cluster shape: a random matrix with one long axis (as in nonLinearMixture).
  const shapes = Array.from({ length: clusters }, () =>
    Array.from({ length: latent * latent }, (_, k) => dist.normal() * (k % latent === 0 ? 1 : 0.4)),
  );
  const points = new Float64Array(rows * latent);
  const e = new Float64Array(latent);
  let i = 0;
  for (let c = 0; c < clusters; c++) {
    const centre = centres[c]!;
    const shape = shapes[c]!;
    for (let n = 0; n < sizes[c]!; n++, i++) {
      labels[i] = c;
      for (let a = 0; a < latent; a++) e[a] = spread();
      for (let a = 0; a < latent; a++) {
        let v = centre[a]!;
        for (let b = 0; b < latent; b++) v += shape[a * latent + b]! * e[b]!;
        points[i * latent + a] = v;
      }
    }
  }
  return { points, latent, labels };
}

/** Maps the latent points into `dims` informative columns (row-major, Float64). */
function warp(
  spec: SyntheticSpec,
  dist: SeededRandom,
  points: Float64Array,
  latent: number,
): Float64Array {
  const { rows, dims } = spec;
  const out = new Float64Array(rows * dims);
  const strength = spec.warpStrength ?? 1;
  // Latent coordinates scaled to unit overall spread (one factor for all, so the geometry stays), so
  // the warp parameters mean the same for every set.
  let sum = 0;
  let sq = 0;
  for (const v of points) {
    sum += v;
    sq += v * v;
  }
  const n = points.length;
  const unit = 1 / Math.sqrt(Math.max(sq / n - (sum / n) ** 2, 1e-12));
  const a1 = gaussianMatrix(dist, dims, latent, 1 / Math.sqrt(latent));
  const a2 = gaussianMatrix(dist, dims, latent, 1 / Math.sqrt(latent));
  const phase = Array.from({ length: dims }, () => dist.next() * 2 * Math.PI);
  for (let i = 0; i < rows; i++) {
    for (let d = 0; d < dims; d++) {
      let p = 0;
      let q = 0;
      for (let a = 0; a < latent; a++) {
        const u = points[i * latent + a]! * unit;
        p += a1[d * latent + a]! * u;
        q += a2[d * latent + a]! * u;
      }
      let v: number;
      switch (spec.warp) {
        case Warp.Sine:
          // Random sinusoid features: folds the latent space back on itself.
          v = Math.sin(strength * p + phase[d]!);
          break;
        case Warp.Poly:
          v = p + strength * q * q;
          break;
        default:
          v = p;
      }
      out[i * dims + d] = v;
    }
  }
  return out;
}

export function syntheticMixture(spec: SyntheticSpec): LabelledData {
  const root = new SeededRandom(spec.seed);
  const dist = new SeededRandom(root.fork());
  const rng = new SeededRandom(root.fork());
  const { rows, dims } = spec;
  const { points, latent, labels: ordered } = latentSample(spec, dist, rng);
  const informative = warp(spec, dist, points, latent);

  // Observation noise: 5 % of each informative column's spread.
  for (let d = 0; d < dims; d++) {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < rows; i++) {
      const v = informative[i * dims + d]!;
      sum += v;
      sq += v * v;
    }
    const std = Math.sqrt(Math.max(sq / rows - (sum / rows) ** 2, 1e-12));
    for (let i = 0; i < rows; i++) informative[i * dims + d]! += 0.05 * std * rng.normal();
  }

  const noise = spec.noiseFeatures ?? 0;
  const dupes = spec.duplicates ?? 0;
  const cols = dims + noise + dupes;
  // Source of each output column: informative column, noise column, or a copy of an informative one.
  const noiseScale = Array.from({ length: noise }, () => 0.5 + 1.5 * dist.next());
  const copyOf = Array.from({ length: dupes }, () => dist.int(dims));
  const columnOrder = dist.permutation(cols);
  const factor = new Float64Array(cols).fill(1);
  const decades = spec.scaleDecades ?? 0;
  if (decades > 0) {
    for (let j = 0; j < cols; j++) factor[j] = Math.pow(10, (2 * dist.next() - 1) * decades);
    // Both extremes present, so the column scales really span 10^(2 * decades).
    factor[columnOrder[0]!] = Math.pow(10, -decades);
    factor[columnOrder[1]!] = Math.pow(10, decades);
  }
  const rowOrder = rng.permutation(rows);

  const data = new Float32Array(rows * cols);
  const labels = new Int32Array(rows);
  const source = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let d = 0; d < dims; d++) source[d] = informative[i * dims + d]!;
    for (let k = 0; k < noise; k++) source[dims + k] = noiseScale[k]! * rng.normal();
    for (let k = 0; k < dupes; k++) source[dims + noise + k] = source[copyOf[k]!]!;
    const out = rowOrder[i]!;
    labels[out] = ordered[i]!;
    for (let j = 0; j < cols; j++) {
      const target = columnOrder[j]!;
      data[out * cols + target] = source[j]! * factor[target]!;
    }
  }
  return { x: { data, rows, cols }, labels };
}
