/**
 * Drift signals computed online, pure: cluster shares against the bootstrap's (PSI), centroid shift,
 * mean confidence, KL loss, reconstruction error against the bootstrap's, and the label-change rate
 * when the recent window is re-assigned. The worker reports them through WorkerObserver.drift.
 */
import { decayFactor } from './cluster-size-estimate.js';

/** Shares below this count as this much in PSI, so an empty cluster gives a large but finite value. */
export const PSI_FLOOR = 1e-4;

/** Normalises non-negative weights to shares summing to 1 (uniform when they sum to 0). */
export function toShares(weights: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j] ?? 0;
    if (Number.isFinite(w) && w > 0) total += w;
  }
  const out = new Float64Array(weights.length);
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j] ?? 0;
    out[j] = total > 0 ? (Number.isFinite(w) && w > 0 ? w / total : 0) : 1 / weights.length;
  }
  return out;
}

/**
 * Population stability index of `actual` shares against `expected` ones:
 * PSI = Σ_j (a_j − e_j) · ln(a_j / e_j), each share floored at `floor`. Both inputs are normalised
 * first. Rule of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 significant shift.
 */
export function populationStabilityIndex(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  floor = PSI_FLOOR,
): number {
  if (actual.length !== expected.length) {
    throw new RangeError(`PSI needs equal lengths, got ${actual.length} and ${expected.length}`);
  }
  const a = toShares(actual);
  const e = toShares(expected);
  let psi = 0;
  for (let j = 0; j < a.length; j++) {
    const aj = Math.max(a[j] ?? 0, floor);
    const ej = Math.max(e[j] ?? 0, floor);
    psi += (aj - ej) * Math.log(aj / ej);
  }
  return psi;
}

export interface CentroidShift {
  /** Largest Euclidean move of one centroid. */
  readonly max: number;
  /** Mean Euclidean move over the centroids. */
  readonly mean: number;
  /** `max` divided by the smallest distance between two old centroids (scale-free; 0 when k = 1). */
  readonly relative: number;
}

/** How far each centroid moved between two versions ([k, d] row-major each); ids are not matched. */
export function centroidShift(
  before: Float32Array,
  after: Float32Array,
  clusters: number,
  dims: number,
): CentroidShift {
  let max = 0;
  let sum = 0;
  for (let j = 0; j < clusters; j++) {
    let d2 = 0;
    for (let t = 0; t < dims; t++) {
      const diff = (after[j * dims + t] ?? NaN) - (before[j * dims + t] ?? NaN);
      d2 += diff * diff;
    }
    const d = Math.sqrt(d2);
    if (Number.isNaN(d)) return { max: NaN, mean: NaN, relative: NaN };
    max = Math.max(max, d);
    sum += d;
  }
  const spacing = minCentroidDistance(before, clusters, dims);
  return { max, mean: sum / clusters, relative: spacing > 0 ? max / spacing : 0 };
}

/** Smallest Euclidean distance between two distinct centroids ([k, d] row-major); 0 for k < 2. */
export function minCentroidDistance(
  centroids: Float32Array,
  clusters: number,
  dims: number,
): number {
  let best = Infinity;
  for (let a = 0; a < clusters; a++) {
    for (let b = a + 1; b < clusters; b++) {
      let d2 = 0;
      for (let t = 0; t < dims; t++) {
        const diff = (centroids[a * dims + t] ?? 0) - (centroids[b * dims + t] ?? 0);
        d2 += diff * diff;
      }
      best = Math.min(best, Math.sqrt(d2));
    }
  }
  return Number.isFinite(best) ? best : 0;
}

/** Fraction of rows whose label differs between two assignments of the same rows. */
export function labelChangeRate(before: ArrayLike<number>, after: ArrayLike<number>): number {
  if (before.length !== after.length) {
    throw new RangeError(`label arrays differ in length: ${before.length} and ${after.length}`);
  }
  if (before.length === 0) return 0;
  let changed = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed++;
  return changed / before.length;
}

/** Mean of a Float32Array's finite values; NaN when there are none. */
export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? NaN;
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}

/** A mean over records that forgets with a half-life in records (the same rule as the f estimate). */
export class DecayingMean {
  private readonly a: number;
  private weight = 0;
  private sum = 0;

  constructor(halfLifeRecords: number) {
    this.a = decayFactor(halfLifeRecords);
  }

  /** Folds in a batch of values arriving together. */
  observe(values: ArrayLike<number>): void {
    const factor = Math.pow(this.a, values.length);
    this.weight *= factor;
    this.sum *= factor;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] ?? NaN;
      if (Number.isFinite(v)) {
        this.sum += v;
        this.weight += 1;
      }
    }
  }

  /** The decayed mean; NaN before any finite value. */
  value(): number {
    return this.weight > 0 ? this.sum / this.weight : NaN;
  }
}

