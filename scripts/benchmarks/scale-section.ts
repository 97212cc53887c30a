/**
 * The `bench:scale` block of docs/benchmarks.md, from bench/results/scale.json: records/s with
 * 1, 2 and 3 replicas sharing one model as ratios to one, the CPU the trainer takes, and how long
 * a new version takes to reach every replica. A missing file or field renders "not measured".
 */
const NotMeasured = 'not measured';

interface Setup {
  readonly label?: string;
  readonly replicas?: number;
  readonly scaleOut?: boolean;
  readonly recordsPerSecond?: number;
  readonly ratioToOneReplica?: number;
  readonly cpuMicrosPerRecord?: number;
  readonly trainerProcessCpuShare?: number | null;
  readonly trainerRoleCpuShare?: number | null;
  readonly loadAverages?: readonly number[];
}

interface ScaleResult {
  readonly date?: string;
  readonly machine?: { cpuModel?: string; cores?: number; loadAverageAtStart?: readonly number[] };
  readonly settings?: { records?: number; partitions?: number; rounds?: number; quick?: boolean };
  readonly setups?: readonly Setup[];
  readonly swapToEveryReplicaMs?: { median?: number; max?: number; versions?: number } | null;
  readonly loadAverageAtEnd?: readonly number[];
}

const whole = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? NotMeasured : Math.round(v).toLocaleString('en-US');

const percent = (v: number | null | undefined): string =>
  v === undefined || v === null || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(0)} %`;

const loads = (v: readonly number[] | undefined): string =>
  v === undefined || v.length === 0 ? NotMeasured : v.map((l) => l.toFixed(2)).join(', ');

function setupRow(s: Setup): string {
  const name =
    s.scaleOut === false
      ? '1 worker, no scale-out (reference)'
      : s.replicas === 1
        ? '1 replica'
        : `${s.replicas ?? '?'} replicas`;
  const ratio =
    s.ratioToOneReplica === undefined ? NotMeasured : `${s.ratioToOneReplica.toFixed(2)}×`;
  return (
    `| ${name} | ${whole(s.recordsPerSecond)} | ${ratio} | ${s.cpuMicrosPerRecord?.toFixed(1) ?? NotMeasured} | ` +
    `${percent(s.trainerProcessCpuShare)} | ${percent(s.trainerRoleCpuShare)} | ${loads(s.loadAverages)} |`
  );
}

export function scaleSection(raw: unknown): string {
  const r = (raw ?? {}) as ScaleResult;
  const setups = r.setups ?? [];
  if (setups.length === 0) return `scale: ${NotMeasured} (run npm run bench:scale).`;
  const swap = r.swapToEveryReplicaMs;
  return [
    `${whole(r.settings?.records)} tabular records on ${r.settings?.partitions ?? '?'} partitions, ` +
      `median of ${r.settings?.rounds ?? '?'} round(s)${r.settings?.quick === true ? ' (--quick)' : ''}; ` +
      `${r.machine?.cpuModel ?? '?'}, ${r.machine?.cores ?? '?'} cores, ${r.date?.slice(0, 10) ?? '?'}. ` +
      `Load average at start ${loads(r.machine?.loadAverageAtStart)}, at the end ${loads(r.loadAverageAtEnd)}.`,
    '',
    '| Set-up | Records/s | Ratio to 1 replica | CPU µs/record (all replicas) | Trainer process CPU | Trainer role CPU | 1-min load at each window end |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...setups.map(setupRow),
    '',
    swap === undefined || swap === null
      ? `New version to every replica labelling with it: ${NotMeasured}.`
      : `New version on the models topic to every one of 3 replicas labelling with it: median ` +
        `${whole(swap.median)} ms, slowest ${whole(swap.max)} ms over ${swap.versions ?? '?'} versions ` +
        '(from the start of the publishing transaction, while records arrive).',
  ].join('\n');
}
