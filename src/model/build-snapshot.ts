import { PoisonReason, PoisonRecordError, UsageError } from '../errors.js';
import { Assigner } from '../online/assigner.js';
import { overflowedRows } from '../online/overflowed-rows.js';
import type { BackendPreference } from './backend.js';
import { initBackend } from './backend.js';
import { resolveDecOptions } from './defaults.js';
import { canonicalRowOrder, reorderRows } from './canonical-order.js';
import { FeatureExtractor } from './features.js';
import type { ScalingMode } from './standardise.js';
import { fitStandardisation, standardiseInPlace, standardiseRows } from './standardise.js';
import { trainDec, type TrainingHooks } from './train-dec.js';
import type {
  AssignmentBatch,
  DecOptions,
  Matrix,
  ModelSnapshot,
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
  /** Version number of the new snapshot (default 1). */
  readonly version?: number;
}

export interface TrainSnapshotHooks {
  readonly onProgress?: (progress: TrainingProgress) => void;
  readonly signal?: AbortSignal;
  /** Each stage's partition, rows in training order (canonicalRowOrder of the extracted matrix). */
  readonly onStage?: TrainingHooks['onStage'];
  readonly log?: (message: string) => void;
  /**
   * When given, records that cannot be turned into features are skipped and reported here
   * (index into `records`); without it the first such record throws its PoisonRecordError.
   */
  readonly onPoison?: (index: number, error: PoisonRecordError) => void;
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
  const { backend, scaling, version, ...decOptions } = options;
  const x = extractTrainingMatrix(records, featureFields, hooks.onPoison);
  if (x.matrix.rows < options.clusters) {
    throw new UsageError(
      `cannot find ${options.clusters} clusters in ${x.matrix.rows} records: ` +
        'use fewer clusters or more data',
    );
  }
  const resolved = resolveDecOptions(decOptions, x.matrix.cols, x.matrix.rows);
  const mode = resolveScaling(scaling ?? 'auto', x.extractor.spec.widths);
  if (resolved.imageAugmentation !== undefined && mode === 'per-feature') {
    // Moving pixels between columns is only meaningful when every column shares one scale.
    throw new UsageError(
      "image augmentation needs scaling 'global' or 'none' (per-feature scaling gives every pixel its own scale)",
    );
  }
  // The model depends on the set of records, not on the order the window filled in.
  const matrix = reorderRows(x.matrix, canonicalRowOrder(x.matrix));
  const standardisation = fitStandardisation(matrix, { mode });
  standardiseInPlace(matrix, standardisation);

  await initBackend(backend ?? 'auto', hooks.log);
  const trained = await trainDec(matrix, resolved, {
    ...(hooks.onProgress === undefined ? {} : { onProgress: hooks.onProgress }),
    ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
    ...(hooks.onStage === undefined ? {} : { onStage: hooks.onStage }),
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
  };
}

function extractTrainingMatrix(
  records: readonly unknown[],
  fields: readonly string[],
  onPoison: TrainSnapshotHooks['onPoison'],
): { extractor: FeatureExtractor; matrix: Matrix } {
  if (onPoison === undefined) {
    const extractor = FeatureExtractor.infer(fields, records[0]);
    return { extractor, matrix: extractor.extractMatrix(records) };
  }
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
  return { extractor, matrix: { data: data.subarray(0, rows * cols), rows, cols } };
}

/** Labels for a batch of raw records; `row[i]` is the batch row of record i, or -1 if poisoned. */
export interface RecordAssignments {
  readonly batch: AssignmentBatch;
  readonly row: Int32Array;
  readonly poisoned: readonly { readonly index: number; readonly error: PoisonRecordError }[];
}

/**
 * Labels raw records with one model version: extracts features into a reused buffer, standardises
 * them with the snapshot's statistics, and assigns with the trainer's Assigner. Poison records are
 * left out and reported, never thrown. Call dispose() when done (it frees the model's tensors).
 */
export class SnapshotAssigner {
  readonly snapshot: ModelSnapshot;
  readonly extractor: FeatureExtractor;
  private readonly assigner: Assigner;
  private buffer = new Float32Array(0);

