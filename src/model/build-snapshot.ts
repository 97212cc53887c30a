import { PoisonRecordError, UsageError } from '../errors.js';
import { versionStatistics } from './version-statistics.js';
import type { BackendPreference } from './backend.js';
import { initBackend } from './backend.js';
import { resolveDecOptions } from './defaults.js';
import { canonicalRowOrder, reorderRows } from './canonical-order.js';
import { FeatureExtractor } from './features.js';
import type { ScalingMode } from './standardise.js';
import { fitStandardisation, standardiseInPlace } from './standardise.js';
import { describeLeftOutColumns, leftOutColumnNames } from './left-out-columns.js';
import { trainDec, type TrainingHooks } from './train-dec.js';
import type {
  DecOptions,
  Matrix,
  ModelSnapshot,
  Standardisation,
  TrainingProgress,
} from './types.js';

/** What to train: the DEC options (clusters required, the rest defaulted) plus snapshot settings. */
export interface TrainSnapshotOptions extends Partial<DecOptions> {
  readonly clusters: number;
  /** tfjs backend to initialise first (default 'auto'); ignored when one is already running. */
  readonly backend?: BackendPreference;
  /**
   * Feature scaling learned from the records. 'auto' (the default): 'global' when every feature
   * field is a vector (pixels, embeddings: components share one scale), 'per-feature' otherwise.
   */
  readonly scaling?: ScalingMode | 'auto';
  /**
   * Leave out the columns that are independent of every other column (default true; only with
   * per-feature scaling). See column-screening.ts.
   */
  readonly columnScreening?: boolean;
  /** Version number of the new snapshot (default 1). */
  readonly version?: number;
}

export interface TrainSnapshotHooks {
  readonly onProgress?: (progress: TrainingProgress) => void;
  readonly signal?: AbortSignal;
  /** Each stage's partition, rows in training order (canonicalRowOrder of the extracted matrix). */
  readonly onStage?: TrainingHooks['onStage'];
  /** Where the guard's baseline k-means runs (threaded-kmeans.ts); on this thread when absent. */
  readonly baselineKmeans?: TrainingHooks['baselineKmeans'];
  /** Autoencoders pretrained before on the same records (the choice of k's). */
  readonly pretrainCache?: TrainingHooks['pretrainCache'];
  readonly log?: (message: string) => void;
  /**
   * When given, records that cannot be turned into features are skipped and reported here
   * (index into `records`); without it the first such record throws its PoisonRecordError.
   */
  readonly onPoison?: (index: number, error: PoisonRecordError) => void;
  /** Where each record came from, one per record: kept with the snapshot's sample of members. */
  readonly recordIds?: readonly string[];
}

/** 'auto' scaling: one shared scale when every field is a vector, per-feature otherwise. */
export function resolveScaling(
  scaling: ScalingMode | 'auto',
  fieldWidths: readonly number[],
): ScalingMode {
  if (scaling !== 'auto') return scaling;
  return fieldWidths.length > 0 && fieldWidths.every((w) => w > 1) ? 'global' : 'per-feature';
}

/**
 * Trains one model version from raw records: features (widths inferred from the first usable record)
 * → standardisation learned on these records → DEC/IDEC training → snapshot. Shared by the CLI's
 * `train` and the worker's bootstrap.
 */
export async function trainSnapshot(
  records: readonly unknown[],
  featureFields: readonly string[],
  options: TrainSnapshotOptions,
  hooks: TrainSnapshotHooks = {},
): Promise<ModelSnapshot> {
  if (records.length === 0) throw new UsageError('there are no records to train on');
  const { backend, scaling, columnScreening, version, ...decOptions } = options;
  const x = extractTrainingMatrix(records, featureFields, hooks.onPoison);
  if (x.matrix.rows < options.clusters) {
    throw new UsageError(
      `cannot find ${options.clusters} clusters in ${x.matrix.rows} records: ` +
        'use fewer clusters or more data',
    );
  }
  const mode = resolveScaling(scaling ?? 'auto', x.extractor.spec.widths);
  if (decOptions.imageAugmentation !== undefined && mode === 'per-feature') {
    // Moving pixels between columns is only meaningful when every column shares one scale.
    throw new UsageError(
      "image augmentation needs scaling 'global' or 'none' (per-feature scaling gives every pixel its own scale)",
    );
  }
  // The model depends on the set of records, not on the order the window filled in.
  const order = canonicalRowOrder(x.matrix);
  const matrix = reorderRows(x.matrix, order);
  const standardisation = fitStandardisation(matrix, {
    mode,
    screenColumns: columnScreening ?? true,
  });
  standardiseInPlace(matrix, standardisation);
  logLeftOutColumns(standardisation, x.extractor, hooks.log);
  // Sized by the input's width, left-out columns included: the sizes were chosen by width, and
  // screening changes what the model sees, never its shape.
  const resolved = resolveDecOptions(decOptions, x.matrix.cols, x.matrix.rows);

  await initBackend(backend ?? 'auto', hooks.log);
  const trained = await trainDec(matrix, resolved, {
    ...(hooks.onProgress === undefined ? {} : { onProgress: hooks.onProgress }),
    ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
    ...(hooks.onStage === undefined ? {} : { onStage: hooks.onStage }),
    ...(hooks.baselineKmeans === undefined ? {} : { baselineKmeans: hooks.baselineKmeans }),
    ...(hooks.pretrainCache === undefined ? {} : { pretrainCache: hooks.pretrainCache }),
  });
  return {
    formatVersion: 1,
    version: version ?? 1,
    createdAt: new Date().toISOString(),
    featureSpec: x.extractor.spec,
    standardisation,
    options: resolved,
    parameters: trained.parameters,
    metrics: trained.metrics,
    clusterStatistics: versionStatistics(
      trained.parameters,
      matrix,
      standardisation,
      hooks.recordIds === undefined
        ? undefined
        : Array.from(order, (row) => hooks.recordIds?.[x.kept[row] as number]),
    ),
  };
}

function logLeftOutColumns(
  standardisation: Standardisation,
  extractor: FeatureExtractor,
  log: ((message: string) => void) | undefined,
): void {
  const description = describeLeftOutColumns(
    leftOutColumnNames(standardisation, extractor.spec),
    standardisation.mean.length,
  );
  if (description !== undefined) log?.(description);
}

function extractTrainingMatrix(
  records: readonly unknown[],
  fields: readonly string[],
  onPoison: TrainSnapshotHooks['onPoison'],
): { extractor: FeatureExtractor; matrix: Matrix; kept: readonly number[] } {
  if (onPoison === undefined) {
    const extractor = FeatureExtractor.infer(fields, records[0]);
    const matrix = extractor.extractMatrix(records);
    return { extractor, matrix, kept: Array.from({ length: matrix.rows }, (_, i) => i) };
  }
  /** Index in `records` of each row. */
  const kept: number[] = [];
  let extractor: FeatureExtractor | undefined;
  let data = new Float32Array(0);
  let rows = 0;
  records.forEach((record, index) => {
    try {
      if (extractor === undefined) {
        extractor = FeatureExtractor.infer(fields, record);
        data = new Float32Array(records.length * extractor.dims);
      }
      extractor.extract(record, data, rows * extractor.dims);
      kept.push(index);
      rows++;
    } catch (error) {
      if (!(error instanceof PoisonRecordError)) throw error;
      onPoison(index, error);
    }
  });
  if (extractor === undefined) {
    throw new UsageError('none of the records holds usable features');
  }
  const cols = extractor.dims;
  return { extractor, matrix: { data: data.subarray(0, rows * cols), rows, cols }, kept };
}
