/** Starts child.ts in a separate Node process and follows its messages. */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildJob, ChildMessage } from './child.js';
import type { MeterResult } from './meter.js';

export interface ChildHandle {
  readonly ready: Promise<void>;
  /** Settles when the first record was read. */
  readonly started: Promise<void>;
  readonly result: Promise<MeterResult>;
  /** Asks the child to finish its measurement now. */
  stop(): void;
  /** Settles when the process has exited. */
  readonly exited: Promise<number>;
  kill(): void;
}

const childPath = fileURLToPath(new URL('./child.ts', import.meta.url));

export function runChild(
  job: ChildJob,
  options: { cpuProfileDir?: string | undefined; profileName?: string; timeoutMs?: number } = {},
): ChildHandle {
  const execArgv = ['--import', 'tsx'];
  // Extra V8 or Node flags for the measured processes, for diagnosis (e.g. "--trace-gc").
  const extra = process.env.BENCH_NODE_FLAGS?.trim();
  if (extra !== undefined && extra !== '') execArgv.push(...extra.split(/\s+/));
  if (options.cpuProfileDir !== undefined) {
    // One folder per phase, emptied first; Node names each thread's profile after its thread id
    // (CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile), so the worker threads' profiles survive.
    const dir = join(options.cpuProfileDir, options.profileName ?? job.kind);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const child = fork(childPath, [JSON.stringify(job)], { execArgv, stdio: 'inherit' });
  let onReady!: () => void;
  let onStarted!: () => void;
  let onResult!: (r: MeterResult) => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const result = new Promise<MeterResult>((resolve, reject) => {
    onResult = resolve;
    onFail = reject;
  });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          onFail(new Error(`${job.kind} did not finish within ${options.timeoutMs} ms`));
          child.kill('SIGTERM');
        }, options.timeoutMs);
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'ready') onReady();
    else if (message.type === 'started') onStarted();
    else if (message.type === 'result') {
      if (timer !== undefined) clearTimeout(timer);
      onResult(message.result);
    }
  });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const status = code ?? (signal === null ? 0 : 1);
      onFail(new Error(`${job.kind} exited (${code ?? signal}) before reporting a result`));
      resolve(status);
    });
  });
  // A result that never comes is reported through `result`; these must not reject unhandled.
  result.catch(() => undefined);
  return {
    ready,
    started,
    result,
    exited,
    stop: () => {
      if (child.connected) child.send({ type: 'stop' });
    },
    kill: () => {
      child.kill('SIGTERM');
    },
  };
}

/** CPU seconds (user + system) the local broker's JVM has used so far, or undefined. */
export function brokerCpuSeconds(port: number): number | undefined {
  try {
    const cacheRoot = process.env.DEC_STREAM_CACHE ?? join(homedir(), '.cache', 'dec-stream');
    const pid = readFileSync(join(cacheRoot, 'run', String(port), 'broker.pid'), 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}
