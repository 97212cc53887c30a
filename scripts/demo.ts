/**
 * `npm run demo`: the whole product on one machine. Starts the local Kafka broker (unless
 * KAFKA_BROKERS names one), streams the 10,000 MNIST digits as JSON records (`pixels` plus the true
 * `digit`, which the model never sees), runs the worker on them and draws a live view: phase,
 * bootstrap progress, records/s, lag, and the running ACC/NMI of the published labels against the
 * true digits. It ends with a summary and stops everything it started.
 *
 * Any DEC_* variable set in the environment overrides the demo's settings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { mnist10k } from '../bench/data/synthetic-mixture.js';
import { loadConfig } from '../src/config/load-config.js';
import { registerCompressionCodecs } from '../src/kafka/compression.js';
import { evaluateClustering } from '../src/model/evaluation.js';
import type { RunningWorker } from '../src/run-worker.js';
import { startWorker } from '../src/run-worker.js';
import { createLogger } from '../src/runtime/logger.js';
import type { BootstrapReport, WorkerObserver } from '../src/worker/observer.js';
import { Phase, silentObserver } from '../src/worker/observer.js';
import { SeededRandom } from '../src/model/rng.js';
import { initBackend } from '../src/model/backend.js';
import { nearestCentroids } from '../src/model/kmeans-init.js';
import { threadedKmeans } from '../src/model/threaded-kmeans.js';
import type { Matrix } from '../src/model/types.js';

interface BrokerModule {
  startBroker(options: {
    port: number;
    log: (line: string) => void;
  }): Promise<{ bootstrap: string; alreadyRunning: boolean; startupMs: number }>;
  stopBroker(options: { port: number; log: (line: string) => void }): Promise<void>;
}

const brokerModulePath = './kafka/broker.mjs';
const records = 10_000;
// The worker's DEC_BOOTSTRAP_RECORDS, also when the environment overrides it (loadConfig rejects a
// bad value with its own message), so that the view and the k-means baseline use the same window.
const bootstrapRecords = Number(process.env.DEC_BOOTSTRAP_RECORDS ?? 7_000);
const producePerSecond = Number(process.env.DEMO_RATE ?? 1_000);
const timeoutMs = Number(process.env.DEMO_TIMEOUT_MS ?? 15 * 60_000);
const tty = process.stdout.isTTY;

/** What the worker reports, kept for the live view. */
class LiveState {
  phase: Phase = Phase.Starting;
  modelVersion: number | undefined;
  modelKind: string | undefined;
  bootstrap: BootstrapReport = {};
  labelled = 0;
  deadLettered = 0;
  produced = 0;
  onlineAt: number | undefined;
  bootstrapStartedAt: number | undefined;
  bootstrapMs: number | undefined;
  /** (time, labelled) samples for records/s over the last few seconds. */
  samples: { at: number; labelled: number }[] = [];
  truth: number[] = [];
  predicted: number[] = [];

  observer(): WorkerObserver {
    return {
      ...silentObserver,
      phase: (phase) => {
        this.phase = phase;
        if (phase === Phase.Bootstrapping) this.bootstrapStartedAt = Date.now();
        if (phase === Phase.Online && this.onlineAt === undefined) {
          this.onlineAt = Date.now();
          if (this.bootstrapStartedAt !== undefined) {
            this.bootstrapMs = this.onlineAt - this.bootstrapStartedAt;
          }
        }
      },
      bootstrap: (report) => {
        this.bootstrap = { ...this.bootstrap, ...report };
      },
      modelServing: (info) => {
        this.modelVersion = info.version;
        this.modelKind = info.modelKind;
      },
      recordsProcessed: (outcome, count) => {
        if (outcome === 'labelled') this.labelled += count;
        else this.deadLettered += count;
      },
    };
  }

  rate(): number {
    const now = Date.now();
    this.samples.push({ at: now, labelled: this.labelled });
    while (this.samples.length > 2 && (this.samples[0] as { at: number }).at < now - 3_000) {
      this.samples.shift();
    }
    const first = this.samples[0] as { at: number; labelled: number };
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (this.labelled - first.labelled) / seconds : 0;
  }
}

