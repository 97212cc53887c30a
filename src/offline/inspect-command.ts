import type { ModelSnapshot } from '../model/types.js';
import { FsModelStore } from '../store/fs-model-store.js';
import { loadModel } from './assign-command.js';
import { parseCommandArgs, requiredString } from './args.js';
import type { OptionSpec } from './args.js';
import type { CommandIo } from './command-io.js';

export const INSPECT_HELP = `Usage: dec-stream inspect --model-dir DIR

Describes the newest valid model in DIR as JSON: version, input dimensions, clusters and their
sizes, what serves (modelKind: dec, or kmeans when the guard preferred k-means on the inputs, with
the guard's scores), architecture, training options and metrics, the backend it was trained on, and the
versions stored in DIR.

  --model-dir DIR   where dec-stream train (or the worker) stored the model
  -h, --help        this help
`;

const OPTIONS: OptionSpec = { 'model-dir': { type: 'string' } };

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
    parameters: weights,
    method: snapshot.options.method,
    // 'kmeans' when the guard found the deep model no better than k-means on the inputs.
    modelKind: metrics.modelKind ?? 'dec',
    ...(metrics.selection === undefined ? {} : { guard: metrics.selection }),
    backend: metrics.backend,
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
  const snapshot = await loadModel(modelDir, log);
  const stored = await new FsModelStore(modelDir, { log: () => undefined }).list();
  io.stdout.write(
    `${JSON.stringify({ ...describeSnapshot(snapshot), storedVersions: stored }, null, 2)}\n`,
  );
  return 0;
}
