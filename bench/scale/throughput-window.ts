/**
 * The measured window of one run: from the moment every replica holds its share of the input
 * (the group settled on all of them) to the moment the group has committed `endFraction` of the
 * backlog. Records/s is the group's committed progress over that window; CPU is each replica's
 * process CPU time over the same window.
 */
import { loadavg } from 'node:os';
import type { Admin } from 'kafkajs';
import type { Replica } from './replica.js';

export interface WindowResult {
  readonly recordsPerSecond: number;
  readonly windowSeconds: number;
  readonly windowRecords: number;
  /** Share of the backlog already committed when the window opened (replicas starting apart). */
  readonly committedBeforeWindow: number;
  /** CPU seconds of each replica over the window, in replica order. */
  readonly cpuSeconds: readonly number[];
  /**
   * CPU seconds of each replica from just before labelling began until every replica is idle: the whole
   * backlog labelled, and read by the trainer too, which may lag behind the labellers. On a
   * saturated machine the scheduler shares CPU out evenly among busy processes, so only the work
   * done to the end shows what each role costs.
   */
  readonly drainCpuSeconds: readonly number[];
  /** Records left to label when the drain's CPU count began. */
  readonly drainRecords: number;
  /** 1-minute load average when the window closed: how busy the shared machine was. */
  readonly loadAverage: number;
  /** Index of the replica that was the trainer during the window; -1 without scale-out. */
  readonly trainerIndex: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Records the group committed on `topic`, summed over its partitions. */
export async function committedRecords(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

const labelling = (r: Replica): boolean =>
  r.logs.some((l) => l.msg === 'phase' && l.phase === 'online' && l.role !== 'trainer');

/** Every partition held by exactly one replica, each replica holding some. */
function sharedOut(replicas: readonly Replica[], partitions: number): boolean {
  const held = replicas.map((r) => r.labellerPartitions());
  const all = new Set(held.flat());
  return (
    held.every((h) => h.length > 0) && all.size === partitions && held.flat().length === partitions
  );
}

/**
 * Polls until the replicas together use under 8 % of a core each, and returns their CPU seconds
 * when that quiet spell began: the work done, without the idle tail. An idle replica (heartbeats
 * of three consumer groups, fetch loops, timers) takes about 5 %; a busy one on this machine
 * takes 25 % or more even when it shares the cores with others.
 */
async function cpuUntilIdle(replicas: readonly Replica[], timeoutMs: number): Promise<number[]> {
  const quietMs = 2_000;
  const idleCpuSeconds = 0.08 * replicas.length * (quietMs / 1000);
  const deadline = Date.now() + timeoutMs;
  const sample = (): number[] => replicas.map((r) => r.cpuSeconds());
  const sum = (cpu: readonly number[]): number => cpu.reduce((a, b) => a + b, 0);
  let before = sample();
  for (;;) {
    await sleep(quietMs);
    const now = sample();
    if (sum(now) - sum(before) < idleCpuSeconds) return before;
    if (Date.now() > deadline) throw new Error('the replicas never went idle');
    before = now;
  }
}

async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  replicas: readonly Replica[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    const died = replicas.find((r) => r.child.exitCode !== null || r.child.signalCode !== null);
    if (died !== undefined) throw new Error(`${died.name} exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface WindowOptions {
  readonly admin: Admin;
  readonly groupId: string;
  readonly topic: string;
  readonly partitions: number;
  readonly total: number;
  readonly endFraction: number;
  readonly replicas: readonly Replica[];
  /**
   * Scale-out: lets the replicas elect their trainer, once they all hold their partitions and
   * wait; the first version follows, and every labeller starts at once.
   */
  readonly release?: () => Promise<void>;
}

export async function measureWindow(options: WindowOptions): Promise<WindowResult> {
  const { admin, groupId, topic, replicas, total, release } = options;
  const shared = (): boolean => sharedOut(replicas, options.partitions);
  const allLabelling = (): boolean => replicas.every(labelling);
  const what = 'every replica holding its share of the input';
  await until(
    release === undefined ? () => shared() && allLabelling() : shared,
    180_000,
    what,
    replicas,
  );
  // CPU counts from here: the election, the first version and the trainer's start included.
  const cpuBaseline = replicas.map((r) => r.cpuSeconds());
  const drainRecords = total - (await committedRecords(admin, groupId, topic));
  if (release !== undefined) {
    await release();
    await until(() => allLabelling() && shared(), 60_000, 'every replica labelling', replicas);
  }
  const startMs = performance.now();
  const startCommitted = await committedRecords(admin, groupId, topic);
  const startCpu = replicas.map((r) => r.cpuSeconds());
  const end = Math.ceil(total * options.endFraction);
  let committed = startCommitted;
  await until(
    async () => (committed = await committedRecords(admin, groupId, topic)) >= end,
    600_000,
    `${end} records committed`,
    replicas,
  );
  const windowSeconds = (performance.now() - startMs) / 1000;
  const cpuSeconds = replicas.map((r, i) => r.cpuSeconds() - (startCpu[i] ?? 0));
  const loadAverage = loadavg()[0] ?? 0;
  const trainerIndex = replicas.findIndex((r) => r.isTrainer());
  const idleCpu = await cpuUntilIdle(replicas, 300_000);
  return {
    recordsPerSecond: (committed - startCommitted) / windowSeconds,
    windowSeconds,
    windowRecords: committed - startCommitted,
    committedBeforeWindow: startCommitted / total,
    cpuSeconds,
    drainCpuSeconds: idleCpu.map((cpu, i) => cpu - (cpuBaseline[i] ?? 0)),
    drainRecords,
    loadAverage,
    trainerIndex,
  };
}
