/**
 * `npm run bench:throughput` (and `npm run bench:soak`): dec-stream's records/s against a
 * pass-through on the same broker, end-to-end latency at half the maximum rate, CPU and memory.
 * Writes bench/results/throughput.json and prints a table. Sizes: see settings.ts.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { envNumber } from '../common/args.js';
import { machineFacts } from '../common/machine.js';
import { mergeResult, readResult, writeResult } from '../common/results.js';
import { median as medianOf } from '../common/stats.js';
import type { ChildJob } from './child.js';
import type { EncodedRecords } from './datasets.js';
import { mnistRecords, tabularRecords } from './datasets.js';
import { hotPath } from './hot-path.js';
import type { LatencyResult } from './latency.js';
import { measureLatency } from './latency.js';
import type { MeterResult } from './meter.js';
import type { BenchModel } from './models.js';
import { mnistModel, modelDirWith, tabularModel } from './models.js';
import type { ProfileSummary } from './profile-summary.js';
import { summarise } from './profile-summary.js';
import { brokerCpuSeconds, runChild } from './run-child.js';
import type { BenchSettings, PhaseName } from './settings.js';
import { loadBenchSettings } from './settings.js';
import { benchKafka, createTopics, deleteTopics, loadTopic, uniqueName } from './topics.js';

/** Records per produce + commit unit, for the pass-throughs and the worker alike. */
const CHUNK = 1000;

export interface ThroughputPhase extends MeterResult {
  readonly phase: PhaseName;
  readonly client: 'kafkajs' | '@platformatic/kafka';
  readonly delivery: 'at-least-once' | 'exactly-once';
  readonly model: boolean;
  /** CPU seconds of the broker JVM per wall second during the measurement. */
  readonly brokerCpuCores: number | undefined;
  /** Where the CPU went, when the run was profiled (BENCH_CPU_PROFILE_DIR or bench:profile). */
  readonly profile?: ProfileShares;
  /** Every round of this phase; the fields above are those of the median round by records/s. */
  readonly rounds?: readonly {
    readonly recordsPerSecond: number;
    readonly cpuMicrosPerRecord: number;
    readonly cpuCores: number;
  }[];
}

export interface ThreadShares {
  readonly busyMs: number;
  /** Percent of busy (non-idle) samples per category. */
  readonly sharePercent: Record<string, number>;
  readonly topFunctions: readonly { name: string; ms: number }[];
}

/** The main thread's shares, and those of each worker thread that handled records. */
export interface ProfileShares extends ThreadShares {
  readonly threads?: readonly (ThreadShares & { readonly thread: string })[];
}

function sharesOf(s: ProfileSummary): ThreadShares {
  const sharePercent: Record<string, number> = {};
  for (const [name, ms] of Object.entries(s.categories).sort((a, b) => b[1] - a[1])) {
    if (name === 'idle') continue;
    sharePercent[name] = s.busyMs > 0 ? Math.round((1000 * ms) / s.busyMs) / 10 : 0;
  }
  return { busyMs: s.busyMs, sharePercent, topFunctions: s.topFunctions.slice(0, 10) };
}

/** Thread id of a profile Node named CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile. */
function threadIdOf(file: string): number | undefined {
  const parts = file.split('.');
  return parts.length >= 7 ? Number(parts[parts.length - 3]) : undefined;
}

function profileShares(dir: string, phase: string): ProfileShares | undefined {
  try {
    const folder = join(dir, phase);
    const files = readdirSync(folder).filter((f) => f.endsWith('.cpuprofile'));
    const main = files.find((f) => threadIdOf(f) === 0);
    if (main === undefined) return undefined;
    const threads = files
      .filter((f) => f !== main)
      .map((f) => summarise(join(folder, f)))
      .filter((s) => s.thread !== 'main' && s.busyMs > 0)
      .map((s) => ({ thread: s.thread, ...sharesOf(s) }));
    return {
      ...sharesOf(summarise(join(folder, main))),
      ...(threads.length === 0 ? {} : { threads }),
    };
  } catch {
    return undefined;
  }
}

