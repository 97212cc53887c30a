/**
 * Raw records → the matrix training sees: features (widths inferred from the first usable record),
 * rows in canonical order, standardised and screened as trainSnapshot does it. For the steps that
 * look at the data before a model is trained (choosing the number of clusters).
 */
import { PoisonRecordError, UsageError } from '../errors.js';
import { resolveScaling } from './build-snapshot.js';
import { canonicalRowOrder, reorderRows } from './canonical-order.js';
import { FeatureExtractor } from './features.js';
import { leftOutColumnNames } from './left-out-columns.js';
import type { ScalingMode } from './standardise.js';
import { fitStandardisation, standardiseInPlace } from './standardise.js';
import type { Matrix } from './types.js';

export interface TrainingInput {
  /** Standardised rows in canonical order; columns left out are 0. */
  readonly matrix: Matrix;
  /** Names of the columns left out (column-screening.ts), in column order. */
  readonly leftOutColumns: readonly string[];
}

/** Records that cannot be turned into features are skipped (training skips them too). */
export function standardisedTrainingMatrix(
  records: readonly unknown[],
  fields: readonly string[],
  scaling: ScalingMode | 'auto' = 'auto',
  screenColumns = true,
): TrainingInput {
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
  const standardisation = fitStandardisation(matrix, { mode, screenColumns });
  standardiseInPlace(matrix, standardisation);
  return {
    matrix,
    leftOutColumns: leftOutColumnNames(standardisation, extractor.spec),
  };
}
