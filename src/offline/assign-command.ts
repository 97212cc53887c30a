import { once } from 'node:events';
import { open } from 'node:fs/promises';

import { UsageError } from '../errors.js';
import type { BackendPreference } from '../model/backend.js';
import type { ModelVersion } from '../model/model-version.js';
import type { ModelSnapshot } from '../model/types.js';
import { FsModelStore } from '../store/fs-model-store.js';
import {
  choiceOption,
  integerOption,
  parseCommandArgs,
  requiredString,
  stringOption,
} from './args.js';
import type { OptionSpec } from './args.js';
import type { CommandIo } from './command-io.js';
import { writeText } from './command-io.js';
import { readRecords } from './input.js';
import type { InputRecord } from './input.js';

export const ASSIGN_HELP = `Usage: dec-stream assign --model-dir DIR --input FILE [--output FILE]

Labels every record of FILE with the newest valid model in DIR and writes JSONL: each input
object plus "cluster", "confidence" (max soft assignment) and "model_version".

  --model-dir DIR     where dec-stream train stored the model
  --input FILE        JSONL or CSV with a header row; - reads stdin
  --output FILE       where to write (default: stdout)
  --skip-invalid      warn about records without usable features and go on (default: stop)
  --batch-size N      records labelled per batch (default 1024)
  --backend NAME      auto (default), tensorflow, wasm or cpu
  -h, --help          this help
`;

const OPTIONS: OptionSpec = {
  'model-dir': { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'skip-invalid': { type: 'boolean' },
  'batch-size': { type: 'string' },
  backend: { type: 'string' },
};

/** Loads the newest valid model of a directory, or fails with a message that says what to do. */
export async function loadModel(
  modelDir: string,
  log: (message: string) => void,
): Promise<ModelSnapshot> {
  const snapshot = await new FsModelStore(modelDir, { log }).loadLatest();
  if (snapshot === undefined) {
    throw new UsageError(`no usable model in "${modelDir}" (train one with dec-stream train)`);
  }
  return snapshot;
}

async function openOutput(path: string): Promise<NodeJS.WritableStream> {
  try {
    const handle = await open(path, 'w');
    return handle.createWriteStream();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (error as Error).message;
    throw new UsageError(`cannot write output "${path}": ${reason}`);
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * The newest valid model of a directory, ready to label on the tensor backend `backend`. Loaded
 * on demand: tfjs is only brought in once the command knows it has work to do.
 */
async function loadModelVersion(
  modelDir: string,
  backend: BackendPreference,
  log: (message: string) => void,
): Promise<ModelVersion> {
  const snapshot = await loadModel(modelDir, log);
  const { initBackend } = await import('../model/backend.js');
  const { ModelVersion } = await import('../model/model-version.js');
  await initBackend(backend);
  return new ModelVersion(snapshot);
}

interface AssignRun {
  readonly input: string;
  readonly skipInvalid: boolean;
  readonly log: (message: string) => void;
  labelled: number;
  skipped: number;
}

/**
 * The JSONL lines of one chunk of records labelled by `model`. A record the model rejects (no
 * usable features, or a feature that overflows once standardised: what the worker dead-letters)
 * stops the command, or with --skip-invalid is logged and skipped.
 */
function labelChunk(model: ModelVersion, chunk: readonly InputRecord[], run: AssignRun): string {
  const result = model.assignRecords(chunk.map((item) => item.record));
  const rejected = new Map(result.rejected.map((r) => [r.index, r.error]));
  let text = '';
  for (let i = 0; i < chunk.length; i++) {
    const item = chunk[i] as InputRecord;
    const row = result.row[i] as number;
    if (row < 0) {
      const where = `${run.input === '-' ? 'stdin' : run.input}:${item.line}`;
      const message = `${where}: ${rejected.get(i)?.message ?? 'unusable record'}`;
      if (!run.skipInvalid)
        throw new UsageError(`${message} (use --skip-invalid to skip such records)`);
      run.log(`skipping ${message}`);
      run.skipped++;
      continue;
    }
    text += `${JSON.stringify({
      ...item.record,
      cluster: model.clusterIds[result.batch.cluster[row] as number],
      confidence: round(result.batch.confidence[row] as number, 6),
      model_version: model.version,
    })}\n`;
    run.labelled++;
  }
  return text;
}

export async function runAssignCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parseCommandArgs('assign', args, OPTIONS);
  if (values.help === true) {
    io.stdout.write(ASSIGN_HELP);
    return 0;
  }
  const modelDir = requiredString('assign', values, 'model-dir');
  const input = requiredString('assign', values, 'input');
  const outputPath = stringOption(values, 'output');
  const batchSize = integerOption(values, 'batch-size', 1) ?? 1024;
  const backend = choiceOption(values, 'backend', ['auto', 'tensorflow', 'wasm', 'cpu'] as const);
  const log = (message: string): void => {
    io.stderr.write(`${message}\n`);
  };
  const run: AssignRun = {
    input,
    skipInvalid: values['skip-invalid'] === true,
    log,
    labelled: 0,
    skipped: 0,
  };

  const model = await loadModelVersion(modelDir, backend ?? 'auto', log);
  const output = outputPath === undefined ? io.stdout : await openOutput(outputPath);
  let outputError: Error | undefined;
  if (output !== io.stdout) {
    output.on('error', (error: Error) => {
      outputError = error;
    });
  }
  const flush = async (chunk: InputRecord[]): Promise<void> => {
    await writeText(output, labelChunk(model, chunk, run));
    if (outputError !== undefined) throw outputError;
  };

  try {
    let chunk: InputRecord[] = [];
    for await (const item of readRecords(input, { stdin: io.stdin })) {
      chunk.push(item);
      if (chunk.length >= batchSize) {
        await flush(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await flush(chunk);
  } finally {
    model.dispose();
    if (output !== io.stdout) {
      output.end();
      if (outputError === undefined) await once(output, 'close');
    }
  }
  if (outputError !== undefined) {
    throw new UsageError(`cannot write output "${outputPath}": ${outputError.message}`);
  }
  if (run.labelled === 0 && run.skipped === 0) {
    throw new UsageError(`input "${input}" holds no records`);
  }
  if (run.skipped > 0) log(`labelled ${run.labelled} records, skipped ${run.skipped}`);
  return 0;
}
