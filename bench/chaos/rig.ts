/**
 * The chaos suite's plumbing: a broker of its own (so it can be paused and restarted without
 * disturbing anything else), `dec-stream run` as child processes with their JSON logs, /readyz
 * and /metrics, a feeder that keeps producing keyed records, and an audit of the output topic
 * against the input topic (lost and duplicated records, by key).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { runningBrokerPid, startBroker, stopBroker } from '../../scripts/kafka/broker.mjs';
import { registerCompressionCodecs } from '../../src/kafka/compression.js';

const root = join(import.meta.dirname, '..', '..');
const quiet = (): void => undefined;
/** Each worker's output, one file per process. */
export const LogDir = join(tmpdir(), 'dec-stream-chaos');
let workers = 0;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` every 100 ms; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(100);
  }
  return Date.now() - started;
}

/** The suite's own broker on `port`: started fresh, paused, resumed, stopped and restarted. */
export class ChaosBroker {
  readonly bootstrap: string;

  constructor(readonly port: number) {
    this.bootstrap = `127.0.0.1:${port}`;
  }

  async start(keepData = false): Promise<number> {
    const broker = await startBroker({ port: this.port, log: quiet, keepData });
    return broker.startupMs;
  }

  async stop(): Promise<void> {
    await stopBroker({ port: this.port, log: quiet });
  }

  /** SIGSTOP: the JVM freezes with its sockets open, as a hung or partitioned broker does. */
  pause(): void {
    process.kill(this.pid(), 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid(), 'SIGCONT');
  }

  private pid(): number {
    const pid = runningBrokerPid(this.port);
    if (pid === undefined) throw new Error(`no broker runs on port ${this.port}`);
    return pid;
  }
}

/** A client of the suite's broker that reads every codec the worker may write. */
export function chaosKafka(bootstrap: string): Kafka {
  registerCompressionCodecs();
  return new Kafka({
    clientId: 'dec-stream-chaos',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Topics, group and model directory of one scenario. */
export interface ChaosStream {
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
  readonly modelDir: string;
  /** Environment of `dec-stream run` with a tiny model; `extra` overrides. */
  env(extra?: Record<string, string>): Record<string, string>;
  remove(): Promise<void>;
}

export async function chaosStream(
  kafka: Kafka,
  bootstrap: string,
  name: string,
  partitions = 2,
): Promise<ChaosStream> {
  const id = `${name}-${randomBytes(4).toString('hex')}`;
  const input = `chaos-${id}`;
  const output = `${input}.out`;
  const dlq = `${input}.dlq`;
  const group = `chaos-group-${id}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: input, numPartitions: partitions },
        { topic: output, numPartitions: partitions },
        { topic: dlq, numPartitions: 1 },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  const modelDir = await mkdtemp(join(tmpdir(), 'dec-chaos-'));
  return {
    input,
    output,
    dlq,
    group,
    modelDir,
    env: (extra = {}) => ({
      KAFKA_BROKERS: bootstrap,
      KAFKA_CLIENT_ID: 'dec-stream-chaos',
      DEC_INPUT_TOPIC: input,
      DEC_OUTPUT_TOPIC: output,
      DEC_GROUP_ID: group,
      DEC_FEATURES: 'f0,f1,f2,f3',
      DEC_CLUSTERS: '3',
      DEC_BOOTSTRAP_RECORDS: '300',
      DEC_BOOTSTRAP_MIN_RECORDS: '100',
      DEC_BOOTSTRAP_MAX_WAIT_MS: '20000',
      DEC_MODEL_DIR: modelDir,
      DEC_HIDDEN: '32,32',
      DEC_EMBEDDING: '4',
      DEC_PRETRAIN_EPOCHS: '150',
      DEC_MAX_ITERATIONS: '50',
      DEC_BACKEND: 'cpu',
      DEC_SEED: '1',
      DEC_LOG_LEVEL: 'info',
      DEC_BATCH_MAX_RECORDS: '50',
      DEC_SESSION_TIMEOUT_MS: '6000',
      DEC_HEARTBEAT_INTERVAL_MS: '1000',
      ...extra,
    }),
    remove: () => rm(modelDir, { recursive: true, force: true }),
  };
}

/** `dec-stream run` as a child process: its JSON log lines, /readyz and /metrics. */
export class WorkerProcess {
  readonly logs: Record<string, unknown>[] = [];
  readonly stderr: string[] = [];
  readonly spawnedAt = Date.now();
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Where its standard output and error go, for a look after a failed scenario. */
  readonly logFile: string;
  private readonly child: ChildProcess;

