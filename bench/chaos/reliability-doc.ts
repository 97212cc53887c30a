/** docs/reliability.md, written from a full chaos run's report. */
import type { ScenarioResult } from './scenario.js';

export interface ChaosReport {
  readonly command: string;
  readonly date: string;
  readonly minutes: number;
  readonly machine: {
    cores: number;
    memoryGiB: number;
    node: string;
    loadAverageAtStart?: readonly number[];
  };
  readonly scenarios: readonly ScenarioResult[];
}

const verdict = (r: ScenarioResult): string =>
  r.skipped === true ? 'skipped' : r.passed ? 'held' : '**failed**';

const figures = (r: ScenarioResult): string =>
  Object.entries(r.figures)
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');

const ran = (r: ScenarioResult): string =>
  r.ranAt === undefined
    ? ''
    : `${r.ranAt.slice(0, 16).replace('T', ' ')} (${r.loadAverage ?? '?'})`;

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function reliabilityDoc(report: ChaosReport): string {
  const rows = report.scenarios.map(
    (r) =>
      `| ${r.name} | ${verdict(r)} | ${cell(figures(r))} | ${cell(r.notes.join(' '))} | ${ran(r)} |`,
  );
  return [
    '# Reliability',
    '',
    '<!-- Written by `npm run chaos` from bench/results/chaos.json; edit bench/chaos/reliability-doc.ts. -->',
    '',
    'What the worker survives, measured by `npm run chaos` on a local Apache Kafka broker of the',
    "suite's own, which it freezes, stops and restarts. Each scenario counts records by key: lost",
    'means an input record with no labelled record on the output topic for a `read_committed`',
    'reader; duplicated means labelled records beyond the times the key is on the input. CI runs',
    'a short form of every scenario (`npm run chaos -- --short`).',
    '',
    `Measured on ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, Node ` +
      `${report.machine.node}` +
      '. The last column gives when each scenario ran and the 1-minute load average then: where it' +
      ' is well above the core count, other work shared the cores and times are upper bounds.',
    '',
    '| scenario | result | figures | what it did | run (load) |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Reading the figures',
    '',
    '- **Restart to first label** adds two waits: starting the process (loading the tensor',
    '  backend and the snapshot, connecting, joining the group), and, after SIGKILL only, the dead',
    "  member's session: it stays in the consumer group until `DEC_SESSION_TIMEOUT_MS` (15 s by",
    '  default) has passed since its last heartbeat, and the new process gets its partitions only',
    '  then. After SIGTERM the old member leaves the group on its way out. The SIGKILL rows minus the',
    '  SIGTERM rows estimate the session wait. kafkajs sends no `group.instance.id` (static',
    '  membership, KIP-345) and has no KIP-848 protocol, so a lower session timeout is the lever:',
    '  it costs more heartbeats and a faster eviction of a member that pauses (a long GC).',
    '- **Snapshot writes that fail** (read-only or full model directory) are counted in',
    '  `decstream_snapshot_writes_total{result="failed"}` and logged as an error; labelling goes on',
    '  with the serving version, and the write is retried every 30 s and at shutdown.',
    '- **Broker outages**: while the broker is frozen or down, the worker holds no partitions that it',
    '  can use and `/readyz` answers 503; it reconnects by itself when the broker is back.',
    '- **A frozen worker** (SIGSTOP past its session timeout, as a long GC pause or a throttled',
    '  container does) is dropped by the group while it holds a unit. When it wakes, the offset',
    '  commit of that unit is refused; the worker logs `group membership lost; rejoining`, rejoins,',
    '  and fetches the uncommitted units again. At-least-once labels them a second time (the',
    '  duplicated figure); exactly-once never publishes them twice.',
    '',
  ].join('\n');
}
