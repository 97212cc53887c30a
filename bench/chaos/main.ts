/**
 * `npm run chaos [-- --short] [--only a,b] [--out FILE] [--port N]`: faults the worker must
 * survive, on a broker of the suite's own (it is paused and restarted, so it is never the shared
 * one). Each scenario reports whether it held and its figures. The full run writes
 * bench/results/chaos.json and docs/reliability.md; `--short` (CI) runs a small form of each
 * and writes only `--out`; `--docs-only` rewrites the page from the committed report. Exits 1 when a scenario that ran did not hold.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import type { Kafka } from 'kafkajs';
import { foreignClientScenario } from './foreign-client.js';
import { frozenWorkerScenario } from './frozen-worker.js';
import { runFuzzScenario } from './fuzz.js';
import { killScenario, restartScenario, signalScenario } from './kills.js';
import type { KillMoment } from './kills.js';
import { modelDirScenario } from './model-dir.js';
import { outageScenario } from './outage.js';
import { ChaosBroker, LogDir, chaosKafka } from './rig.js';
import type { ScenarioResult } from './scenario.js';
import { reliabilityDoc } from './reliability-doc.js';
import type { ChaosReport } from './reliability-doc.js';
import { runSecuredBrokerScenario } from './secured-broker.js';
import { soakScenario } from './soak.js';

const root = join(import.meta.dirname, '..', '..');

interface Plan {
  readonly eosKills: readonly KillMoment[];
  readonly aloKills: readonly KillMoment[];
  readonly signalMoments: readonly KillMoment[];
  readonly sessionTimeoutsMs: readonly number[];
  readonly outputCodecs: readonly string[];
  readonly perCodec: number;
  readonly soakRecords: number;
  readonly pauseMs: number;
  readonly workerFreezes: number;
  readonly fuzzPayloads: number;
}

const every: readonly KillMoment[] = ['bootstrap', 'training', 'online', 'refinement', 'shutdown'];

const Plans: Record<'full' | 'short', Plan> = {
  full: {
    eosKills: [...every, ...every],
    aloKills: every,
    signalMoments: [...every, ...every],
    sessionTimeoutsMs: [15_000, 6_000],
    outputCodecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    perCodec: 200,
    soakRecords: 1_000_000,
    pauseMs: 20_000,
    workerFreezes: 3,
    fuzzPayloads: 100_000,
  },
  short: {
    eosKills: ['training', 'online', 'shutdown'],
    aloKills: ['online'],
    signalMoments: ['training', 'online', 'refinement'],
    sessionTimeoutsMs: [6_000],
    outputCodecs: ['lz4'],
    perCodec: 60,
    soakRecords: 20_000,
    pauseMs: 10_000,
    workerFreezes: 1,
    fuzzPayloads: 5_000,
  },
};

type Scenario = (kafka: Kafka, broker: ChaosBroker, plan: Plan) => Promise<ScenarioResult>;

/** In running order; the outage comes last because it stops and restarts the broker. */
const Scenarios: Record<string, Scenario> = {
  // Needs no broker: the decoders, feature extraction and the dead-letter decision.
  fuzz: (_kafka, _broker, plan) => runFuzzScenario({ payloads: plan.fuzzPayloads, seed: 1 }),
  // Starts and stops a SASL_SSL broker of its own.
  'secured-broker': () => runSecuredBrokerScenario(),
  'foreign-client': (kafka, broker, plan) =>
    foreignClientScenario(kafka, broker.bootstrap, plan.outputCodecs, plan.perCodec),
  'sigkill-exactly-once': (kafka, broker, plan) =>
    killScenario(kafka, broker.bootstrap, {
      delivery: 'exactly-once',
      moments: plan.eosKills,
      seed: 1,
    }),
  'sigkill-at-least-once': (kafka, broker, plan) =>
    killScenario(kafka, broker.bootstrap, {
      delivery: 'at-least-once',
      moments: plan.aloKills,
      seed: 2,
    }),
  signals: (kafka, broker, plan) => signalScenario(kafka, broker.bootstrap, plan.signalMoments, 3),
  'restart-to-first-label': (kafka, broker, plan) =>
    restartScenario(kafka, broker.bootstrap, plan.sessionTimeoutsMs),
  'model-dir-unwritable': (kafka, broker) => modelDirScenario(kafka, broker.bootstrap),
  'frozen-worker': (kafka, broker, plan) =>
    frozenWorkerScenario(kafka, broker.bootstrap, plan.workerFreezes, plan.pauseMs),
  soak: (kafka, broker, plan) => soakScenario(kafka, broker.bootstrap, plan.soakRecords),
  'broker-outage': (kafka, broker, plan) => outageScenario(kafka, broker, plan.pauseMs),
};

