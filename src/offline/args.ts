import { parseArgs } from 'node:util';

import { UsageError } from '../errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type OptionValues = Record<string, string | boolean | undefined>;

/**
 * Parses a command's flags strictly (unknown flags and stray arguments are errors) and turns the
 * parser's complaints into one-line UsageErrors that name the command.
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  spec: OptionSpec,
): OptionValues {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { ...spec, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (error) {
    throw new UsageError(
      `${command}: ${describeParseError(error)} (see dec-stream ${command} --help)`,
    );
  }
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted === undefined ? '' : `"${quoted}"`}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return (message.split('\n')[0] ?? message).replace(/^Option /, 'option ');
    default:
      return message.split('\n')[0] ?? message;
  }
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(command: string, values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value.trim() === '') {
    throw new UsageError(`${command}: --${name} is required (see dec-stream ${command} --help)`);
  }
  return value;
}

export function numberOption(values: OptionValues, name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got "${text}"`);
  return value;
}

export function integerOption(
  values: OptionValues,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
): number | undefined {
  const text = stringOption(values, name);
  const value = numberOption(values, name);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value)) throw new UsageError(`--${name} must be an integer, got "${text}"`);
  if (value < min) throw new UsageError(`--${name} must be at least ${min}, got ${value}`);
  return value;
}

/** A comma-separated list of positive integers, e.g. `--hidden 500,500,2000`. */
export function integerListOption(values: OptionValues, name: string): number[] | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => part.trim());
  const list = parts.map(Number);
  if (parts.some((part) => part === '') || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError(
      `--${name} must be a comma-separated list of positive integers, got "${text}"`,
    );
  }
  return list;
}

export function choiceOption<T extends string>(
  values: OptionValues,
  name: string,
  choices: readonly T[],
): T | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${text}"`);
  }
  return text as T;
}
