/**
 * A bounded sample of the whole stream, for the background retrain: at most `capacity` rows,
 * whatever the stream's length, so memory stays at capacity × width float32s.
 *
 * Uniform (no half-life): reservoir sampling (Vitter's algorithm R). The n-th record enters with
 * probability capacity / n and replaces a uniformly chosen row, so every record seen so far is in
 * the sample with the same probability.
 *
 * Time-decayed (half-life H records): once full, every record enters with probability at least
 * p = min(1, capacity · ln 2 / H), replacing a uniformly chosen row. A row then survives t later
 * records with probability (1 − p / capacity)^t ≈ exp(−t · ln 2 / H): its chance of still being in
 * the sample halves every H records (biased reservoir sampling, Aggarwal 2006). Early on, while
 * capacity / n is larger than p, the sample is uniform, so it never under-fills.
 */
import type { Matrix } from '../model/types.js';
import { SeededRandom } from '../model/rng.js';

export interface StreamSampleOptions {
  /** Most rows kept. */
  readonly capacity: number;
  /** Half-life in records of a row's chance to stay; undefined or 0: a uniform reservoir. */
  readonly halfLifeRecords?: number;
  readonly seed: number;
}

export class StreamSample {
  readonly capacity: number;
  private readonly entryFloor: number;
  private readonly random: SeededRandom;
  private cols = 0;
  private buffer = new Float32Array(0);
  private filled = 0;
  private seenRecords = 0;

  constructor(options: StreamSampleOptions) {
    const { capacity, halfLifeRecords = 0 } = options;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`sample capacity must be a positive integer, got ${capacity}`);
    }
    if (!(halfLifeRecords >= 0)) {
      throw new RangeError(`half-life must be 0 or positive, got ${halfLifeRecords}`);
    }
    this.capacity = capacity;
    this.entryFloor =
      halfLifeRecords > 0 ? Math.min(1, (capacity * Math.LN2) / halfLifeRecords) : 0;
    this.random = new SeededRandom(options.seed);
  }

  /** Rows held now. */
  get rows(): number {
    return this.filled;
  }

  /** Records offered since the sample started (or was cleared). */
  get seen(): number {
    return this.seenRecords;
  }

  /** Offers every row of `x` to the sample (copied in). */
  add(x: Matrix): void {
    if (x.rows === 0) return;
    if (x.cols !== this.cols) {
      // A new feature width (a new model's features): the old rows mean nothing now.
      this.cols = x.cols;
      this.buffer = new Float32Array(this.capacity * x.cols);
      this.clear();
    }
    const d = this.cols;
    for (let i = 0; i < x.rows; i++) {
      this.seenRecords++;
      const slot = this.slotFor();
      if (slot >= 0) this.buffer.set(x.data.subarray(i * d, (i + 1) * d), slot * d);
    }
  }

  /** A copy of the rows held, in slot order. */
  snapshot(): Matrix {
    return {
      data: this.buffer.slice(0, this.filled * this.cols),
      rows: this.filled,
      cols: this.cols,
    };
  }

  clear(): void {
    this.filled = 0;
    this.seenRecords = 0;
  }

  /** Where the record just counted goes: a free slot, a replaced one, or −1 (not kept). */
  private slotFor(): number {
    if (this.filled < this.capacity) return this.filled++;
    const p = Math.max(this.capacity / this.seenRecords, this.entryFloor);
    if (this.random.next() >= p) return -1;
    return Math.floor(this.random.next() * this.capacity);
  }
}
