/**
 * The bounded window of recent feature vectors that refinement trains on: a ring buffer of rows that
 * keeps the newest `capacity` records. Pushing copies rows in; `snapshot` copies them out oldest first.
 */
import type { Matrix } from '../model/types.js';

export class FeatureWindow {
  readonly capacity: number;
  private cols: number;
  private buffer: Float32Array;
  /** Next row to write. */
  private head = 0;
  private filled = 0;

  constructor(capacity: number, cols = 0) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.cols = cols;
    this.buffer = new Float32Array(capacity * cols);
  }

  get rows(): number {
    return this.filled;
  }

  get width(): number {
    return this.cols;
  }

  /** Appends the rows of `x`; the oldest rows fall out once the window is full. */
  push(x: Matrix): void {
    if (x.rows === 0) return;
    if (x.cols !== this.cols) {
      // The feature width changed (a new model): the old rows mean nothing now.
      this.cols = x.cols;
      this.buffer = new Float32Array(this.capacity * x.cols);
      this.clear();
    }
    const d = this.cols;
    // Only the newest `capacity` rows of a large batch can survive.
    const first = Math.max(0, x.rows - this.capacity);
    let row = first;
    while (row < x.rows) {
      const run = Math.min(x.rows - row, this.capacity - this.head);
      this.buffer.set(x.data.subarray(row * d, (row + run) * d), this.head * d);
      this.head = (this.head + run) % this.capacity;
      row += run;
    }
    this.filled = Math.min(this.capacity, this.filled + x.rows - first);
  }

  clear(): void {
    this.head = 0;
    this.filled = 0;
  }

  /** A copy of the window, oldest row first. */
  snapshot(): Matrix {
    const d = this.cols;
    const data = new Float32Array(this.filled * d);
    const start = (this.head - this.filled + this.capacity) % this.capacity;
    const firstRun = Math.min(this.filled, this.capacity - start);
    data.set(this.buffer.subarray(start * d, (start + firstRun) * d), 0);
    if (firstRun < this.filled)
      data.set(this.buffer.subarray(0, (this.filled - firstRun) * d), firstRun * d);
    return { data, rows: this.filled, cols: d };
  }
}
