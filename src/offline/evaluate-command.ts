import { UsageError } from '../errors.js';
import { evaluateClustering } from '../model/evaluation.js';
import { readFieldPath } from '../model/features.js';
import { parseCommandArgs, requiredString, stringOption } from './args.js';
import type { OptionSpec } from './args.js';
import type { CommandIo } from './command-io.js';
import { readRecords } from './input.js';

export const EVALUATE_HELP = `Usage: dec-stream evaluate --input FILE --truth FIELD [--pred FIELD]

Compares predicted clusters with known classes and prints one JSON line:
{"n":..,"acc":..,"nmi":..,"ari":..} (accuracy under the best cluster-to-class matching,
normalised mutual information, adjusted Rand index).

  --input FILE     JSONL or CSV with a header row (e.g. the output of dec-stream assign); - reads stdin
  --truth FIELD    field holding the true class (number or text; dot paths allowed)
  --pred FIELD     field holding the predicted cluster (default: cluster)
  -h, --help       this help
`;

const OPTIONS: OptionSpec = {
  input: { type: 'string' },
  truth: { type: 'string' },
  pred: { type: 'string' },
};

/** Maps arbitrary label values (numbers or strings) to dense integer ids, in order of appearance. */
class LabelIds {
  private readonly ids = new Map<string, number>();

  id(value: number | string): number {
    const key = `${typeof value}:${value}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
    }
    return id;
  }
}

export async function runEvaluateCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parseCommandArgs('evaluate', args, OPTIONS);
  if (values.help === true) {
    io.stdout.write(EVALUATE_HELP);
    return 0;
  }
  const input = requiredString('evaluate', values, 'input');
  const truthField = requiredString('evaluate', values, 'truth');
  const predField = stringOption(values, 'pred') ?? 'cluster';
  const truthPath = truthField.split('.');
  const predPath = predField.split('.');
  const truthIds = new LabelIds();
  const predIds = new LabelIds();
  const truth: number[] = [];
  const pred: number[] = [];
  const name = input === '-' ? 'stdin' : input;

  const label = (record: unknown, path: string[], field: string, line: number): number | string => {
    const value = readFieldPath(record, path);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && value !== '') return value;
    if (value === undefined || value === null) {
      throw new UsageError(`${name}:${line}: the record has no "${field}" field`);
    }
    throw new UsageError(`${name}:${line}: "${field}" must be a number or a string`);
  };

  for await (const { record, line } of readRecords(input, { stdin: io.stdin })) {
    truth.push(truthIds.id(label(record, truthPath, truthField, line)));
    pred.push(predIds.id(label(record, predPath, predField, line)));
  }
  if (truth.length === 0) throw new UsageError(`input "${input}" holds no records`);
  const result = evaluateClustering(Int32Array.from(truth), Int32Array.from(pred));
  io.stdout.write(
    `${JSON.stringify({ n: result.n, acc: result.acc, nmi: result.nmi, ari: result.ari })}\n`,
  );
  return 0;
}
