/**
 * One `dec-stream run` child of the scale benchmark: its JSON log lines, its CPU time (user +
 * system, every thread, read from /proc) and a clean stop.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | string>;
  /** CPU seconds the process has used so far (every thread). */
  cpuSeconds(): number;
  /** The labeller's input partitions after its latest assignment (the trainer's group aside). */
  labellerPartitions(): number[];
  isTrainer(): boolean;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const repoRoot = join(import.meta.dirname, '..', '..');
/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux. */
const ClockTicksPerSecond = 100;

/** utime + stime of `pid` in seconds; fields 14 and 15 of /proc/<pid>/stat, after the comm. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ClockTicksPerSecond;
  } catch {
    return 0;
  }
}

export function spawnReplica(name: string, env: Record<string, string>): Replica {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line of the worker's (a warning of Node's): nothing to measure in it.
      }
    }
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const labellerPartitions = (): number[] => {
    const assigned = logs.filter((l) => l.msg === 'partitions assigned' && l.role !== 'trainer');
    const last = assigned[assigned.length - 1];
    return Array.isArray(last?.partitions) ? (last.partitions as number[]) : [];
  };
  const isTrainer = (): boolean => {
    const changes = logs.filter(
      (l) => l.msg === 'elected trainer' || l.msg === 'no longer the trainer',
    );
    return changes[changes.length - 1]?.msg === 'elected trainer';
  };
  const stop = async (graceMs = 30_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    name,
    child,
    logs,
    exited,
    cpuSeconds: () => processCpuSeconds(child.pid),
    labellerPartitions,
    isTrainer,
    stop,
  };
}
