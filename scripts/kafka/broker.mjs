// The local single-node Apache Kafka broker (KRaft, broker + controller in one JVM), without Docker.
//
// resolveKafka()  copies kafka_2.13 and its runtime jars into ~/.cache/dec-stream/kafka-<version>/
//                 with Maven, once (a marker file records success; later runs never call mvn).
// startBroker()   formats a fresh storage directory and starts kafka.Kafka on 127.0.0.1:<port>,
//                 then waits until the broker answers a metadata request. With keepData it
//                 restarts on the storage of the previous start instead (topics, offsets and
//                 transactions survive), as a real broker restart does.
// stopBroker()    sends SIGTERM, waits for the controlled shutdown, and removes the pid file.
//
// Everything that belongs to one broker (config, data, logs, pid) lives in
// ~/.cache/dec-stream/run/<port>/, so brokers on different ports run side by side.
// The controller listens on <port> + 1.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

export const KAFKA_VERSION = process.env.KAFKA_VERSION ?? '4.4.0';
export const DEFAULT_PORT = 9092;

const here = dirname(fileURLToPath(import.meta.url));
const cacheRoot = process.env.DEC_STREAM_CACHE ?? join(homedir(), '.cache', 'dec-stream');
const heap = process.env.KAFKA_HEAP ?? '512m';
const readyTimeoutMs = Number(process.env.KAFKA_READY_TIMEOUT_MS ?? 90_000);
const stopTimeoutMs = 30_000;

/** The broker port from KAFKA_PORT, or 9092. */
export function brokerPort(env = process.env) {
  const text = env.KAFKA_PORT ?? String(DEFAULT_PORT);
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new Error(`KAFKA_PORT must be a port number below 65535, got "${text}"`);
  }
  return port;
}

/** Directory holding the resolved jars for one Kafka version. */
export function kafkaHome(version = KAFKA_VERSION) {
  return join(cacheRoot, `kafka-${version}`);
}

/** Directory holding the config, data, logs and pid of the broker on one port. */
export function runDir(port) {
  return join(cacheRoot, 'run', String(port));
}

/**
 * Copies kafka_2.13 and its runtime dependencies into the cache with `mvn`, unless a previous run
 * already did. Safe when several processes resolve at once: each copies into its own temporary
 * directory and the first rename wins.
 * @returns {string} the directory of jars
 */
export function resolveKafka(version = KAFKA_VERSION, log = console.log) {
  const home = kafkaHome(version);
  const libs = join(home, 'libs');
  const marker = join(home, '.resolved');
  if (existsSync(marker)) return libs;

  log(`Resolving Apache Kafka ${version} with Maven into ${home} (first run only)...`);
  mkdirSync(home, { recursive: true });
  const staging = join(home, `libs.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      join(here, 'pom.xml'),
      `-Dkafka.version=${version}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    { encoding: 'utf8' },
  );
  if (mvn.error) throw new Error(`Could not run mvn (is Maven installed?): ${mvn.error.message}`);
  if (mvn.status !== 0) {
    throw new Error(`mvn failed with exit code ${mvn.status}:\n${mvn.stdout}${mvn.stderr}`);
  }

  try {
    renameSync(staging, libs);
  } catch (error) {
    // Another process finished first; its copy is identical.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(libs)) throw error;
  }
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return libs;
}

function javaArgs(libs, port, mainClass, mainArgs) {
  const dir = runDir(port);
  return [
    `-Xms128m`,
    `-Xmx${heap}`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
    `-Dlog4j2.configurationFile=${join(here, 'log4j2.properties')}`,
    '-cp',
    `${libs}/*`,
    mainClass,
    ...mainArgs,
  ];
}