export interface LatencyPhase extends LatencyResult {
  readonly phase: PhaseName;
  readonly delivery: 'at-least-once' | 'exactly-once';
  /** The measured maximum rate (median round of the same mode). */
  readonly maxRecordsPerSecond: number;
  /** The offered rate as a fraction of that maximum (0.5 is the headline figure). */
  readonly fractionOfMax: number;
}

interface DatasetReport {
  readonly records: number;
  readonly meanValueBytes: number;
  readonly features: string;
  readonly clusters: number;
  readonly loadSeconds: number;
  readonly model: {
    readonly description: string;
    readonly trainSeconds: number;
    readonly cached: boolean;
  };
  readonly throughput: ThroughputPhase[];
  readonly latency: LatencyPhase[];
}

function log(message: string): void {
  process.stdout.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

function brokerPort(settings: BenchSettings): number {
  return Number(settings.brokers[0]?.split(':')[1] ?? 9092);
}

function benchEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      (k.startsWith('BENCH_') || k === 'KAFKA_PORT' || k === 'KAFKA_BROKERS') &&
      v !== undefined
    ) {
      out[k] = v;
    }
  }
  return out;
}

/** Runs one measured consumer over `records` records already in `inputTopic`. */
async function throughputPhase(
  settings: BenchSettings,
  kafka: Kafka,
  phase: PhaseName,
  records: number,
  makeJob: (t: { inputTopic: string; outputTopic: string; groupId: string }) => Promise<ChildJob>,
  inputTopic: string,
): Promise<MeterResult & { brokerCpuCores: number | undefined; profile?: ProfileShares }> {
  const outputTopic = uniqueName(`bench-out-${phase}`);
  await createTopics(kafka, [{ topic: outputTopic, partitions: settings.partitions }]);
  const job = await makeJob({ inputTopic, outputTopic, groupId: uniqueName(`bench-${phase}`) });
  log(`${phase}: ${records} records`);
  const port = brokerPort(settings);
  const child = runChild(job, {
    cpuProfileDir: settings.cpuProfileDir,
    profileName: phase,
    timeoutMs: 20 * 60_000,
  });
  let brokerStart: number | undefined;
  let brokerStartedAt = 0;
  void child.started.then(() => {
    brokerStart = brokerCpuSeconds(port);
    brokerStartedAt = performance.now();
  });
  try {
    const result = await child.result;
    const brokerEnd = brokerCpuSeconds(port);
    const wall = (performance.now() - brokerStartedAt) / 1000;
    const brokerCpuCores =
      brokerStart === undefined || brokerEnd === undefined || wall <= 0
        ? undefined
        : (brokerEnd - brokerStart) / wall;
    log(
      `${phase}: ${Math.round(result.recordsPerSecond)} records/s, ` +
        `${result.cpuCores.toFixed(2)} cores, ${result.cpuMicrosPerRecord.toFixed(1)} CPU µs/record` +
        (result.mainThreadCpuMicrosPerRecord === undefined
          ? ''
          : ` (main thread ${result.mainThreadCpuMicrosPerRecord.toFixed(1)})`) +
        `, peak RSS ${result.peakRssMiB.toFixed(0)} MiB`,
    );
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    const profile =
      settings.cpuProfileDir === undefined
        ? undefined
        : profileShares(settings.cpuProfileDir, phase);
    return { ...result, brokerCpuCores, ...(profile === undefined ? {} : { profile }) };
  } finally {
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    child.kill();
    await deleteTopics(kafka, [outputTopic]);
  }
}

function describePhase(phase: PhaseName): Pick<ThroughputPhase, 'client' | 'delivery' | 'model'> {
  return {
    client: phase.includes('platformatic') ? '@platformatic/kafka' : 'kafkajs',
    delivery: phase.endsWith('-eos') ? 'exactly-once' : 'at-least-once',
    model: phase.includes('worker') || phase.includes('latency'),
  };
}

