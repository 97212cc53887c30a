/**
 * The worker against the local broker in its SASL_SSL mode (SCRAM-SHA-512, a self-signed CA): the
 * steps the integration test asserts on and the chaos scenario reports, each returning what it saw.
 * The broker runs on its own port (KAFKA_SECURED_PORT, default 19193, controller on the next
 * port), beside the plaintext broker the other tests use.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecuredBrokerClient } from '../../scripts/kafka/broker.mjs';
import { startBroker, stopBroker } from '../../scripts/kafka/broker.mjs';
import { makeCertificateAuthority } from '../../scripts/kafka/secured.mjs';
import type { Kafka } from 'kafkajs';
import type { KafkaSecurity } from './helpers.js';
import { waitFor } from './helpers.js';
import type { Cleanup, WorkerProcess } from './worker-harness.js';
import { mixtureMessages, produce, readTopic, scenario, spawnWorker } from './worker-harness.js';

export const securedBrokerPort = Number(process.env.KAFKA_SECURED_PORT ?? 19193);
const quiet = (): void => undefined;

export interface SecuredBroker {
  readonly bootstrap: string;
  readonly client: SecuredBrokerClient;
  /** kafkajs options for the test's own clients. */
  readonly security: KafkaSecurity;
  /** The worker's settings for this broker; `overrides` replaces some (a wrong password). */
  workerEnv(overrides?: Record<string, string>): Record<string, string>;
  /** Stops the broker; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts the secured broker (or takes over the one a killed run left on the port). */
export async function startSecuredBroker(port = securedBrokerPort): Promise<SecuredBroker> {
  const stop = async (): Promise<void> => {
    await stopBroker({ port, log: quiet });
  };
  let client: SecuredBrokerClient | undefined;
  let bootstrap: string;
  try {
    const started = await startBroker({ port, security: 'sasl-ssl', log: quiet });
    client = started.client;
    bootstrap = started.bootstrap;
  } catch (error) {
    await stop();
    throw error;
  }
  if (client === undefined) {
    await stop();
    throw new Error(`the broker on port ${port} reported no client credentials`);
  }
  const { caFile, mechanism, username, password } = client;
  return {
    bootstrap,
    client,
    security: {
      ssl: { ca: [await readFile(caFile, 'utf8')] },
      sasl: { mechanism, username, password },
    },
    workerEnv: (overrides = {}) => ({
      KAFKA_BROKERS: bootstrap,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: caFile,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: username,
      KAFKA_SASL_PASSWORD: password,
      ...overrides,
    }),
    stop,
  };
}

/** Every line a worker wrote: its JSON log lines as written, then its standard error. */
export function outputOf(worker: WorkerProcess): string[] {
  return [
    ...worker.logs.map((line) => JSON.stringify(line)),
    ...worker.stderr.join('').split('\n'),
  ];
}

export interface LabelledRun {
  readonly produced: number;
  /** Records on the output topic, and how many distinct keys among them. */
  readonly labelled: number;
  readonly distinctKeys: number;
  /** Cluster labels found on the output records. */
  readonly clusters: readonly number[];
  /** From starting `dec-stream run` to its /metrics counting the first labelled record. */
  readonly secondsToFirstLabel: number;
  /** The last /metrics answer, taken once every record was labelled. */
  readonly metrics: string;
  readonly exitCode: number | string;
  readonly output: readonly string[];
}

/** The port the worker's log says its HTTP server listens on. */
async function httpPortOf(worker: WorkerProcess, timeoutMs: number): Promise<number> {
  let port: number | undefined;
  await waitFor(
    () => {
      const line = worker.logs.find((l) => l.msg === 'http server listening');
      port = typeof line?.port === 'number' ? line.port : undefined;
      return port !== undefined;
    },
    timeoutMs,
    'the worker to listen for HTTP',
  );
  return port as number;
}

/**
 * Waits until the coordinator of `groupId` answers. A fresh broker creates __consumer_offsets at
 * the first group lookup and answers COORDINATOR_LOAD_IN_PROGRESS while it loads; kafkajs's
 * consumer gives up on that error during its first join, and the worker fails on a consumer that
 * gives up. That is about a broker seconds old, not about security, so the run waits it out.
 */
async function groupCoordinatorLoaded(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      () =>
        admin.fetchOffsets({ groupId, topics: [topic] }).then(
          () => true,
          () => false,
        ),
      60_000,
      `the coordinator of group ${groupId}`,
    );
  } finally {
    await admin.disconnect();
  }
}