function serverProperties(port) {
  const dir = runDir(port);
  const controllerPort = port + 1;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    // Internal topics: one replica, min ISR 1, few partitions so they are created quickly.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=5',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.retention.hours=24',
    '',
  ].join('\n');
}

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. */
function newClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie has exited; its parent just has not reaped it yet.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** The pid of the broker this script started on `port`, if it is still running. */
export function runningBrokerPid(port) {
  const pidFile = join(runDir(port), 'broker.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  try {
    // Guard against a recycled pid: the process must be our kafka.Kafka for this run directory.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('kafka.Kafka') || !cmdline.includes(runDir(port))) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

function portInUse(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function answersMetadata(bootstrap) {
  const kafka = new Kafka({
    clientId: 'dec-stream-broker-probe',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function logTail(port, lines = 30) {
  const dir = join(runDir(port), 'logs');
  const parts = [];
  for (const name of ['stdout.log', 'server.log']) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8').trimEnd();
    if (text) parts.push(`--- ${file} ---\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  return parts.join('\n');
}

/** Formats the KRaft storage of the broker on `port` with a new cluster id. */
function formatStorage(libs, port, config) {
  const format = spawnSync(
    'java',
    javaArgs(libs, port, 'kafka.tools.StorageTool', [
      'format',
      '--cluster-id',
      newClusterId(),
      '--config',
      config,
      '--ignore-formatted',
    ]),
    { encoding: 'utf8' },
  );
  if (format.status !== 0) {
    throw new Error(
      `Formatting the Kafka storage failed (exit ${format.status}):\n${format.stdout}${format.stderr}`,
    );
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the broker on `port` unless this script already runs one there.
 * @returns {Promise<{ bootstrap: string; pid: number; alreadyRunning: boolean; startupMs: number }>}
 */
export async function startBroker({
  port = brokerPort(),
  log = console.log,
  keepData = false,
} = {}) {
  const bootstrap = `127.0.0.1:${port}`;
  const existing = runningBrokerPid(port);
  if (existing !== undefined) {
    return { bootstrap, pid: existing, alreadyRunning: true, startupMs: 0 };
  }
  for (const p of [port, port + 1]) {
    if (await portInUse(p)) {
      throw new Error(
        `Port ${p} on 127.0.0.1 is already in use by a process that this script did not start. ` +
          `Stop it, choose another KAFKA_PORT, or point KAFKA_BROKERS at a running broker.`,
      );
    }
  }

  const libs = resolveKafka(KAFKA_VERSION, log);
  const started = Date.now();
  const dir = runDir(port);
  const config = join(dir, 'server.properties');
  const restart = keepData && existsSync(join(dir, 'data', 'meta.properties'));
  if (!restart) {
    // Every fresh start gets a newly formatted storage directory: no state leaks between runs.
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(config, serverProperties(port));
    formatStorage(libs, port, config);
  }

  const out = openSync(join(dir, 'logs', 'stdout.log'), 'a');
  const child = spawn('java', javaArgs(libs, port, 'kafka.Kafka', [config]), {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('Could not start java');
  writeFileSync(join(dir, 'broker.pid'), `${pid}\n`);

  let exitCode = null;
  child.once('exit', (code) => {
    exitCode = code ?? -1;
  });
  const deadline = started + readyTimeoutMs;
  while (!(await answersMetadata(bootstrap))) {
    if (exitCode !== null) {
      rmSync(join(dir, 'broker.pid'), { force: true });
      throw new Error(`The Kafka broker exited with code ${exitCode}:\n${logTail(port)}`);
    }
    if (Date.now() > deadline) {
      await stopBroker({ port, log: () => undefined });
      throw new Error(
        `The Kafka broker did not answer within ${readyTimeoutMs} ms:\n${logTail(port)}`,
      );
    }
    await sleep(250);
  }
  return { bootstrap, pid, alreadyRunning: false, startupMs: Date.now() - started };
}

/**
 * Stops the broker on `port` if this script started one: SIGTERM, then SIGKILL after 30 s.
 * @returns {Promise<boolean>} whether a broker was running
 */
export async function stopBroker({ port = brokerPort(), log = console.log } = {}) {
  const pidFile = join(runDir(port), 'broker.pid');
  const pid = runningBrokerPid(port);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    return false;
  }
  log(`Stopping the Kafka broker on 127.0.0.1:${port} (pid ${pid})...`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      log(`The broker did not stop within ${stopTimeoutMs} ms; killing it.`);
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(100);
      break;
    }
    await sleep(100);
  }
  rmSync(pidFile, { force: true });
  return true;
}
