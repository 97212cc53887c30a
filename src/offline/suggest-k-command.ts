import { UsageError } from '../errors.js';
import { parseFeatureSpec } from '../feature-list.js';
import { describeLeftOutColumns } from '../model/left-out-columns.js';
import { describeClusterCountRule } from '../model/suggest-clusters.js';
import type { ClusterCountSuggestion } from '../model/suggest-clusters.js';
import type { DecOptions } from '../model/types.js';
import {
  choiceOption,
  integerListOption,
  integerOption,
  parseCommandArgs,
  requiredString,
} from './args.js';
import type { OptionSpec } from './args.js';
import type { CommandIo } from './command-io.js';
import { readUsableRecords } from './usable-records.js';
import { createProgressReporter } from './progress.js';

export const SUGGEST_K_HELP = `Usage: dec-stream suggest-k --input FILE --features SPEC [--min 2] [--max 20] [options]

Suggests the number of clusters k for the records of FILE. The autoencoder is pretrained once, as
dec-stream train would pretrain it; then for each k from --min to --max, k-means runs in a UMAP
layout of the embedding (the space of the training's manifold start) and its partition is scored.
The recommended k is the smallest whose mean silhouette is within 0.01 of the highest (fewer
clusters when more score barely better); the other indices are shown for reference.
It takes about one training's pretraining plus a few seconds per k (see docs/choosing-settings.md).

Required:
  --input FILE              JSONL (one object per line) or CSV with a header row; - reads stdin
  --features SPEC           fields to cluster on, comma-separated dot paths (as for train)

Options:
  --min K                   smallest k considered (default 2)
  --max K                   largest k considered (default 20; less than the number of records)
  --seed N                  random seed: same data and seed give the same table
  --hidden 500,500,2000     encoder hidden layer sizes, as for train
  --embedding N             embedding size (default 10)
  --epochs N                pretraining epochs
  --batch-size N            mini-batch size
  --scaling MODE            auto (default), per-feature, global or none, as for train
  --keep-all-columns        score with every feature column, as train does with the same flag
  --backend NAME            auto (default), tensorflow, wasm or cpu
  --skip-invalid            score the records with usable features and list the others
                            (default: stop, naming every record without usable features)
  --json                    print the table and the recommendation as one JSON object
  --quiet                   no progress output
  -h, --help                this help

Prints a table (k, silhouette, Calinski-Harabasz, Davies-Bouldin, normalised cut, smallest
cluster's share) and the recommended k. Pass it to dec-stream train --clusters K, or use
--clusters auto there to choose it the same way.
`;

