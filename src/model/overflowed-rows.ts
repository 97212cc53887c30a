import type { AssignmentBatch } from './types.js';

/** The rows of an assignment whose soft assignment is a probability, and those whose is not. */
export interface OverflowedRows {
  /** Rows with a finite confidence, ascending: what reorderRows keeps. */
  readonly kept: Int32Array;
  /** Rows whose confidence is NaN, ascending. */
  readonly dropped: readonly number[];
}

/**
 * Finite features can still be too large for a model: the embedding's squared distances to every
 * centroid overflow to Infinity, and q = (1 + d²)⁻¹ / Σ (1 + d²)⁻¹ is 0/0 for every cluster. Such a
 * row has no cluster. Undefined when every row has a finite confidence (the common case).
 */
export function overflowedRows(batch: AssignmentBatch): OverflowedRows | undefined {
  let dropped: number[] | undefined;
  for (let row = 0; row < batch.rows; row++) {
    if (!Number.isFinite(batch.confidence[row])) (dropped ??= []).push(row);
  }
  if (dropped === undefined) return undefined;
  const skip = new Set(dropped);
  const kept = new Int32Array(batch.rows - dropped.length);
  let next = 0;
  for (let row = 0; row < batch.rows; row++) if (!skip.has(row)) kept[next++] = row;
  return { kept, dropped };
}