const KMEANS_RESTARTS = 10;
/** Digits per request while the bootstrap window's backlog is produced (about 0.5 MB of JSON). */
const BACKLOG_CHUNK = 100;

/**
 * k-means (the guard's own: k-means++ restarts, Lloyd's steps as matrix products) on the raw pixels
 * of the records the bootstrap window holds (the stream's first `bootstrapRecords`), then every
 * digit labelled by its nearest centre: what plain k-means would publish for the same stream. It
 * runs on a thread of its own once pretraining is over, when the bootstrap keeps one core busy and
 * the other is free (the guard's own baseline used it during pretraining), so it neither slows the
 * bootstrap nor stalls the worker.
 */
async function kmeansBaseline(
  x: Matrix,
  labels: Int32Array,
  order: readonly number[],
  state: LiveState,
): Promise<number | undefined> {
  const pretraining = (): boolean =>
    state.phase !== Phase.Online &&
    state.phase !== Phase.Failed &&
    (state.bootstrap.trainingPhase === undefined || state.bootstrap.trainingPhase === 'pretrain');
  while (pretraining()) await new Promise((resolve) => setTimeout(resolve, 250));
  if (state.phase === Phase.Failed) return undefined;
  const pick = (rows: readonly number[]): Matrix => {
    const data = new Float32Array(rows.length * x.cols);
    rows.forEach((row, i) =>
      data.set(x.data.subarray(row * x.cols, (row + 1) * x.cols), i * x.cols),
    );
    return { data, rows: rows.length, cols: x.cols };
  };
  const window = pick(order.slice(0, bootstrapRecords));
  await initBackend();
  const best = await threadedKmeans()(window, 10, KMEANS_RESTARTS, new SeededRandom(1));
  const all = pick(order);
  const assigned = nearestCentroids(all, best.centroids, 10).labels;
  return evaluateClustering(
    order.map((row) => labels[row]!),
    assigned,
  ).acc;
}