function labelledCount(metrics: string): number {
  const match = /^decstream_records_total\{outcome="labelled"\} (\d+)/m.exec(metrics);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Produces `records` mixture records to a fresh topic of the secured broker, runs `dec-stream run`
 * against it over SASL_SSL until every record is labelled, reads the output back and stops the
 * worker with SIGTERM.
 */
export async function labelThroughSecuredBroker(
  t: Cleanup,
  broker: SecuredBroker,
  records: number,
): Promise<LabelledRun> {
  const s = await scenario(t, { brokers: [broker.bootstrap], security: broker.security });
  await produce(s.kafka, s.input, mixtureMessages(records).range(0, records));
  await groupCoordinatorLoaded(s.kafka, s.group, s.input);
  const started = performance.now();
  const worker = spawnWorker(t, s.env(broker.workerEnv({ DEC_LOG_LEVEL: 'debug' })));
  const port = await httpPortOf(worker, 120_000);
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  let metrics = '';
  let secondsToFirstLabel = Number.NaN;
  await waitFor(
    async () => {
      const answer = await fetch(metricsUrl).catch(() => undefined);
      if (answer === undefined) {
        if (worker.child.exitCode === null) return false;
        throw new Error(`the worker exited early:\n${outputOf(worker).slice(-15).join('\n')}`);
      }
      metrics = await answer.text();
      const labelled = labelledCount(metrics);
      if (labelled > 0 && Number.isNaN(secondsToFirstLabel)) {
        secondsToFirstLabel = (performance.now() - started) / 1000;
      }
      return labelled >= records;
    },
    180_000,
    `${records} records labelled`,
  );
  const out = await readTopic(s.kafka, s.output, records, { settleMs: 500 });
  worker.child.kill('SIGTERM');
  const exitCode = await worker.exited;
  const clusters = out.map((m) => {
    const value = JSON.parse(m.value?.toString() ?? 'null') as { cluster?: unknown };
    return typeof value.cluster === 'number' ? value.cluster : -1;
  });
  return {
    produced: records,
    labelled: out.length,
    distinctKeys: new Set(out.map((m) => m.key)).size,
    clusters,
    secondsToFirstLabel,
    metrics,
    exitCode,
    output: outputOf(worker),
  };
}

export interface RefusedStart {
  readonly exitCode: number | string;
  readonly seconds: number;
  /** The non-empty lines of standard error. */
  readonly stderrLines: readonly string[];
  /** The `code` of the error the `start-up failed` log line carries. */
  readonly loggedCode: string | undefined;
  readonly output: readonly string[];
}

/**
 * Runs `dec-stream run` against the secured broker with some of its settings replaced (a wrong
 * password, a CA that did not sign the broker's certificate) and waits, at most `timeoutMs`, for
 * it to give up.
 */
export async function refusedStart(
  t: Cleanup,
  broker: SecuredBroker,
  overrides: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RefusedStart> {
  const modelDir = await mkdtemp(join(tmpdir(), 'dec-secured-refused-'));
  t.after(() => rm(modelDir, { recursive: true, force: true }));
  const env = {
    ...broker.workerEnv(overrides),
    DEC_INPUT_TOPIC: 'secured-refused-in',
    DEC_OUTPUT_TOPIC: 'secured-refused-out',
    DEC_FEATURES: 'f0,f1,f2,f3',
    DEC_CLUSTERS: '3',
    DEC_METRICS_PORT: '0',
    DEC_BACKEND: 'cpu',
    DEC_MODEL_DIR: modelDir,
  };
  const started = performance.now();
  const worker = spawnWorker(t, env);
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs);
  const exitCode = await worker.exited;
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const failed = worker.logs.find((l) => l.msg === 'start-up failed');
  const error = failed?.error as { code?: unknown } | undefined;
  return {
    exitCode,
    seconds,
    stderrLines: worker.stderr
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== ''),
    loggedCode: typeof error?.code === 'string' ? error.code : undefined,
    output: outputOf(worker),
  };
}

/**
 * A certificate authority that did not sign the broker's certificate, in a temporary directory
 * removed at clean-up.
 */
export async function strangerCa(t: Cleanup): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dec-stranger-ca-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return makeCertificateAuthority({ dir, name: 'stranger', commonName: 'not the broker CA' })
    .caFile;
}

/** The lines among `lines` that contain any of `secrets`. */
export function linesWithSecrets(lines: readonly string[], secrets: readonly string[]): string[] {
  return lines.filter((line) => secrets.some((secret) => line.includes(secret)));
}

/** Whether any of `lines` (raw, or JSON log lines with escaped newlines) holds a stack frame. */
export function hasStackTrace(lines: readonly string[]): boolean {
  return lines.some((line) => /^\s+at \S/.test(line) || line.includes('\\n    at '));
}