/** The drift signals in the shape WorkerObserver.drift takes. */
export interface DriftReport {
  /** Population stability index of current cluster shares against the bootstrap's. */
  readonly psi: number;
  /** Mean reconstruction error of recent records divided by the bootstrap's. */
  readonly reconstructionErrorRatio: number;
  /** Fraction of the recent window whose label changed when it was re-assigned. */
  readonly labelChangeRate: number;
  readonly meanConfidence: number;
}

/** What the refinement thread measures on the recent window each time it refines. */
export interface WindowSignals {
  /** Mean squared reconstruction error of the window under the serving model. */
  readonly reconstructionError: number;
  /** Fraction of the window whose label changed between the old and the new version. */
  readonly labelChangeRate: number;
  /** KL(P‖Q) after the step. */
  readonly loss: number;
  readonly centroidShift: number;
}

export interface DriftBaseline {
  /** Cluster shares at bootstrap (sizes are normalised). */
  readonly clusterSizes: ArrayLike<number>;
  /** TrainingMetrics.reconstructionError of the bootstrap. */
  readonly reconstructionError: number;
}

/**
 * Collects the signals as they arrive (shares and confidence from every labelled batch, window
 * signals from every refinement) and turns them into one DriftReport.
 */
export class DriftMonitor {
  private baselineShares: Float64Array;
  private baselineReconstruction: number;
  private readonly confidence: DecayingMean;
  private latest: WindowSignals | undefined;

  constructor(baseline: DriftBaseline, halfLifeRecords: number) {
    this.baselineShares = toShares(baseline.clusterSizes);
    this.baselineReconstruction = baseline.reconstructionError;
    this.confidence = new DecayingMean(halfLifeRecords);
  }

  /** A re-bootstrap sets a new baseline. */
  rebase(baseline: DriftBaseline): void {
    this.baselineShares = toShares(baseline.clusterSizes);
    this.baselineReconstruction = baseline.reconstructionError;
    this.latest = undefined;
  }

  observeConfidence(values: ArrayLike<number>): void {
    this.confidence.observe(values);
  }

  observeWindow(signals: WindowSignals): void {
    this.latest = signals;
  }

  /** The last window signals, if a refinement has reported any. */
  window(): WindowSignals | undefined {
    return this.latest;
  }

  /** The report for the current shares (from the running cluster-size estimate). */
  report(currentShares: ArrayLike<number>): DriftReport {
    const recon = this.latest?.reconstructionError;
    return {
      psi: populationStabilityIndex(currentShares, this.baselineShares),
      reconstructionErrorRatio:
        recon !== undefined && this.baselineReconstruction > 0
          ? recon / this.baselineReconstruction
          : 1,
      labelChangeRate: this.latest?.labelChangeRate ?? 0,
      meanConfidence: this.confidence.value(),
    };
  }
}

export interface SustainedDriftOptions {
  /** PSI above this counts as drift (0.25 is the usual "significant shift"). */
  readonly psiThreshold: number;
  /** Reconstruction error ratio above this counts as drift; Infinity ignores it. */
  readonly reconstructionRatioThreshold: number;
  /** Drift must last this long (ms) before it triggers. */
  readonly sustainMs: number;
  /** After a trigger, stay quiet this long (ms). */
  readonly cooldownMs: number;
}

/** True when a report shows drift under the thresholds. */
export function isDrifting(report: DriftReport, options: SustainedDriftOptions): boolean {
  return (
    report.psi > options.psiThreshold ||
    report.reconstructionErrorRatio > options.reconstructionRatioThreshold
  );
}

/**
 * Fires once when drift has stayed above the thresholds for `sustainMs` without a break, then stays
 * quiet for `cooldownMs`. Drives the optional re-bootstrap policy. Time is passed in, never read.
 */
export class SustainedDrift {
  private readonly options: SustainedDriftOptions;
  private driftingSinceMs: number | undefined;
  private quietUntilMs = -Infinity;

  constructor(options: SustainedDriftOptions) {
    this.options = options;
  }

  /** Feeds the report that holds at `nowMs`; true when a re-bootstrap is due. */
  update(report: DriftReport, nowMs: number): boolean {
    if (nowMs < this.quietUntilMs || !isDrifting(report, this.options)) {
      this.driftingSinceMs = undefined;
      return false;
    }
    this.driftingSinceMs ??= nowMs;
    if (nowMs - this.driftingSinceMs < this.options.sustainMs) return false;
    this.driftingSinceMs = undefined;
    this.quietUntilMs = nowMs + this.options.cooldownMs;
    return true;
  }
}
