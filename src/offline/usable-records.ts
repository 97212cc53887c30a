/** Screening a command's input: which records have usable features, and what to say about the rest. */
import { UsageError } from '../errors.js';
import { describeUnusableRecords, screenRecords } from '../model/record-screening.js';
import type { Readable } from 'node:stream';
import { readRecords } from './input.js';
import type { InputRecord } from './input.js';

export interface ScreeningOptions {
  readonly stdin: Readable;
  readonly skipInvalid: boolean;
  readonly log: (message: string) => void;
  /** What the records are for, in the hint: "train on the other 600". */
  readonly purpose: string;
}

/** Reads every record of `input` and keeps those with usable features (see usableRecords). */
export async function readUsableRecords(
  input: string,
  fields: readonly string[],
  options: ScreeningOptions,
): Promise<{ records: unknown[]; positions: number[] }> {
  const read: InputRecord[] = [];
  for await (const item of readRecords(input, { stdin: options.stdin })) read.push(item);
  return usableRecords(read, fields, { ...options, input });
}

/**
 * The records a command can use, with their 0-based positions in the input. Records without usable
 * features stop the command, all of them named, unless --skip-invalid leaves them out.
 */
function usableRecords(
  read: readonly InputRecord[],
  fields: readonly string[],
  run: Omit<ScreeningOptions, 'stdin'> & { readonly input: string },
): { records: unknown[]; positions: number[] } {
  if (read.length === 0) throw new UsageError(`input "${run.input}" holds no records`);
  const all = read.map((item) => item.record);
  const { usable, unusable } = screenRecords(all, fields);
  if (unusable.length > 0) {
    const file = run.input === '-' ? 'stdin' : run.input;
    const summary = describeUnusableRecords(
      unusable,
      all.length,
      (index) => `${file}:${read[index]?.line ?? '?'}`,
    );
    if (!run.skipInvalid || usable.length === 0) {
      const hint =
        usable.length === 0
          ? 'check --features against the input'
          : `use --skip-invalid to ${run.purpose} on the other ${usable.length}`;
      throw new UsageError(`${summary}; ${hint}`);
    }
    run.log(`skipping ${summary}`);
  }
  return { records: usable.map((i) => all[i]), positions: usable };
}
