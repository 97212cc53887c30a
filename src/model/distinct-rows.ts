/**
 * The distinct rows of a matrix, and the way back. UMAP's neighbour graph needs them: a row with
 * at least as many copies as a neighbourhood holds has only its own copies for neighbours, so they
 * form a component of their own and the layout places them as an island wherever its start put
 * them (umap-learn's `unique` option exists for this). Tables of coded values (scores from 1 to
 * 10, counts) repeat rows often enough to scatter a layout into such islands.
 */
import type { Matrix } from './types.js';

export interface DistinctRows {
  /** The first copy of every distinct row, in the order they first appear. */
  readonly distinct: Matrix;
  /** For every row of the input, the index of its copy in `distinct`. */
  readonly indexOf: Int32Array;
  /** How many times the most repeated row occurs (1 when every row is distinct). */
  readonly mostCopies: number;
}

/** The distinct rows of `x` (equal when every value is bit for bit the same). */
export function distinctRows(x: Matrix): DistinctRows {
  const bytes = new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength);
  const rowBytes = x.cols * x.data.BYTES_PER_ELEMENT;
  const firstOf = new Map<string, number>();
  const indexOf = new Int32Array(x.rows);
  const firstRows: number[] = [];
  const copies: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    const key = Buffer.from(bytes.subarray(i * rowBytes, (i + 1) * rowBytes)).toString('latin1');
    let index = firstOf.get(key);
    if (index === undefined) {
      index = firstRows.length;
      firstOf.set(key, index);
      firstRows.push(i);
      copies.push(0);
    }
    indexOf[i] = index;
    copies[index]! += 1;
  }
  const data = new Float32Array(firstRows.length * x.cols);
  firstRows.forEach((row, j) =>
    data.set(x.data.subarray(row * x.cols, (row + 1) * x.cols), j * x.cols),
  );
  return {
    distinct: { data, rows: firstRows.length, cols: x.cols },
    indexOf,
    mostCopies: copies.reduce((most, n) => Math.max(most, n), 0),
  };
}

/** Every input row's copy of its distinct row's values: [indexOf.length, values.cols]. */
export function expandRows(values: Matrix, indexOf: Int32Array): Matrix {
  const data = new Float32Array(indexOf.length * values.cols);
  indexOf.forEach((j, i) =>
    data.set(values.data.subarray(j * values.cols, (j + 1) * values.cols), i * values.cols),
  );
  return { data, rows: indexOf.length, cols: values.cols };
}
