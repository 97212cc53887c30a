/**
 * The command line and environment of a benchmark. Flags are `--name`, `--name value` or
 * `--name=value`; a flag given more than once has several values.
 */
export interface BenchArgs {
  /** The arguments as given, to hand on to a child process. */
  readonly raw: readonly string[];
  /** Whether `--name` was given, with or without a value. */
  readonly flag: (name: string) => boolean;
  /** The value of the last `--name`, or undefined. */
  readonly value: (name: string) => string | undefined;
  /** Every value given to `--name`, in order. */
  readonly values: (name: string) => string[];
}

export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const valuesOf = (name: string): string[] =>
    argv.flatMap((arg, i) => {
      if (arg.startsWith(`${name}=`)) return [arg.slice(name.length + 1)];
      const next = argv[i + 1];
      return arg === name && next !== undefined && !next.startsWith('--') ? [next] : [];
    });
  return {
    raw: argv,
    flag: (name) => argv.some((arg) => arg === name || arg.startsWith(`${name}=`)),
    value: (name) => valuesOf(name).at(-1),
    values: valuesOf,
  };
}

/** A number from the environment; unset or empty gives `fallback`, anything else must be a number. */
export function envNumber(
  name: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got '${text}'`);
  return value;
}
