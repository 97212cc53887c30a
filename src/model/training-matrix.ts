/**
 * Raw records → the matrix training sees: features (widths inferred from the first usable record),
 * rows in canonical order, standardised as trainSnapshot standardises them. For the steps that
 * look at the data before a model is trained (choosing the number of clusters).
 */
import { PoisonRecordError, UsageError } from '../errors.js';
import { resolveScaling } from './build-snapshot.js';
import { canonicalRowOrder, reorderRows } from './canonical-order.js';
import { FeatureExtractor } from './features.js';
import type { ScalingMode } from './standardise.js';
import { fitStandardisation, standardiseInPlace } from './standardise.js';
import type { Matrix } from './types.js';

/** Records that cannot be turned into features are skipped (training skips them too). */
export function standardisedTrainingMatrix(
  records: readonly unknown[],
  fields: readonly string[],
  scaling: ScalingMode | 'auto' = 'auto',
): Matrix {
  let extractor: FeatureExtractor | undefined;
  let data = new Float32Array(0);
  let rows = 0;
  for (const record of records) {
    try {
      if (extractor === undefined) {
        extractor = FeatureExtractor.infer(fields, record);
        data = new Float32Array(records.length * extractor.dims);
      }
      extractor.extract(record, data, rows * extractor.dims);
      rows++;
    } catch (error) {
      if (!(error instanceof PoisonRecordError)) throw error;
    }
  }
  if (extractor === undefined) throw new UsageError('none of the records holds usable features');
  const cols = extractor.dims;
  const raw: Matrix = { data: data.subarray(0, rows * cols), rows, cols };
  const matrix = reorderRows(raw, canonicalRowOrder(raw));
  const mode = resolveScaling(scaling, extractor.spec.widths);
  standardiseInPlace(matrix, fitStandardisation(matrix, { mode }));
  return matrix;
}
