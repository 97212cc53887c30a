/**
 * Plumbing for the worker's end-to-end tests: a small well-separated mixture, an environment for a
 * tiny model, the worker in this process or as a child `dec-stream run`, and output readers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { IHeaders, Kafka } from 'kafkajs';
import { loadConfig } from '../../src/config/load-config.js';
import type { RunningWorker } from '../../src/run-worker.js';
import { startWorker } from '../../src/run-worker.js';
import { silentLogger } from '../../src/runtime/logger.js';
import type { Phase, WorkerObserver } from '../../src/worker/observer.js';
import { silentObserver } from '../../src/worker/observer.js';
import type { KafkaSecurity } from './helpers.js';
import { createTopics, kafkaBrokers, testKafka, uniqueTopic, waitFor } from './helpers.js';

/** What the harness needs of a test: somewhere to register clean-up (a chaos run brings its own). */
export interface Cleanup {
  after(fn: () => unknown): void;
}

/** Points around `clusters` centres far apart in `dims` dimensions, labels cycling 0..k-1. */
export function separatedMixture(
  samples: number,
  options: { clusters?: number; dims?: number; seed?: number } = {},
): { points: number[][]; labels: number[] } {
  const clusters = options.clusters ?? 3;
  const dims = options.dims ?? 4;
  let state = (options.seed ?? 7) >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: clusters }, (_, c) =>
    Array.from({ length: dims }, (_, d) => (d === c % dims ? 12 : 0) + (c >= dims ? -12 : 0)),
  );
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < samples; i++) {
    const c = i % clusters;
    points.push((centres[c] as number[]).map((m) => m + gaussian()));
    labels.push(c);
  }
  return { points, labels };
}

/** Topics, group and model directory of one test; removed/forgotten when the test ends. */
export interface WorkerScenario {
  readonly brokers: string[];
  readonly kafka: Kafka;
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
  readonly modelDir: string;
  /** Environment for `dec-stream run` with a tiny, fast model. */
  env(extra?: Record<string, string>): Record<string, string>;
}

export async function scenario(
  t: Cleanup,
  options: { partitions?: number; brokers?: string[]; security?: KafkaSecurity } = {},
): Promise<WorkerScenario> {
  const brokers = options.brokers ?? kafkaBrokers();
  const input = uniqueTopic('worker-in');
  const output = `${input}.out`;
  const dlq = `${input}.dlq`;
  const group = uniqueTopic('worker-group');
  await createTopics(
    brokers,
    [
      { topic: input, numPartitions: options.partitions ?? 1 },
      { topic: output, numPartitions: options.partitions ?? 1 },
      { topic: dlq, numPartitions: 1 },
    ],
    options.security,
  );
  const modelDir = await mkdtemp(join(tmpdir(), 'dec-worker-'));
  t.after(() => rm(modelDir, { recursive: true, force: true }));
  return {
    brokers,
    kafka: testKafka(brokers, undefined, options.security),
    input,
    output,
    dlq,
    group,
    modelDir,
    env: (extra = {}) => ({
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_CLIENT_ID: 'dec-stream-worker-test',
      DEC_INPUT_TOPIC: input,
      DEC_OUTPUT_TOPIC: output,
      DEC_GROUP_ID: group,
      DEC_FEATURES: 'f0,f1,f2,f3',
      DEC_CLUSTERS: '3',
      DEC_BOOTSTRAP_RECORDS: '150',
      DEC_BOOTSTRAP_MIN_RECORDS: '60',
      DEC_BOOTSTRAP_MAX_WAIT_MS: '20000',
      DEC_MODEL_DIR: modelDir,
      DEC_HIDDEN: '32,32',
      DEC_EMBEDDING: '4',
      DEC_PRETRAIN_EPOCHS: '150',
      DEC_MAX_ITERATIONS: '50',
      DEC_BACKEND: 'cpu',
      DEC_SEED: '1',
      DEC_METRICS_PORT: '0',
      DEC_LOG_LEVEL: 'info',
      DEC_BATCH_MAX_RECORDS: '50',
      DEC_REFINE_EVERY_RECORDS: '0',
      ...extra,
    }),
  };
}

/** A JSON record of the mixture: features f0..f3, an id and the true label (ignored by the model). */
/** Keyed JSON messages of a separated mixture of `total` records: record i is keyed `k<i>`. */
export function mixtureMessages(total: number): {
  readonly message: (i: number) => { key: string; value: string };
  readonly range: (from: number, to: number) => { key: string; value: string }[];
} {
  const { points, labels } = separatedMixture(total);
  const message = (i: number): { key: string; value: string } => ({
    key: `k${i}`,
    value: JSON.stringify(mixtureRecord(i, points[i] as number[], labels[i] as number)),
  });
  return {
    message,
    range: (from, to) => Array.from({ length: to - from }, (_, j) => message(from + j)),
  };
}

