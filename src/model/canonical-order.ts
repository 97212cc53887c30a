/**
 * Training on a set, not a sequence. The bootstrap window fills in whatever order the partitions
 * deliver, and mini-batch training (and float sums) depend on row order, so two workers with the
 * same records could train different models. Sorting the rows by their own values first makes the
 * model a function of the records and the seed alone.
 */
import type { Matrix } from './types.js';

/** FNV-1a over a row's float32 bits: a cheap key that spreads rows evenly. */
function rowHash(bits: Uint32Array, start: number, cols: number): number {
  let h = 0x811c9dc5;
  for (let c = 0; c < cols; c++) {
    h = Math.imul(h ^ bits[start + c]!, 0x01000193) >>> 0;
  }
  return h;
}

/** Compares two rows value by value; equal rows compare 0 (their order cannot matter). */
function compareRows(data: Float32Array, a: number, b: number, cols: number): number {
  for (let c = 0; c < cols; c++) {
    const d = data[a * cols + c]! - data[b * cols + c]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** The permutation that sorts rows by hash, ties by value: the same for any order of the same rows. */
export function canonicalRowOrder(x: Matrix): Int32Array {
  const bits = new Uint32Array(x.data.buffer, x.data.byteOffset, x.data.length);
  const hashes = new Uint32Array(x.rows);
  for (let i = 0; i < x.rows; i++) hashes[i] = rowHash(bits, i * x.cols, x.cols);
  const order = Int32Array.from({ length: x.rows }, (_, i) => i);
  order.sort((a, b) => hashes[a]! - hashes[b]! || compareRows(x.data, a, b, x.cols));
  return order;
}

/** The rows of x in the given order, as a new matrix. */
export function reorderRows(x: Matrix, order: Int32Array): Matrix {
  const data = new Float32Array(order.length * x.cols);
  order.forEach((row, i) =>
    data.set(x.data.subarray(row * x.cols, (row + 1) * x.cols), i * x.cols),
  );
  return { data, rows: order.length, cols: x.cols };
}
