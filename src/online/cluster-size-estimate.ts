/**
 * A running, exponentially decaying estimate of the soft cluster sizes f_j that DEC's target
 * distribution needs (p_ij ∝ q_ij² / f_j). Computing f from one mini-batch is a known mistake; in a
 * stream the honest equivalent is a long memory that forgets at a configured rate.
 *
 * The decay follows Spark's StreamingKMeans with time measured in records: after m new records every
 * old weight is multiplied by a^m with a = exp(ln 0.5 / halfLifeRecords), so a record's weight halves
 * once `halfLifeRecords` newer records have arrived.
 */

/** The per-record decay factor a = exp(ln 0.5 / halfLife); 1 (no forgetting) for an infinite half-life. */
export function decayFactor(halfLifeRecords: number): number {
  if (!(halfLifeRecords > 0)) {
    throw new RangeError(`halfLifeRecords must be positive, got ${halfLifeRecords}`);
  }
  return Number.isFinite(halfLifeRecords) ? Math.exp(Math.log(0.5) / halfLifeRecords) : 1;
}

export class ClusterSizeEstimate {
  readonly clusters: number;
  readonly halfLifeRecords: number;
  private readonly a: number;
  private readonly weights: Float64Array;
  private recordsSeen = 0;

  /**
   * @param initialSizes optional starting sizes (e.g. the bootstrap's soft cluster sizes); they decay
   *   like any other observation.
   */
  constructor(clusters: number, halfLifeRecords: number, initialSizes?: ArrayLike<number>) {
    if (!Number.isInteger(clusters) || clusters < 1) {
      throw new RangeError(`clusters must be a positive integer, got ${clusters}`);
    }
    this.clusters = clusters;
    this.halfLifeRecords = halfLifeRecords;
    this.a = decayFactor(halfLifeRecords);
    this.weights = new Float64Array(clusters);
    if (initialSizes !== undefined) this.reset(initialSizes);
  }

  /** Records folded in so far (not decayed). */
  get records(): number {
    return this.recordsSeen;
  }

  /** Replaces the estimate, e.g. after a re-bootstrap. */
  reset(sizes: ArrayLike<number>): void {
    if (sizes.length !== this.clusters) {
      throw new RangeError(`expected ${this.clusters} sizes, got ${sizes.length}`);
    }
    for (let j = 0; j < this.clusters; j++) {
      const v = sizes[j] ?? 0;
      this.weights[j] = Number.isFinite(v) && v > 0 ? v : 0;
    }
  }

  /**
   * Folds in a batch of soft assignments q (row-major [rows, clusters]): f ← f·a^rows + Σ_i q_i.
   * The whole batch counts as arriving at once, as Spark does for one mini-batch.
   */
  observeSoft(q: Float32Array, rows: number): void {
    const k = this.clusters;
    if (q.length < rows * k) throw new RangeError(`q holds ${q.length} values, need ${rows * k}`);
    this.decay(rows);
    for (let i = 0; i < rows; i++) {
      const base = i * k;
      for (let j = 0; j < k; j++) {
        const v = q[base + j] ?? 0;
        if (Number.isFinite(v)) this.weights[j] = (this.weights[j] ?? 0) + v;
      }
    }
    this.recordsSeen += rows;
  }

  /** Folds in hard labels: every record adds 1 to its cluster. */
  observeHard(labels: ArrayLike<number>): void {
    this.decay(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const j = labels[i] ?? -1;
      if (j >= 0 && j < this.clusters) this.weights[j] = (this.weights[j] ?? 0) + 1;
    }
    this.recordsSeen += labels.length;
  }

  /** Multiplies every weight by a^records, as if that many records went elsewhere. */
  decay(records: number): void {
    if (records <= 0 || this.a === 1) return;
    const factor = Math.pow(this.a, records);
    for (let j = 0; j < this.clusters; j++) this.weights[j] = (this.weights[j] ?? 0) * factor;
  }

  /**
   * Moves half of cluster `from`'s weight to cluster `to` (which loses its own): the bookkeeping of
   * re-seeding a dying cluster by splitting the largest one.
   */
  split(from: number, to: number): void {
    const half = (this.weights[from] ?? 0) / 2;
    this.weights[from] = half;
    this.weights[to] = half;
  }

  /** Renumbers the clusters: new cluster j takes old cluster permutation[j]'s weight. */
  permute(permutation: ArrayLike<number>): void {
    const old = Float64Array.from(this.weights);
    for (let j = 0; j < this.clusters; j++) this.weights[j] = old[permutation[j] ?? j] ?? 0;
  }

  /** The decayed soft sizes f_j, as refineStep takes them. */
  sizes(): Float32Array {
    return Float32Array.from(this.weights);
  }

  /** f_j / Σ f; uniform while nothing has been observed. */
  shares(): Float64Array {
    let total = 0;
    for (const w of this.weights) total += w;
    const out = new Float64Array(this.clusters);
    for (let j = 0; j < this.clusters; j++) {
      out[j] = total > 0 ? (this.weights[j] ?? 0) / total : 1 / this.clusters;
    }
    return out;
  }
}