async function runDataset(
  settings: BenchSettings,
  kafka: Kafka,
  data: EncodedRecords,
  modelFactory: () => Promise<BenchModel>,
): Promise<DatasetReport> {
  const phases = settings.phases.filter((p) => p.startsWith(`${data.name}-`));
  log(`${data.name}: training or loading the model`);
  const model = await modelFactory();
  log(
    `${data.name}: model ${model.cached ? 'from cache' : `trained in ${model.trainSeconds.toFixed(1)} s`}`,
  );
  const inputTopic = uniqueName(`bench-${data.name}`);
  await createTopics(kafka, [
    { topic: inputTopic, partitions: settings.partitions },
    { topic: `${inputTopic}.dlq`, partitions: 1 },
  ]);
  log(
    `${data.name}: loading ${data.values.length} records (${data.meanValueBytes.toFixed(0)} B each)`,
  );
  const loadSeconds = await loadTopic(kafka, inputTopic, data.keys, data.values);
  log(`${data.name}: loaded in ${loadSeconds.toFixed(1)} s`);

  const modelDirs: string[] = [];
  const workerJob = async (
    t: { inputTopic: string; outputTopic: string; groupId: string },
    delivery: 'at-least-once' | 'exactly-once',
    expected: number,
    outputDetail: 'basic' | 'full' = 'basic',
  ): Promise<ChildJob> => {
    const modelDir = await modelDirWith(model.snapshot);
    modelDirs.push(modelDir);
    return {
      kind: 'worker',
      brokers: settings.brokers,
      ...t,
      delivery,
      features: data.features,
      clusters: data.clusters,
      modelDir,
      chunk: CHUNK,
      expected,
      outputDetail,
    };
  };

  const throughput: ThroughputPhase[] = [];
  const latency: LatencyPhase[] = [];
  const n = data.values.length;
  try {
    // Throughput phases in interleaved rounds (a, b, c, a, b, c, ...), so that a change in the
    // machine's load hits every phase alike; then the latency phases.
    const rounds = new Map<PhaseName, ThroughputPhase[]>();
    for (let round = 0; round < settings.repeats; round++) {
      for (const phase of phases) {
        const kind = phase.slice(data.name.length + 1);
        const meta = describePhase(phase);
        if (kind.startsWith('latency-')) continue;
        if (settings.repeats > 1) log(`${phase}: round ${round + 1} of ${settings.repeats}`);
        const makeJob = (t: {
          inputTopic: string;
          outputTopic: string;
          groupId: string;
        }): Promise<ChildJob> =>
          kind.startsWith('pass-')
            ? Promise.resolve({
                kind: kind === 'pass-kafkajs' ? 'pass-kafkajs' : 'pass-platformatic',
                brokers: settings.brokers,
                ...t,
                chunk: CHUNK,
                expected: n,
              })
            : workerJob(t, meta.delivery, n, kind.endsWith('-full') ? 'full' : 'basic');
        const result = await throughputPhase(settings, kafka, phase, n, makeJob, inputTopic);
        const list = rounds.get(phase) ?? [];
        list.push({ phase, ...meta, ...result });
        rounds.set(phase, list);
      }
    }
    for (const [phase, list] of rounds) {
      const sorted = [...list].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond);
      const median = sorted[Math.floor(sorted.length / 2)] as ThroughputPhase;
      throughput.push({
        ...median,
        phase,
        rounds: list.map((r) => ({
          recordsPerSecond: Math.round(r.recordsPerSecond),
          cpuMicrosPerRecord: Math.round(r.cpuMicrosPerRecord * 10) / 10,
          cpuCores: Math.round(r.cpuCores * 100) / 100,
          ...(r.mainThreadCpuMicrosPerRecord === undefined
            ? {}
            : {
                mainThreadCpuMicrosPerRecord: Math.round(r.mainThreadCpuMicrosPerRecord * 10) / 10,
              }),
        })),
      });
    }
    for (const phase of phases) {
      const kind = phase.slice(data.name.length + 1);
      const meta = describePhase(phase);
      if (!kind.startsWith('latency-')) continue;
      const sameMode = throughput.find(
        (t) => t.model && t.delivery === meta.delivery && t.phase.includes('worker'),
      );
      const maxRate =
        sameMode?.recordsPerSecond ?? Number(process.env.BENCH_LATENCY_MAX_RATE ?? 2000);
      for (const fraction of settings.latencyFractions) {
        const rate = Math.max(1, Math.round(maxRate * fraction));
        log(`${phase}: ${rate} records/s (${fraction} of max) for ${settings.latencySeconds} s`);
        const result = await measureLatency({
          kafka,
          partitions: settings.partitions,
          keys: data.keys,
          values: data.values,
          ratePerSecond: rate,
          seconds: settings.latencySeconds,
          warmupSeconds: settings.latencyWarmupSeconds,
          job: (t) => workerJob(t, meta.delivery, 0),
          cpuProfileDir: settings.cpuProfileDir,
          profileName: phase,
        });
        log(
          `${phase}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms ` +
            `(${result.measured} of ${result.sent} records measured)`,
        );
        latency.push({
          phase,
          delivery: meta.delivery,
          maxRecordsPerSecond: maxRate,
          fractionOfMax: fraction,
          ...result,
        });
      }
    }
  } finally {
    await deleteTopics(kafka, [inputTopic, `${inputTopic}.dlq`]);
    await Promise.all(modelDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
  return {
    records: n,
    meanValueBytes: Math.round(data.meanValueBytes),
    features: data.features.length > 60 ? `${data.features.slice(0, 57)}...` : data.features,
    clusters: data.clusters,
    loadSeconds,
    model: {
      description: model.description,
      trainSeconds: model.trainSeconds,
      cached: model.cached,
    },
    throughput,
    latency,
  };
}

function rate(report: DatasetReport | undefined, phase: string): number | undefined {
  return report?.throughput.find((t) => t.phase === phase)?.recordsPerSecond;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function targets(tabular: DatasetReport | undefined, mnist: DatasetReport | undefined) {
  const modelVsPass = ratio(
    rate(tabular, 'tabular-worker-alo'),
    rate(tabular, 'tabular-pass-kafkajs'),
  );
  const eosVsAlo = ratio(rate(tabular, 'tabular-worker-eos'), rate(tabular, 'tabular-worker-alo'));
  const mnistAlo = rate(mnist, 'mnist-worker-alo');
  const mnistCpu = mnist?.throughput.find(
    (t) => t.phase === 'mnist-worker-alo',
  )?.cpuMicrosPerRecord;
  const byCpu = (phase: string, over: string, report: DatasetReport | undefined) => {
    const cpu = (p: string) => report?.throughput.find((t) => t.phase === p)?.cpuMicrosPerRecord;
    return ratio(cpu(over), cpu(phase));
  };
  const check = (value: number | undefined, min: number) =>
    value === undefined ? { value: null, min, met: null } : { value, min, met: value >= min };
  return {
    tabularModelOverPassThrough: check(modelVsPass, 0.7),
    exactlyOnceOverAtLeastOnce: check(eosVsAlo, 0.7),
    mnistRecordsPerSecond: check(mnistAlo, 3000),
    // The same three on CPU cost per record: what the ratios are when each process has a core.
    tabularModelOverPassThroughByCpu: check(
      byCpu('tabular-worker-alo', 'tabular-pass-kafkajs', tabular),
      0.7,
    ),
    exactlyOnceOverAtLeastOnceByCpu: check(
      byCpu('tabular-worker-eos', 'tabular-worker-alo', tabular),
      0.7,
    ),
    mnistRecordsPerCpuSecond: check(mnistCpu === undefined ? undefined : 1e6 / mnistCpu, 3000),
  };
}

function ratios(tabular: DatasetReport | undefined, mnist: DatasetReport | undefined) {
  const out: Record<string, number | null> = {};
  for (const [name, report] of [
    ['tabular', tabular],
    ['mnist', mnist],
  ] as const) {
    const pass = rate(report, `${name}-pass-kafkajs`);
    out[`${name}WorkerAloOverPassThrough`] =
      ratio(rate(report, `${name}-worker-alo`), pass) ?? null;
    out[`${name}WorkerEosOverPassThrough`] =
      ratio(rate(report, `${name}-worker-eos`), pass) ?? null;
    out[`${name}WorkerEosOverAlo`] =
      ratio(rate(report, `${name}-worker-eos`), rate(report, `${name}-worker-alo`)) ?? null;
    out[`${name}PlatformaticOverKafkajs`] =
      ratio(rate(report, `${name}-pass-platformatic`), pass) ?? null;
    // CPU per record of the baseline over the measured phase: the records/s ratio if both were
    // CPU-bound. On main-thread CPU alone, the ratio when the main threads are the bottleneck
    // and the labelling thread has a core of its own.
    const costRatio = (
      field: 'cpuMicrosPerRecord' | 'mainThreadCpuMicrosPerRecord',
      baseline: string,
      measured: string,
    ): number | null => {
      const cost = (phase: string) =>
        report?.throughput.find((t) => t.phase === `${name}-${phase}`)?.[field];
      return ratio(cost(baseline), cost(measured)) ?? null;
    };
    out[`${name}WorkerAloOverPassThroughByCpu`] = costRatio(
      'cpuMicrosPerRecord',
      'pass-kafkajs',
      'worker-alo',
    );
    out[`${name}WorkerEosOverAloByCpu`] = costRatio(
      'cpuMicrosPerRecord',
      'worker-alo',
      'worker-eos',
    );
    out[`${name}PlatformaticOverKafkajsByCpu`] = costRatio(
      'cpuMicrosPerRecord',
      'pass-kafkajs',
      'pass-platformatic',
    );
    out[`${name}WorkerAloOverPassThroughByMainThreadCpu`] = costRatio(
      'mainThreadCpuMicrosPerRecord',
      'pass-kafkajs',
      'worker-alo',
    );
    out[`${name}WorkerEosOverAloByMainThreadCpu`] = costRatio(
      'mainThreadCpuMicrosPerRecord',
      'worker-alo',
      'worker-eos',
    );
  }
  return out;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function printTable(reports: Record<string, DatasetReport | undefined>): void {
  const header = [
    'phase',
    'records/s',
    'vs pass',
    'CPU µs/rec',
    'rec/CPU-s',
    'CPU vs pass',
    'CPU cores',
    'main µs/rec',
    'broker CPU',
    'peak RSS MiB',
  ];
  const widths = [28, 10, 8, 11, 10, 12, 10, 12, 11, 13];
  const line = (cells: string[]) =>
    cells.map((c, i) => pad(c, widths[i] as number, i > 0)).join(' ');
  const out: string[] = ['', line(header), '-'.repeat(widths.reduce((a, b) => a + b + 1, 0))];
  for (const [name, report] of Object.entries(reports)) {
    if (report === undefined) continue;
    const pass = rate(report, `${name}-pass-kafkajs`);
    const passCpu = report.throughput.find(
      (t) => t.phase === `${name}-pass-kafkajs`,
    )?.cpuMicrosPerRecord;
    for (const t of report.throughput) {
      out.push(
        line([
          t.phase,
          t.recordsPerSecond.toFixed(0),
          pass === undefined ? '' : (t.recordsPerSecond / pass).toFixed(2),
          t.cpuMicrosPerRecord.toFixed(1),
          (1e6 / t.cpuMicrosPerRecord).toFixed(0),
          passCpu === undefined ? '' : (passCpu / t.cpuMicrosPerRecord).toFixed(2),
          t.cpuCores.toFixed(2),
          t.mainThreadCpuMicrosPerRecord?.toFixed(1) ?? '',
          t.brokerCpuCores === undefined ? '' : t.brokerCpuCores.toFixed(2),
          t.peakRssMiB.toFixed(0),
        ]),
      );
    }
    for (const l of report.latency) {
      out.push(
        `${pad(l.phase, widths[0] as number)} at ${l.ratePerSecond} records/s ` +
          `(${l.fractionOfMax} of max): ` +
          `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms (${l.measured} records)`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n\n`);
}

async function throughputRun(settings: BenchSettings, kafka: Kafka): Promise<void> {
  const started = new Date();
  const wantTabular = settings.phases.some((p) => p.startsWith('tabular-'));
  const wantMnist = settings.phases.some((p) => p.startsWith('mnist-'));
  const tabular = wantTabular
    ? await runDataset(
        settings,
        kafka,
        tabularRecords(settings.tabularRecords, settings.tabularDims, settings.tabularClusters),
        () => tabularModel(settings.tabularDims, settings.tabularClusters),
      )
    : undefined;
  const mnist = wantMnist
    ? await runDataset(settings, kafka, mnistRecords(settings.mnistRecords), mnistModel)
    : undefined;
  const previous = readResult(settings.output);
  const result = {
    benchmark: 'throughput',
    command: `npm run bench:throughput`,
    env: benchEnv(),
    date: started.toISOString(),
    wallSeconds: (Date.now() - started.getTime()) / 1000,
    machine: machineFacts(),
    broker: { address: settings.brokers.join(','), partitions: settings.partitions },
    backend: 'wasm',
    chunkRecords: CHUNK,
    notes: [
      'Each measured consumer runs in its own Node process; records/s is first record read → last record published and committed.',
      'Pass-through: consume, produce the same bytes with acks=all, commit; no decoding, no model. Configured like the worker.',
      'Worker: the dec-stream composition root (startWorker) with a trained snapshot, refinement off, Prometheus observer on.',
      'Latency: record send time → labelled record read back downstream (read_committed), at fractions (0.5 = half) of the median max rate of the same mode. The producer and the downstream reader share the machine with the worker, so near saturation a backlog (and seconds of latency) can build up.',
      'CPU cores = (user + system CPU seconds) / wall seconds of the measured process; broker CPU likewise for the broker JVM.',
      `Worker threads: DEC_LABEL_THREAD=${process.env.BENCH_LABEL_THREAD ?? 'auto'}, DEC_PUBLISH_THREAD=${process.env.BENCH_PUBLISH_THREAD ?? 'auto'} (auto: a labelling thread and a publishing thread with two or more CPUs); main µs/rec is the CPU time of the process's main thread alone per record.`,
    ],
    targets: targets(tabular, mnist),
    ratios: ratios(tabular, mnist),
    tabular: tabular ?? null,
    mnist: mnist ?? null,
    ...(previous.soak === undefined ? {} : { soak: previous.soak }),
    ...(previous.profile === undefined ? {} : { profile: previous.profile }),
  };
  writeResult(settings.output, result);
  printTable({ tabular, mnist });
  process.stdout.write(`targets: ${JSON.stringify(result.targets)}\n`);
  log(`wrote ${settings.output}`);
}

/**
 * bench:profile: the throughput phases again with `node --cpu-prof`, summarised by category, plus
 * the Kafka-free hot-path timings; merged into the result file under `profile`.
 */
async function profileRun(base: BenchSettings, kafka: Kafka): Promise<void> {
  const started = new Date();
  const dir = base.cpuProfileDir ?? (await mkdtemp(join(tmpdir(), 'dec-stream-profile-')));
  const phases =
    process.env.BENCH_PHASES === undefined
      ? base.phases.filter((p) => !p.includes('latency') && !p.includes('platformatic'))
      : base.phases;
  const settings: BenchSettings = { ...base, cpuProfileDir: dir, phases };
  const reports: Record<string, DatasetReport | undefined> = {};
  if (phases.some((p) => p.startsWith('tabular-'))) {
    reports.tabular = await runDataset(
      settings,
      kafka,
      tabularRecords(settings.tabularRecords, settings.tabularDims, settings.tabularClusters),
      () => tabularModel(settings.tabularDims, settings.tabularClusters),
    );
  }
  if (phases.some((p) => p.startsWith('mnist-'))) {
    reports.mnist = await runDataset(
      settings,
      kafka,
      mnistRecords(settings.mnistRecords),
      mnistModel,
    );
  }
  log('hot path without Kafka');
  const hot = await hotPath(envNumber('BENCH_HOT_PATH_ROUNDS', 5));
  const profile = {
    command: 'npm run bench:profile',
    env: benchEnv(),
    date: started.toISOString(),
    machine: machineFacts(),
    profilesIn: dir,
    note:
      'Shares are of busy (non-idle) samples from the first handled record on, per thread (the ' +
      'main thread, and the labelling and publishing threads where the worker runs them); ' +
      'native leaves (JSON.parse, Buffer copies) count for the code that called them. Profiling ' +
      'slows every phase alike; read ratios, not absolute records/s.',
    phases: Object.values(reports).flatMap((r) =>
      (r?.throughput ?? []).map((t) => ({
        phase: t.phase,
        records: t.records,
        recordsPerSecond: Math.round(t.recordsPerSecond),
        cpuMicrosPerRecord: Math.round(t.cpuMicrosPerRecord * 10) / 10,
        ...(t.profile === undefined ? {} : { profile: t.profile }),
      })),
    ),
    hotPath: hot,
  };
  mergeResult(settings.output, { profile });
  for (const p of profile.phases) {
    process.stdout.write(`\n${p.phase}: ${p.cpuMicrosPerRecord} CPU µs/record\n`);
    for (const [name, share] of Object.entries(p.profile?.sharePercent ?? {})) {
      process.stdout.write(`  ${name.padEnd(28)} ${share.toFixed(1).padStart(5)}%\n`);
    }
    for (const thread of p.profile?.threads ?? []) {
      process.stdout.write(`  ${thread.thread}, ${thread.busyMs} ms busy:\n`);
      for (const [name, share] of Object.entries(thread.sharePercent)) {
        process.stdout.write(`    ${name.padEnd(26)} ${share.toFixed(1).padStart(5)}%\n`);
      }
    }
  }
  for (const h of hot) {
    process.stdout.write(`\n${h.dataset} hot path, µs per record:\n`);
    for (const [step, us] of Object.entries(h.microsPerRecord)) {
      process.stdout.write(`  ${step.padEnd(46)} ${us.toFixed(2).padStart(8)}\n`);
    }
  }
  log(`wrote profile into ${settings.output}`);
}

/** bench:soak: one at-least-once worker over many records, RSS sampled every N records. */
async function soakRun(settings: BenchSettings, kafka: Kafka): Promise<void> {
  const started = new Date();
  const pool = tabularRecords(
    Math.min(settings.soakRecords, 100_000),
    settings.tabularDims,
    settings.tabularClusters,
  );
  const model = await tabularModel(settings.tabularDims, settings.tabularClusters);
  const inputTopic = uniqueName('bench-soak');
  const outputTopic = `${inputTopic}.out`;
  await createTopics(kafka, [
    { topic: inputTopic, partitions: settings.partitions },
    { topic: outputTopic, partitions: settings.partitions },
    { topic: `${inputTopic}.dlq`, partitions: 1 },
  ]);
  const modelDir = await modelDirWith(model.snapshot);
  const child = runChild(
    {
      kind: 'worker',
      brokers: settings.brokers,
      inputTopic,
      outputTopic,
      groupId: uniqueName('bench-soak'),
      delivery: 'at-least-once',
      features: pool.features,
      clusters: pool.clusters,
      modelDir,
      chunk: CHUNK,
      expected: settings.soakRecords,
      sampleEvery: settings.soakSampleEvery,
    },
    { cpuProfileDir: settings.cpuProfileDir, profileName: 'soak', timeoutMs: 60 * 60_000 },
  );
  try {
    await Promise.race([child.ready, child.result]);
    // Load while the worker consumes, a pool of records repeated, so the topic never holds it all.
    log(`soak: producing ${settings.soakRecords} records while the worker labels them`);
    let loaded = 0;
    while (loaded < settings.soakRecords) {
      const count = Math.min(pool.values.length, settings.soakRecords - loaded);
      await loadTopic(kafka, inputTopic, pool.keys.slice(0, count), pool.values.slice(0, count));
      loaded += count;
    }
    const result = await child.result;
    const samples = result.rssSamples;
    // The first tenth is warm-up (JIT, buffers, tensors): flatness is judged after it.
    const warm = samples.filter((s) => s.records >= settings.soakRecords / 10).map((s) => s.rssMiB);
    // RSS saws with the garbage collector: judge it against the median level after warm-up, and
    // look for a trend (a leak) as the second half's mean against the first half's.
    const median = medianOf(warm);
    const maxDeviation = Math.max(...warm.map((v) => Math.abs(v / median - 1)));
    const half = Math.floor(warm.length / 2);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const trend = mean(warm.slice(half)) / mean(warm.slice(0, half)) - 1;
    const peakAfterWarmup = Math.max(...warm);
    const minAfterWarmup = Math.min(...warm);
    const last = warm[warm.length - 1] ?? Number.NaN;
    const soak = {
      command: 'npm run bench:soak',
      env: benchEnv(),
      date: started.toISOString(),
      machine: machineFacts(),
      records: result.records,
      recordsPerSecond: result.recordsPerSecond,
      sampleEveryRecords: settings.soakSampleEvery,
      warmupRecords: settings.soakRecords / 10,
      medianRssAfterWarmupMiB: median,
      minRssAfterWarmupMiB: minAfterWarmup,
      peakRssAfterWarmupMiB: peakAfterWarmup,
      lastRssMiB: last,
      maxDeviationFromMedian: maxDeviation,
      secondHalfOverFirstHalf: trend,
      flatWithin15Percent: maxDeviation <= 0.15,
      samples,
    };
    mergeResult(settings.output, { soak });
    process.stdout.write(
      `\nsoak: ${result.records} records at ${Math.round(result.recordsPerSecond)} records/s; ` +
        `RSS after warm-up ${minAfterWarmup.toFixed(0)}..${peakAfterWarmup.toFixed(0)} MiB, ` +
        `median ${median.toFixed(0)} MiB, at most ${(maxDeviation * 100).toFixed(1)}% from it; ` +
        `second half vs first ${(trend * 100).toFixed(1)}%; last ${last.toFixed(0)} MiB\n`,
    );
    log(`wrote soak into ${settings.output}`);
  } finally {
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    child.kill();
    await deleteTopics(kafka, [inputTopic, outputTopic, `${inputTopic}.dlq`]);
    await rm(modelDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const settings = loadBenchSettings();
  const kafka = benchKafka(settings.brokers);
  const mode = process.argv.includes('--soak')
    ? 'soak'
    : process.argv.includes('--profile')
      ? 'profile'
      : 'throughput';
  log(`${mode} benchmark against ${settings.brokers.join(',')}${settings.quick ? ' (quick)' : ''}`);
  if (mode === 'soak') await soakRun(settings, kafka);
  else if (mode === 'profile') await profileRun(settings, kafka);
  else await throughputRun(settings, kafka);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