const OPTIONS: OptionSpec = {
  input: { type: 'string' },
  features: { type: 'string' },
  min: { type: 'string' },
  max: { type: 'string' },
  seed: { type: 'string' },
  hidden: { type: 'string' },
  embedding: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  scaling: { type: 'string' },
  'keep-all-columns': { type: 'boolean' },
  'skip-invalid': { type: 'boolean' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function pretrainOptions(values: ReturnType<typeof parseCommandArgs>): Partial<DecOptions> {
  const options: Mutable<Partial<DecOptions>> = {};
  const seed = integerOption(values, 'seed', 0);
  const hidden = integerListOption(values, 'hidden');
  const embedding = integerOption(values, 'embedding', 1);
  const epochs = integerOption(values, 'epochs', 0);
  const batchSize = integerOption(values, 'batch-size', 1);
  if (seed !== undefined) options.seed = seed;
  if (hidden !== undefined) options.hiddenSizes = hidden;
  if (embedding !== undefined) options.embeddingSize = embedding;
  if (epochs !== undefined) options.pretrainEpochs = epochs;
  if (batchSize !== undefined) options.batchSize = batchSize;
  return options;
}

/** The score table, one row per k, the recommended one marked. */
export function formatSuggestion(s: ClusterCountSuggestion): string {
  const lines = [
    '   k  silhouette  calinski-harabasz  davies-bouldin  normalised-cut  smallest-share',
    ...s.scores.map(
      (r) =>
        `${String(r.k).padStart(4)}  ${r.silhouette.toFixed(4).padStart(10)}  ` +
        `${r.calinskiHarabasz.toFixed(1).padStart(17)}  ${r.daviesBouldin.toFixed(4).padStart(14)}  ` +
        `${r.normalisedCut.toFixed(4).padStart(14)}  ${r.smallestShare.toFixed(4).padStart(14)}` +
        (r.k === s.clusters ? '  <- recommended' : ''),
    ),
    '',
    `recommended k: ${s.clusters} (${describeClusterCountRule(s.rule)}, ` +
      `on ${s.rows} rows; ${(sumMs(s.wallMs) / 1000).toFixed(1)} s)`,
  ];
  const leftOut = describeLeftOutColumns(s.leftOutColumns, s.columns);
  if (leftOut !== undefined) lines.push(leftOut);
  return `${lines.join('\n')}\n`;
}

const sumMs = (w: ClusterCountSuggestion['wallMs']): number => w.pretrain + w.layout + w.scoring;

export async function runSuggestKCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parseCommandArgs('suggest-k', args, OPTIONS);
  if (values.help === true) {
    io.stdout.write(SUGGEST_K_HELP);
    return 0;
  }
  const input = requiredString('suggest-k', values, 'input');
  const fields = parseFeatureSpec(requiredString('suggest-k', values, 'features'));
  const min = integerOption(values, 'min', 2) ?? 2;
  const max = integerOption(values, 'max', 2) ?? Math.max(min, 20);
  if (max < min) throw new UsageError(`--max must be at least --min (${min}), got ${max}`);
  const options = pretrainOptions(values);
  const scaling = choiceOption(values, 'scaling', [
    'auto',
    'per-feature',
    'global',
    'none',
  ] as const);
  const backend = choiceOption(values, 'backend', ['auto', 'tensorflow', 'wasm', 'cpu'] as const);
  const quiet = values.quiet === true;
  const log = (message: string): void => {
    if (!quiet) io.stderr.write(`${message}\n`);
  };

  const { records } = await readUsableRecords(input, fields, {
    stdin: io.stdin,
    skipInvalid: values['skip-invalid'] === true,
    log,
    purpose: 'score k',
  });
  if (records.length <= max) {
    throw new UsageError(
      `cannot score up to ${max} clusters on ${records.length} records: lower --max or use more data`,
    );
  }
  log(`scoring k = ${min}..${max} on ${records.length} records, ${fields.length} feature field(s)`);
  const progress = quiet ? undefined : createProgressReporter(io.stderr);
  // Loaded here, after the flags and the input are known to be good: it brings in tfjs.
  const { initBackend } = await import('../model/backend.js');
  const { suggestClustersForRecords } = await import('../model/suggest-clusters.js');
  await initBackend(backend ?? 'auto', log);
  let suggestion: ClusterCountSuggestion;
  try {
    suggestion = await suggestClustersForRecords(
      records,
      fields,
      {
        ...options,
        range: { min, max },
        ...(scaling === undefined ? {} : { scaling }),
        columnScreening: values['keep-all-columns'] !== true,
      },
      progress === undefined ? {} : { onProgress: (p) => progress.onProgress(p) },
    );
  } finally {
    progress?.done();
  }
  io.stdout.write(values.json === true ? suggestionJson(suggestion) : formatSuggestion(suggestion));
  return 0;
}

/** One JSON line: the recommendation, the rule and every k's scores. */
function suggestionJson(suggestion: ClusterCountSuggestion): string {
  const { clusters: recommended, rule, rows, scores, wallMs, leftOutColumns } = suggestion;
  return `${JSON.stringify({ recommended, rule, rows, scores, wallMs, leftOutColumns })}\n`;
}
