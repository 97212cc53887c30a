/** The figures of bench:scale from its runs: medians over rounds, ratios, CPU shares. */
import { median, round } from '../common/stats.js';
import type { SwapLatency } from './swap-latency.js';
import type { WindowResult } from './throughput-window.js';

export interface RunRecord extends WindowResult {
  readonly round: number;
  /** `single` (no scale-out) or `scale-out-<replicas>`. */
  readonly label: string;
  readonly replicas: number;
  readonly scaleOut: boolean;
}

export interface SetupSummary {
  readonly label: string;
  readonly replicas: number;
  readonly scaleOut: boolean;
  readonly recordsPerSecond: number;
  /** records/s over the 1-replica scale-out run's. */
  readonly ratioToOneReplica: number;
  /** CPU time of every replica together per record, over the whole drain (trainer included). */
  readonly cpuMicrosPerRecord: number;
  /** The trainer replica's process CPU over all replicas', over the whole drain. */
  readonly trainerProcessCpuShare: number | null;
  /**
   * The trainer role alone over all replicas' CPU. With two replicas or more: the trainer
   * replica's CPU beyond the mean of the others'. With one: its CPU per record beyond the plain
   * worker's, which labels the same records without a trainer.
   */
  readonly trainerRoleCpuShare: number | null;
  readonly loadAverages: readonly number[];
  readonly committedBeforeWindow: readonly number[];
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

const cpuPerRecord = (run: RunRecord): number => sum(run.drainCpuSeconds) / run.drainRecords;

/** The trainer replica's share of all CPU and the trainer role's, from the drain's CPU. */
function trainerShares(run: RunRecord): { process: number; role: number } | undefined {
  const cpu = run.drainCpuSeconds;
  const trainer = cpu[run.trainerIndex];
  if (trainer === undefined || cpu.length < 2) return undefined;
  const total = sum(cpu);
  const others = cpu.filter((_, i) => i !== run.trainerIndex);
  return { process: trainer / total, role: (trainer - sum(others) / others.length) / total };
}

function summariseSetup(
  runs: readonly RunRecord[],
  reference: { oneReplicaRate: number; plainCpuPerRecord: number },
): SetupSummary {
  const first = runs[0] as RunRecord;
  const rate = median(runs.map((r) => r.recordsPerSecond));
  const cpu = median(runs.map(cpuPerRecord));
  const shares = runs.map(trainerShares).filter((s) => s !== undefined);
  const share = (pick: (s: { process: number; role: number }) => number): number | null =>
    shares.length === 0 ? null : round(median(shares.map(pick)), 3);
  const alone = first.scaleOut && first.replicas === 1;
  return {
    label: first.label,
    replicas: first.replicas,
    scaleOut: first.scaleOut,
    recordsPerSecond: Math.round(rate),
    ratioToOneReplica: round(rate / reference.oneReplicaRate, 2),
    cpuMicrosPerRecord: round(cpu * 1e6, 1),
    trainerProcessCpuShare: alone ? 1 : share((s) => s.process),
    trainerRoleCpuShare: alone
      ? round((cpu - reference.plainCpuPerRecord) / cpu, 3)
      : share((s) => s.role),
    loadAverages: runs.map((r) => round(r.loadAverage, 2)),
    committedBeforeWindow: runs.map((r) => round(r.committedBeforeWindow, 3)),
  };
}

export function summarise(
  runs: readonly RunRecord[],
  swaps: readonly SwapLatency[],
): {
  setups: SetupSummary[];
  swapToEveryReplicaMs: { median: number; max: number; versions: number } | null;
  swaps: readonly SwapLatency[];
  runs: readonly RunRecord[];
} {
  const labels = [...new Set(runs.map((r) => r.label))];
  const byLabel = (label: string): RunRecord[] => runs.filter((r) => r.label === label);
  const reference = {
    oneReplicaRate: median(byLabel('scale-out-1').map((r) => r.recordsPerSecond)),
    plainCpuPerRecord: median(byLabel('single').map(cpuPerRecord)),
  };
  const every = swaps.map((s) => s.everyReplicaMs);
  return {
    setups: labels.map((label) => summariseSetup(byLabel(label), reference)),
    swapToEveryReplicaMs:
      every.length === 0
        ? null
        : { median: Math.round(median(every)), max: Math.max(...every), versions: every.length },
    swaps,
    runs,
  };
}