  constructor(
    env: Record<string, string>,
    readonly metricsPort: number,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...env,
        DEC_METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    mkdirSync(LogDir, { recursive: true });
    workers += 1;
    this.logFile = join(LogDir, `worker-${process.pid}-${workers}.log`);
    const file = createWriteStream(this.logFile);
    let pending = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      file.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.logs.push(parseLine(line));
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      file.write(chunk);
      this.stderr.push(chunk);
    });
    this.child.once('exit', () => file.end());
    this.ended = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  static async start(env: Record<string, string>): Promise<WorkerProcess> {
    return new WorkerProcess(env, await freePort());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  logged(predicate: (line: Record<string, unknown>) => boolean): boolean {
    return this.logs.some(predicate);
  }

  inPhase(phase: string): boolean {
    return this.logged((l) => l.msg === 'phase' && l.phase === phase);
  }

  /** /readyz: true, false, or undefined while the HTTP server does not answer. */
  async ready(): Promise<boolean | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`, {
        signal: AbortSignal.timeout(1_000),
      });
      return response.status === 200;
    } catch {
      return undefined;
    }
  }

  /** The sum of every sample of `metric` on /metrics whose labels contain `labels`, or 0. */
  async metric(metric: string, labels = ''): Promise<number> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, {
        signal: AbortSignal.timeout(2_000),
      });
      const text = await response.text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${metric} `) && !line.startsWith(`${metric}{`)) continue;
        if (labels !== '' && !line.includes(labels)) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    } catch {
      return 0;
    }
  }

  /** Records this process has labelled so far (its /metrics). */
  labelled(): Promise<number> {
    return this.metric('decstream_records_total', 'outcome="labelled"');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  async stop(graceMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const ended = await this.ended;
    clearTimeout(timer);
    return ended;
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { raw: line };
  }
}

/** A well-separated mixture record: features f0..f3 around one of three centres. */
export function mixtureValue(i: number): string {
  let state = (i * 2654435761 + 1) >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const cluster = i % 3;
  const record: Record<string, unknown> = { id: `r${i}`, truth: cluster };
  for (let d = 0; d < 4; d++) record[`f${d}`] = (d === cluster ? 12 : 0) + gaussian();
  return JSON.stringify(record);
}

/**
 * Produces keyed mixture records `k<i>` in small batches until stopped. While `hold()` is true
 * (the broker is down on purpose) it waits instead of producing; a send that fails is retried,
 * and the audit reads the input topic itself, so a retried batch stored twice is not mistaken
 * for a duplicate the worker made.
 */
export class Feeder {
  private next = 0;
  private stopped = false;
  private readonly done: Promise<void>;
  failedSends = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly perBatch: number,
    private readonly pauseMs: number,
    private readonly hold: () => boolean = () => false,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    this.done = this.loop();
  }

  get produced(): number {
    return this.next;
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.next < this.limit) {
      if (this.hold()) {
        await sleep(100);
        continue;
      }
      const count = Math.min(this.perBatch, this.limit - this.next);
      const messages = Array.from({ length: count }, (_, j) => ({
        key: `k${this.next + j}`,
        value: mixtureValue(this.next + j),
      }));
      try {
        await this.producer.send({ topic: this.topic, messages, acks: -1 });
        this.next += count;
      } catch {
        this.failedSends += 1;
        await sleep(500);
        continue;
      }
      await sleep(this.pauseMs);
    }
  }

  async stop(): Promise<number> {
    this.stopped = true;
    await this.done;
    return this.next;
  }

  finished(): Promise<void> {
    return this.done;
  }
}

/** Counts of each key on `topic`, read from the beginning until `expectKeys` keys were seen. */
export async function keyCounts(
  kafka: Kafka,
  topic: string,
  expectKeys: number,
  options: { timeoutMs?: number; settleMs?: number } = {},
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const consumer = kafka.consumer({
    groupId: `chaos-audit-${randomBytes(4).toString('hex')}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const key = message.key?.toString() ?? '';
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    await waitUntil(() => counts.size >= expectKeys, options.timeoutMs ?? 120_000, topic).catch(
      () => undefined,
    );
    await sleep(options.settleMs ?? 3_000);
  } finally {
    await consumer.disconnect();
  }
  return counts;
}

/** What a read_committed reader of the output saw against what the input holds. */
export interface Audit {
  readonly input: number;
  readonly lost: number;
  readonly duplicated: number;
}

/**
 * Lost: input keys with no labelled record (dead letters count as handled). Duplicated: labelled
 * records beyond the number of times the key is on the input.
 */
export async function audit(kafka: Kafka, stream: ChaosStream, produced: number): Promise<Audit> {
  const input = await keyCounts(kafka, stream.input, produced, { settleMs: 1_000 });
  const output = await keyCounts(kafka, stream.output, input.size);
  let lost = 0;
  let duplicated = 0;
  for (const [key, times] of input) {
    const labelled = output.get(key) ?? 0;
    if (labelled === 0) lost += 1;
    duplicated += Math.max(0, labelled - times);
  }
  return { input: input.size, lost, duplicated };
}
