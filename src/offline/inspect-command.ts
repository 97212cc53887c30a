import { UsageError } from '../errors.js';
import { clusterIdsOf } from '../model/cluster-ids.js';
import { clusterProfiles } from '../model/cluster-profile.js';
import { describeLeftOutColumns, leftOutColumnNames } from '../model/left-out-columns.js';
import { prototypeGrid } from '../model/prototype-grid.js';
import type { ModelSnapshot } from '../model/types.js';
import { describeIdMapping } from '../online/id-mapping.js';
import { FsModelStore } from '../store/fs-model-store.js';
import { loadModel } from './assign-command.js';
import { parseCommandArgs, requiredString, stringOption } from './args.js';
import type { OptionSpec } from './args.js';
import type { CommandIo } from './command-io.js';
import { writeGreyPng } from './png-file.js';
import { profileTable } from './profile-table.js';

export const INSPECT_HELP = `Usage: dec-stream inspect --model-dir DIR [--json] [--png FILE]

Describes the newest valid model in DIR and explains its clusters. Each cluster's profile: its
share, its records' mean confidence, a prototype record (the centroid decoded into the input's
feature names and units), the kept records nearest its centroid, and the features (and positions
of vector features) whose cluster mean lies furthest from the overall mean, as z-scores.

Prints a table of the profiles; with --json, one JSON object: version, input dimensions, clusters
and their sizes, what serves (modelKind: dec, or kmeans when the guard preferred k-means on the
inputs, with the guard's scores), architecture, training options and metrics, the backend it was
trained on, the versions stored in DIR, and the profiles.

  --model-dir DIR   where dec-stream train (or the worker) stored the model
  --json            print JSON instead of the table
  --png FILE        for image records (a square vector field, or the DEC_AUGMENT_IMAGE size):
                    write a PNG with one row per cluster, its prototype beside its most
                    confident kept members
  -h, --help        this help
`;

const OPTIONS: OptionSpec = {
  'model-dir': { type: 'string' },
  json: { type: 'boolean' },
  png: { type: 'string' },
};

/** A readable summary of a snapshot (no weights). */
export function describeSnapshot(snapshot: ModelSnapshot): Record<string, unknown> {
  const { parameters: p, metrics, featureSpec } = snapshot;
  const inputDims = featureSpec.widths.reduce((n, w) => n + w, 0);
  const weights = [...p.encoder, ...p.decoder].reduce(
    (n, layer) => n + layer.weights.length + layer.bias.length,
    p.centroids.length,
  );
  return {
    version: snapshot.version,
    createdAt: snapshot.createdAt,
    inputDims,
    clusters: p.clusters,
    embeddingSize: p.embeddingSize,
    features: featureSpec.fields.map((field, i) => {
      const width = featureSpec.widths[i] ?? 1;
      return width === 1 ? field : `${field}[${width}]`;
    }),
    architecture: [inputDims, ...p.encoder.map((layer) => layer.outputSize)].join('-'),
    // Columns independent of every other column, which the model does not use (0 on its input).
    leftOutColumns: leftOutColumnNames(snapshot.standardisation, featureSpec),
    parameters: weights,
    method: snapshot.options.method,
    // 'kmeans' when the guard found the deep model no better than k-means on the inputs.
    modelKind: metrics.modelKind ?? 'dec',
    ...(metrics.selection === undefined ? {} : { guard: metrics.selection }),
    // A promoted shadow: the evidence, and which of its clusters took which id (with overlap).
    ...(metrics.promotion === undefined ? {} : { promotion: metrics.promotion }),
    backend: metrics.backend,
    // The id each cluster is published under, in the order of clusterSizes.
    clusterIds: clusterIdsOf(snapshot),
    clusterSizes: metrics.clusterSizes,
    metrics,
    options: snapshot.options,
  };
}

export async function runInspectCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parseCommandArgs('inspect', args, OPTIONS);
  if (values.help === true) {
    io.stdout.write(INSPECT_HELP);
    return 0;
  }
  const modelDir = requiredString('inspect', values, 'model-dir');
  const log = (message: string): void => {
    io.stderr.write(`${message}\n`);
  };
  const png = stringOption(values, 'png');
  const snapshot = await loadModel(modelDir, log);
  const stored = await new FsModelStore(modelDir, { log: () => undefined }).list();
  const profiles = clusterProfiles(snapshot);
  if (png !== undefined) {
    const grid = prototypeGrid(snapshot);
    if (grid === undefined) {
      throw new UsageError(
        '--png needs a model whose records hold an image: a vector feature of a square size or of the DEC_AUGMENT_IMAGE size',
      );
    }
    await writeGreyPng(png, grid);
    log(`wrote ${png} (${grid.width} x ${grid.height})`);
  }
  if (values.json === true) {
    io.stdout.write(
      `${JSON.stringify({ ...describeSnapshot(snapshot), storedVersions: stored, profiles }, null, 2)}\n`,
    );
    return 0;
  }
  io.stdout.write(
    `${summaryLine(snapshot, stored.length)}\n${leftOutLine(snapshot)}${promotionLine(snapshot)}\n` +
      profileTable(profiles),
  );
  if (snapshot.clusterStatistics === undefined) {
    io.stdout.write(
      'This version was saved before versions kept statistics of their records: no confidence, members or features.\n',
    );
  }
  return 0;
}

/** The feature columns the model leaves out, one line; else empty. */
function leftOutLine(snapshot: ModelSnapshot): string {
  const names = leftOutColumnNames(snapshot.standardisation, snapshot.featureSpec);
  const line = describeLeftOutColumns(names, snapshot.standardisation.mean.length);
  return line === undefined ? '' : `${line}\n`;
}

/** How a promoted version replaced the previous one, and how its ids were matched; else empty. */
function promotionLine(snapshot: ModelSnapshot): string {
  const p = snapshot.metrics.promotion;
  if (p === undefined) return '';
  return (
    `promoted from a retrain on ${p.trainedOnRecords} sampled records, replacing version ${p.replacedVersion}: ` +
    `criterion ${p.shadowScore.toFixed(4)} against ${p.servingScore.toFixed(4)} on ${p.judgedOnRecords} recent records; ` +
    `ids: ${describeIdMapping(p.idMapping)}${reassignedPart(p.reassignedShare)}\n`
  );
}

/** The share of records the promotion moved between ids both versions keep, when recorded. */
function reassignedPart(share: number | undefined): string {
  if (share === undefined) return '';
  return `; ${(100 * share).toFixed(1)}% moved between ids both versions keep`;
}

function summaryLine(snapshot: ModelSnapshot, storedVersions: number): string {
  const d = describeSnapshot(snapshot);
  return (
    `model version ${snapshot.version} (${String(d.modelKind)}, ${String(d.clusters)} clusters, ` +
    `${String(d.inputDims)} inputs, ${String(d.architecture)}), created ${snapshot.createdAt}; ` +
    `${storedVersions} version(s) stored`
  );
}