function bar(done: number, total: number, width = 24): string {
  const filled = Math.round((Math.min(done, total) / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function view(state: LiveState, brokers: string, startedAt: number): string[] {
  const quality =
    state.truth.length > 0 ? evaluateClustering(state.truth, state.predicted) : undefined;
  // Records produced but not yet labelled or dead-lettered: the worker's backlog.
  const lag = Math.max(0, state.produced - state.labelled - state.deadLettered);
  const b = state.bootstrap;
  const training =
    b.trainingPhase === undefined
      ? ''
      : ` · ${b.trainingPhase} ${b.epoch ?? ''}${b.loss === undefined ? '' : ` loss ${b.loss.toFixed(4)}`}`;
  return [
    `dec-stream demo · MNIST ${records.toLocaleString('en')} digits · broker ${brokers}`,
    `phase       ${state.phase}${state.modelVersion === undefined ? '' : ` (model v${state.modelVersion})`}`,
    `produced    ${bar(state.produced, records)} ${state.produced} / ${records}`,
    `bootstrap   ${bar(b.recordsCollected ?? 0, bootstrapRecords)} ${b.recordsCollected ?? 0} / ${bootstrapRecords}${training}`,
    `labelled    ${bar(state.labelled, records)} ${state.labelled} · dead-lettered ${state.deadLettered} · ${state.rate().toFixed(0)} records/s`,
    `lag         ${lag}`,
    `ACC / NMI   ${quality === undefined ? '-' : `${quality.acc.toFixed(3)} / ${quality.nmi.toFixed(3)}`}  (${state.truth.length} published labels vs true digits)`,
    `elapsed     ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
  ];
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        say(`clean-up step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    cleanups.length = 0;
  };

  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
  });

  try {
    // 1. The broker.
    let brokers = process.env.KAFKA_BROKERS;
    if (brokers === undefined || brokers === '') {
      const port = Number(process.env.KAFKA_PORT ?? 9092);
      const broker = (await import(brokerModulePath)) as BrokerModule;
      say(`Starting the local Kafka broker on port ${port} (the first run fetches Kafka)…`);
      const started = await broker.startBroker({ port, log: say });
      brokers = started.bootstrap;
      if (!started.alreadyRunning) {
        cleanups.push(() => broker.stopBroker({ port, log: () => undefined }));
      }
    }
    // The worker writes lz4 by default; the demo's own reader needs the same codecs.
    registerCompressionCodecs();
    const kafka = new Kafka({
      clientId: 'dec-stream-demo',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });

    // 2. Topics.
    const stamp = Date.now().toString(36);
    const input = `demo-mnist-${stamp}`;
    const output = `${input}.labelled`;
    const dlq = `${input}.dlq`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [input, output, dlq].map((topic) => ({ topic, numPartitions: 1 })),
    });
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [input, output, dlq] }).catch(() => undefined);
      await admin.disconnect();
    });

    // 3. The worker. The trainer's defaults would give 784 pixels the paper's 500-500-2000 stack;
    // on two cores that leaves too few epochs in the demo's three minutes (ACC 0.70 on 3,000
    // digits), so the demo trains a third as much model per record, twice as often per epoch.
    const modelDir = await mkdtemp(join(tmpdir(), 'dec-stream-demo-'));
    cleanups.push(() => rm(modelDir, { recursive: true, force: true }));
    const logPath = join(tmpdir(), `dec-stream-demo-${stamp}.log`);
    const logFile = createWriteStream(logPath);
    cleanups.push(() => new Promise<void>((resolve) => logFile.end(resolve)));
    const overrides = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name.startsWith('DEC_')),
    );
    const config = loadConfig({
      KAFKA_BROKERS: brokers,
      KAFKA_CLIENT_ID: 'dec-stream-demo',
      DEC_INPUT_TOPIC: input,
      DEC_OUTPUT_TOPIC: output,
      DEC_DLQ_TOPIC: dlq,
      DEC_GROUP_ID: `dec-stream-demo-${stamp}`,
      DEC_FEATURES: 'pixels',
      DEC_CLUSTERS: '10',
      DEC_BOOTSTRAP_RECORDS: String(bootstrapRecords),
      DEC_BOOTSTRAP_MIN_RECORDS: '1000',
      DEC_BOOTSTRAP_MAX_WAIT_MS: '120000',
      DEC_MODEL_DIR: modelDir,
      DEC_HIDDEN: '256,256,1024',
      DEC_BATCH_SIZE: '64',
      DEC_PRETRAIN_EPOCHS: '20',
      DEC_MAX_ITERATIONS: '600',
      DEC_SEED: '1',
      DEC_BATCH_MAX_RECORDS: '500',
      DEC_METRICS_PORT: '0',
      ...overrides,
    });

    const state = new LiveState();
    const logger = createLogger({
      level: config.logLevel,
      write: (line) => logFile.write(`${line}\n`),
    });
    say(`Worker logs: ${logPath}`);
    const running: RunningWorker = await startWorker(config, {
      logger,
      observer: state.observer(),
    });
    cleanups.push(() => running.close());
    if (running.httpPort !== undefined) {
      say(`Metrics: http://127.0.0.1:${running.httpPort}/metrics`);
    }

    // 4. A downstream reader: read_committed, scores the published labels against the digits.
    const reader = kafka.consumer({
      groupId: `dec-stream-demo-reader-${stamp}`,
      maxWaitTimeInMs: 200,
    });
    await reader.connect();
    cleanups.push(() => reader.disconnect());
    await reader.subscribe({ topics: [output], fromBeginning: true });
    await reader.run({
      eachMessage: ({ message }) => {
        const value = JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>;
        if (typeof value.digit === 'number' && typeof value.cluster === 'number') {
          state.truth.push(value.digit);
          state.predicted.push(value.cluster);
        }
        return Promise.resolve();
      },
    });

    // 5. Stream the digits in a fixed shuffled order: the bootstrap window's worth at once, then
    // the rest at a steady rate.
    const { x, labels } = mnist10k();
    const order = Array.from(new SeededRandom(7).permutation(x.rows)).slice(0, records);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const send = async (from: number, to: number): Promise<void> => {
      const messages = order.slice(from, to).map((row, j) => {
        const pixels = Array.from(
          x.data.subarray(row * 784, (row + 1) * 784),
          (v) => Math.round(v * 1000) / 1000,
        );
        return {
          key: `digit-${from + j}`,
          value: JSON.stringify({ id: from + j, digit: labels[row], pixels }),
        };
      });
      await producer.send({ topic: input, messages });
      state.produced += messages.length;
    };
    // The bootstrap window's worth is a backlog, as when a worker starts on a topic with history:
    // every digit reaches the topic long before the first model exists, so pacing them would only
    // delay the training. The rest streams at the steady rate once the window is full, so that the
    // window holds exactly the first digits, however the partitions are read.
    const backlog = Math.min(config.bootstrap.records, order.length);
    const windowFilling = (): boolean =>
      !interrupted &&
      state.phase !== Phase.Failed &&
      state.phase !== Phase.Online &&
      (state.bootstrap.recordsCollected ?? 0) < backlog;
    // A failed send ends the wait below; `await feeding` then reports it and the demo cleans up.
    let feedingFailed = false;
    const feeding = (async () => {
      for (let i = 0; i < backlog && !interrupted; i += BACKLOG_CHUNK) {
        await send(i, Math.min(backlog, i + BACKLOG_CHUNK));
      }
      while (windowFilling()) await new Promise((resolve) => setTimeout(resolve, 100));
      const chunk = Math.max(1, Math.round(producePerSecond / 10));
      for (let i = backlog; i < order.length && !interrupted; i += chunk) {
        await send(i, Math.min(order.length, i + chunk));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    feeding.catch(() => {
      feedingFailed = true;
    });

    // The baseline: k-means on the same bootstrap window's raw pixels, labelling the same digits.
    // A baseline that fails prints '-' in the summary instead of stopping the demo.
    const baseline = kmeansBaseline(x, labels, order, state).catch(() => undefined);

    // 6. The live view.
    let drawn = 0;
    const draw = (): void => {
      const lines = view(state, brokers, startedAt);
      if (tty) {
        if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
        process.stdout.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
        drawn = lines.length;
      } else {
        say(
          lines
            .slice(1)
            .map((l) => l.replace(/\s+/g, ' '))
            .join(' | '),
        );
      }
    };
    const timer = setInterval(draw, tty ? 500 : 5_000);
    cleanups.push(() => {
      clearInterval(timer);
      return Promise.resolve();
    });
    draw();
    const deadline = startedAt + timeoutMs;
    while (
      state.truth.length < records &&
      Date.now() < deadline &&
      !interrupted &&
      !feedingFailed &&
      state.phase !== Phase.Failed
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await feeding;
    draw();
    clearInterval(timer);

    // 7. Summary.
    const quality = evaluateClustering(state.truth, state.predicted);
    const kmeansAcc = await baseline;
    const onlineSeconds = state.onlineAt === undefined ? 0 : (Date.now() - state.onlineAt) / 1000;
    say('');
    say('Summary');
    say(
      `  labelled records      ${state.truth.length} of ${records} (dead-lettered ${state.deadLettered})`,
    );
    say(
      `  ACC / NMI / ARI       ${quality.acc.toFixed(3)} / ${quality.nmi.toFixed(3)} / ${quality.ari.toFixed(3)}` +
        ` (${state.modelKind ?? 'dec'} model)`,
    );
    say(
      `  k-means ACC           ${kmeansAcc === undefined ? '-' : kmeansAcc.toFixed(3)} (${KMEANS_RESTARTS} restarts on the same ${bootstrapRecords} bootstrap records' raw pixels, labelling the same digits)`,
    );
    say(
      `  bootstrap             ${((state.bootstrapMs ?? 0) / 1000).toFixed(1)} s on ${bootstrapRecords} records`,
    );
    say(
      `  online throughput     ${onlineSeconds > 0 ? ((state.labelled - bootstrapRecords) / onlineSeconds).toFixed(0) : '-'} records/s (incl. waiting for input)`,
    );
    say(`  total                 ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    const complete = state.truth.length >= records;
    if (!complete) {
      say(
        interrupted
          ? 'Interrupted.'
          : state.phase === Phase.Failed
            ? `The worker failed: see ${logPath}`
            : 'The demo did not finish in time.',
      );
    }
    say('Stopping…');
    await cleanUp();
    return complete || interrupted ? 0 : 1;
  } catch (error) {
    say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    await cleanUp();
    return 1;
  }
}

process.exitCode = await main();
setTimeout(() => process.exit(), 2_000).unref();