function options(): { short: boolean; only: string[]; out: string; port: number } {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      port: { type: 'string', default: '29092' },
    },
  });
  const only = values.only?.split(',').filter((s) => s.length > 0) ?? Object.keys(Scenarios);
  const unknown = only.filter((name) => !(name in Scenarios));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${Object.keys(Scenarios).join(', ')}`,
    );
  }
  return {
    short: values.short,
    only,
    out:
      values.out ??
      join(root, 'bench', 'results', values.short ? 'chaos-short.json' : 'chaos.json'),
    port: Number(values.port),
  };
}

async function runOne(name: string, run: () => Promise<ScenarioResult>): Promise<ScenarioResult> {
  const started = Date.now();
  const ranAt = new Date(started).toISOString();
  const loadAverage = Math.round((loadavg()[0] ?? 0) * 10) / 10;
  process.stdout.write(`chaos: ${name}...\n`);
  let result: ScenarioResult;
  try {
    result = await run();
  } catch (error) {
    result = { name, passed: false, figures: {}, notes: [`failed to run: ${String(error)}`] };
  }
  result = { ...result, ranAt, loadAverage };
  const verdict = result.skipped === true ? 'skipped' : result.passed ? 'held' : 'FAILED';
  process.stdout.write(
    `chaos: ${name} ${verdict} in ${Math.round((Date.now() - started) / 1000)} s ` +
      `${JSON.stringify(result.figures)}\n`,
  );
  if (!result.passed) {
    for (const note of result.notes) process.stdout.write(`  ${note}\n`);
    process.stdout.write(`  worker logs: ${LogDir}\n`);
  }
  return result;
}

/**
 * A full run of some scenarios (`--only`) replaces just those in the committed report, in the
 * suite's order, so one scenario can be re-measured without re-running the rest.
 */
async function mergedWithCommitted(path: string, report: ChaosReport): Promise<ChaosReport> {
  let previous: ChaosReport | undefined;
  try {
    previous = JSON.parse(await readFile(path, 'utf8')) as ChaosReport;
  } catch {
    return report;
  }
  const byName = new Map(previous.scenarios.map((r) => [r.name, r]));
  for (const r of report.scenarios) byName.set(r.name, r);
  const order = Object.keys(Scenarios);
  const rank = (name: string): number => {
    const at = order.findIndex((key) => name === key || name.startsWith(key));
    return at === -1 ? order.length : at;
  };
  const scenarios = [...byName.values()].sort((a, b) => rank(a.name) - rank(b.name));
  return { ...report, scenarios };
}

/** docs/reliability.md, formatted as the repository's Prettier settings want it. */
async function writeDoc(report: ChaosReport): Promise<void> {
  const path = join(root, 'docs', 'reliability.md');
  const options = (await prettier.resolveConfig(path)) ?? {};
  await writeFile(
    path,
    await prettier.format(reliabilityDoc(report), { ...options, parser: 'markdown' }),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--docs-only')) {
    // Rewrites docs/reliability.md from the committed report, after an edit of its text.
    const path = join(root, 'bench', 'results', 'chaos.json');
    const report = JSON.parse(await readFile(path, 'utf8')) as ChaosReport;
    await writeDoc(report);
    return;
  }
  const args = options();
  const plan = args.short ? Plans.short : Plans.full;
  const broker = new ChaosBroker(args.port);
  await broker.start();
  const kafka = chaosKafka(broker.bootstrap);
  const started = new Date();
  const results: ScenarioResult[] = [];
  try {
    for (const name of Object.keys(Scenarios).filter((n) => args.only.includes(n))) {
      const scenario = Scenarios[name] as Scenario;
      results.push(await runOne(name, () => scenario(kafka, broker, plan)));
    }
  } finally {
    await broker.stop();
  }
  const report = {
    command: `npm run chaos${args.short ? ' -- --short' : ''}`,
    date: started.toISOString(),
    minutes: Math.round((Date.now() - started.getTime()) / 6_000) / 10,
    machine: {
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    scenarios: results,
  };
  const written = args.short ? report : await mergedWithCommitted(args.out, report);
  await writeFile(args.out, `${JSON.stringify(written, null, 2)}\n`);
  if (!args.short) await writeDoc(written);
  const failed = results.filter((r) => !r.passed && r.skipped !== true).map((r) => r.name);
  process.stdout.write(
    failed.length === 0 ? 'chaos: every scenario held\n' : `chaos: FAILED ${failed.join(', ')}\n`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

await main();
