#!/usr/bin/env node
/**
 * dec-stream: the one entry point. Offline commands (train, assign, evaluate, inspect, suggest-k) run here;
 * `run` starts the streaming worker. Every failure ends as one line on stderr and a non-zero exit.
 */
import { DecStreamError, UsageError } from './errors.js';
import type { CommandIo } from './offline/command-io.js';
import { ShutdownSignals } from './shutdown-signals.js';

const HELP = `Usage: dec-stream <command> [options]

Deep Embedded Clustering on a live Kafka stream, and offline on files.

Commands:
  run        start the streaming worker (configured by environment variables)
  train      train a model on a JSONL or CSV file and store it in a model directory
  assign     label the records of a file with the newest stored model (JSONL out)
  evaluate   compare predicted clusters with known classes (ACC, NMI, ARI)
  inspect    describe the newest stored model
  suggest-k  score each number of clusters k on a file and recommend one

Run dec-stream <command> --help for the options of a command.
Exit status: 0 on success, 1 on failure, 2 on a usage error (bad flag, input or option).
`;

const RUN_HELP = `Usage: dec-stream run [--config FILE]

Starts the streaming worker: bootstrap (or load the newest stored model), label records from the
input topic, refine the model in the background. It is configured by environment variables (see
docs/configuration.md), optionally read from a config FILE as well, and stops cleanly
on SIGTERM or SIGINT.
`;

type Command = (args: readonly string[], io: CommandIo) => Promise<number>;

const runCommand: Command = async (args, io) => {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(RUN_HELP);
    return 0;
  }
  // Listening before the worker's modules load (Kafka, tfjs: a while), so that a SIGTERM or SIGINT
  // at any moment of start-up stops the worker cleanly instead of killing the process.
  const signals = ShutdownSignals.listen();
  // Loaded on demand so that offline commands never pull in Kafka and the HTTP server.
  const { runWorkerCommand } = await import('./run-worker.js');
  return runWorkerCommand(process.env, args, signals);
};

/** Each command's module is loaded only when it runs, so help and usage errors answer at once. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: () => Promise.resolve(runCommand),
  train: async () => (await import('./offline/train-command.js')).runTrainCommand,
  assign: async () => (await import('./offline/assign-command.js')).runAssignCommand,
  evaluate: async () => (await import('./offline/evaluate-command.js')).runEvaluateCommand,
  inspect: async () => (await import('./offline/inspect-command.js')).runInspectCommand,
  'suggest-k': async () => (await import('./offline/suggest-k-command.js')).runSuggestKCommand,
};

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    throw new UsageError(
      `no command given (commands: ${Object.keys(COMMANDS).join(', ')}; see dec-stream --help)`,
    );
  }
  if (name === 'help' && args[0] !== undefined && Object.hasOwn(COMMANDS, args[0])) {
    return main([args[0], '--help'], io);
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    throw new UsageError(
      `unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')}; see dec-stream --help)`,
    );
  }
  return (await load())(args, io);
}

/** One line for stderr: our own errors by message, anything else marked as unexpected. */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s*\n\s*/g, ' ').trim();
  if (error instanceof DecStreamError) return line;
  const code = (error as { code?: unknown } | null)?.code;
  return `unexpected error${typeof code === 'string' ? ` (${code})` : ''}: ${line}`;
}

function exitCodeFor(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}

// A closed pipe downstream (e.g. `| head`) is not an error worth a message.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`dec-stream: cannot write to standard output: ${error.message}\n`);
  process.exit(1);
});

const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
// Every command ends with process.exit once its output is flushed: an offline command need not
// wait for timers a library left behind, and the worker (stopped, its output committed) must not
// wait for the event loop to drain, because the process's own teardown then closes the signal
// handlers, and a SIGTERM or SIGINT arriving in that moment (a second signal, a supervisor's
// retry) would end it by signal instead of with its exit code.
const exitOnceFlushed = (code: number): void => {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
};
main(process.argv.slice(2), io).then(exitOnceFlushed, (error: unknown) => {
  process.stderr.write(`dec-stream: ${describeError(error)}\n`);
  if (process.env.DEC_STREAM_DEBUG === '1' && error instanceof Error) {
    process.stderr.write(`${error.stack ?? ''}\n`);
  }
  exitOnceFlushed(exitCodeFor(error));
});