export function mixtureRecord(id: number, point: readonly number[], label: number): object {
  const record: Record<string, unknown> = { id: `r${id}`, truth: label };
  point.forEach((v, d) => {
    record[`f${d}`] = v;
  });
  return record;
}

export async function produce(
  kafka: Kafka,
  topic: string,
  messages: { key: string; value: Buffer | string | null; headers?: IHeaders }[],
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, messages: messages.slice(i, i + 500), acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadMessage {
  readonly key: string;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Reads `topic` from the beginning with a fresh group until at least `count` records arrived, then
 * keeps reading for `settleMs` more so duplicates would show. read_committed unless told otherwise.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  options: { timeoutMs?: number; settleMs?: number; readUncommitted?: boolean } = {},
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: uniqueTopic('reader'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 200,
  });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (value !== undefined) headers[name] = value.toString();
        }
        messages.push({
          key: message.key?.toString() ?? '',
          value: message.value,
          headers,
          partition,
          offset: message.offset,
        });
        return Promise.resolve();
      },
    });
    await waitFor(
      () => messages.length >= count,
      options.timeoutMs ?? 60_000,
      `${count} records on ${topic}`,
    );
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 1_500));
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** An observer that remembers the phases the worker went through. */
export function phaseRecorder(): WorkerObserver & { readonly phases: Phase[] } {
  const phases: Phase[] = [];
  return { ...silentObserver, phases, phase: (phase: Phase) => phases.push(phase) };
}

/** The worker in this process, closed when the test ends. */
export async function runInProcess(
  t: TestContext,
  env: Record<string, string>,
  observer?: WorkerObserver,
  options: { http?: boolean } = {},
): Promise<RunningWorker> {
  const running = await startWorker(loadConfig(env), {
    logger: silentLogger,
    http: options.http ?? false,
    ...(observer === undefined ? {} : { observer }),
  });
  t.after(() => running.close());
  return running;
}

/** `dec-stream run` as a child process, its JSON log lines collected. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly stderr: string[];
  /** Exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  /** Exit code and the signal that ended the process (null when it exited on its own). */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasLogged(predicate: (line: Record<string, unknown>) => boolean): boolean;
}

export function spawnWorker(t: Cleanup, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const exited = ended.then(({ code, signal }) => code ?? signal ?? -1);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    logs,
    stderr,
    exited,
    ended,
    hasLogged: (predicate) => logs.some(predicate),
  };
}

/** An exactly-once worker running on a mixture stream that keeps arriving while the test acts. */
export interface FedStream {
  readonly env: Record<string, string>;
  readonly first: WorkerProcess;
  /** How many records have been produced so far. */
  produced(): number;
  /** Settles once all `total` records are produced. */
  readonly feeding: Promise<void>;
}

/**
 * Produces the first 200 of `total` mixture records, starts an exactly-once worker and waits until
 * it is online, then keeps producing the rest five at a time every `pauseMs`.
 */
export async function startExactlyOnceStream(
  t: TestContext,
  s: WorkerScenario,
  total: number,
  pauseMs: number,
): Promise<FedStream> {
  const { message, range } = mixtureMessages(total);
  const env = s.env({ DEC_DELIVERY: 'exactly-once', DEC_BATCH_MAX_RECORDS: '10' });
  let next = Math.min(200, total);
  await produce(s.kafka, s.input, range(0, next));
  const first = spawnWorker(t, env);
  await waitFor(
    () => first.hasLogged((l) => l.msg === 'phase' && l.phase === 'online'),
    90_000,
    'the first worker online',
  );
  const feeding = (async () => {
    while (next < total) {
      const batch = [0, 1, 2, 3, 4].map((j) => next + j).filter((i) => i < total);
      await produce(s.kafka, s.input, batch.map(message));
      next += batch.length;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  })();
  return { env, first, produced: () => next, feeding };
}

/** Every one of `total` keys appears exactly once in `out`. */
export function assertEveryKeyOnce(out: readonly ReadMessage[], total: number): void {
  const counts = new Map<string, number>();
  for (const m of out) counts.set(m.key, (counts.get(m.key) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([key]) => key);
  assert.deepEqual(repeated, [], 'no record twice');
  assert.equal(counts.size, total, 'every record once');
}