  constructor(snapshot: ModelSnapshot) {
    this.snapshot = snapshot;
    this.extractor = new FeatureExtractor(snapshot.featureSpec);
    this.assigner = new Assigner(snapshot.parameters);
  }

  get version(): number {
    return this.snapshot.version;
  }

  /** Feature vectors of the usable records, standardised, in a buffer reused by the next call. */
  features(records: readonly unknown[]): {
    x: Matrix;
    row: Int32Array;
    poisoned: { index: number; error: PoisonRecordError }[];
  } {
    const dims = this.extractor.dims;
    if (this.buffer.length < records.length * dims) {
      this.buffer = new Float32Array(records.length * dims);
    }
    const row = new Int32Array(records.length).fill(-1);
    const poisoned: { index: number; error: PoisonRecordError }[] = [];
    let rows = 0;
    for (let i = 0; i < records.length; i++) {
      try {
        this.extractor.extract(records[i], this.buffer, rows * dims);
        // A feature within float32 can still overflow once scaled by a small std.
        standardiseRows(this.buffer, rows, 1, this.snapshot.standardisation);
        checkFiniteRow(this.buffer, rows * dims, dims);
        row[i] = rows++;
      } catch (error) {
        if (!(error instanceof PoisonRecordError)) throw error;
        poisoned.push({ index: i, error });
      }
    }
    return { x: { data: this.buffer.subarray(0, rows * dims), rows, cols: dims }, row, poisoned };
  }

  /**
   * Features, then the assignment of the usable records. A record whose features overflow the
   * model's soft assignment (q is 0/0 for every cluster) is poisoned too, and the others are
   * assigned again without it.
   */
  assignRecords(records: readonly unknown[]): RecordAssignments {
    const features = this.features(records);
    const { row, poisoned } = features;
    let x = features.x;
    let batch = this.assign(x);
    const overflowed = overflowedRows(batch);
    if (overflowed !== undefined) {
      const renumbered = new Int32Array(x.rows).fill(-1);
      overflowed.kept.forEach((kept, next) => (renumbered[kept] = next));
      for (let i = 0; i < row.length; i++) {
        const before = row[i] as number;
        if (before < 0) continue;
        row[i] = renumbered[before] as number;
        if (row[i] === -1) {
          poisoned.push({
            index: i,
            error: new PoisonRecordError(
              PoisonReason.NonFinite,
              'a feature is too large for the model: its soft assignment overflows',
            ),
          });
        }
      }
      x = reorderRows(x, overflowed.kept);
      batch = this.assign(x);
    }
    return { batch, row, poisoned };
  }

  private assign(x: Matrix): AssignmentBatch {
    if (x.rows > 0) return this.assigner.assign(x);
    return {
      rows: 0,
      clusters: this.snapshot.parameters.clusters,
      cluster: new Int32Array(0),
      confidence: new Float32Array(0),
      q: new Float32Array(0),
      distance: new Float32Array(0),
    };
  }

  dispose(): void {
    this.assigner.dispose();
  }
}

/** Throws PoisonRecordError (NonFinite) when a standardised feature of the row overflowed. */
function checkFiniteRow(data: Float32Array, offset: number, dims: number): void {
  for (let i = offset; i < offset + dims; i++) {
    if (!Number.isFinite(data[i])) {
      throw new PoisonRecordError(
        PoisonReason.NonFinite,
        'a feature overflows after standardisation',
      );
    }
  }
}

/** One-off labelling of records with a snapshot (builds and disposes an assigner). */
export function assignRecords(
  snapshot: ModelSnapshot,
  records: readonly unknown[],
): RecordAssignments {
  const assigner = new SnapshotAssigner(snapshot);
  try {
    return assigner.assignRecords(records);
  } finally {
    assigner.dispose();
  }
}
