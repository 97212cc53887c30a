/**
 * SIGKILLs at random moments of a worker's life, under exactly-once and at-least-once, and the
 * time from a restart after SIGKILL to the first labelled record.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import type { ScenarioResult } from './scenario.js';
import { Feeder, WorkerProcess, audit, chaosStream, sleep, waitUntil } from './rig.js';
import type { ChaosStream } from './rig.js';

export const KillMoments = ['bootstrap', 'training', 'online', 'refinement', 'shutdown'] as const;
export type KillMoment = (typeof KillMoments)[number];

/** A seeded uniform draw in [0, 1), so a run's kill times can be replayed. */
function drawer(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const minutes = (n: number): number => n * 60_000;

async function clearModelDir(dir: string): Promise<void> {
  for (const entry of await readdir(dir))
    await rm(join(dir, entry), { recursive: true, force: true });
}

/** Waits for `moment` in `worker`'s life, plus a random part of it; returns a description. */
async function reach(
  worker: WorkerProcess,
  moment: KillMoment,
  random: () => number,
): Promise<string> {
  const within = (ms: number): Promise<void> => sleep(Math.round(random() * ms));
  switch (moment) {
    case 'bootstrap':
      await waitUntil(() => worker.inPhase('bootstrapping'), minutes(2), 'bootstrapping');
      await within(1_500);
      return 'while collecting the bootstrap window';
    case 'training':
      await waitUntil(
        () => worker.logged((l) => l.msg === 'bootstrap training'),
        minutes(2),
        'bootstrap training',
      );
      await within(2_000);
      return worker.inPhase('online') ? 'just after training' : 'while training';
    case 'online':
      await waitUntil(() => worker.inPhase('online'), minutes(3), 'online');
      await sleep(500 + Math.round(random() * 2_500));
      return 'while labelling';
    case 'refinement':
      await waitUntil(() => worker.inPhase('online'), minutes(3), 'online');
      await waitUntil(
        async () => (await worker.metric('decstream_refine_duration_seconds_count')) >= 1,
        minutes(2),
        'a refinement',
      );
      await within(600);
      return 'while refining (every 300 records)';
    case 'shutdown':
      await waitUntil(() => worker.inPhase('online'), minutes(3), 'online');
      await sleep(500 + Math.round(random() * 1_500));
      worker.kill('SIGTERM');
      await within(400);
      return 'during the drain after SIGTERM';
  }
}

/**
 * SIGTERM (or SIGINT) at each moment, once followed by a second signal 100 ms later: the worker
 * must drain and exit 0 every time, and exactly-once output must stay exact across the restarts.
 */
export async function signalScenario(
  kafka: Kafka,
  bootstrap: string,
  moments: readonly KillMoment[],
  seed: number,
): Promise<ScenarioResult> {
  const stream = await chaosStream(kafka, bootstrap, 'signals');
  const env = stream.env({ DEC_DELIVERY: 'exactly-once', DEC_REFINE_EVERY_RECORDS: '300' });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const feeder = new Feeder(producer, stream.input, 10, 25);
  const random = drawer(seed);
  const exits: string[] = [];
  let clean = 0;
  const started = Date.now();
  try {
    for (const [n, moment] of moments.filter((m) => m !== 'shutdown').entries()) {
      if (moment === 'bootstrap' || moment === 'training') await clearModelDir(stream.modelDir);
      const worker = await WorkerProcess.start(env);
      const signal: NodeJS.Signals = n % 2 === 0 ? 'SIGTERM' : 'SIGINT';
      await reach(worker, moment, random);
      worker.kill(signal);
      const twice = n % 3 === 2;
      if (twice) {
        await sleep(100);
        worker.kill(signal === 'SIGTERM' ? 'SIGINT' : 'SIGTERM');
      }
      const ended = await worker.ended;
      if (ended.code === 0) clean += 1;
      exits.push(
        `${moment} ${signal}${twice ? ' twice' : ''}: ${ended.code ?? ended.signal ?? '?'}`,
      );
    }
    const last = await WorkerProcess.start(env);
    await waitUntil(() => last.inPhase('online'), minutes(3), 'the last worker online');
    await sleep(2_000);
    const produced = await feeder.stop();
    const result = await audit(kafka, stream, produced);
    const ended = await last.stop();
    return {
      name: 'signals',
      passed:
        clean === exits.length && result.lost === 0 && result.duplicated === 0 && ended.code === 0,
      figures: {
        signals: exits.length,
        exitedZero: clean,
        records: result.input,
        lost: result.lost,
        duplicated: result.duplicated,
        seconds: Math.round((Date.now() - started) / 1000),
      },
      notes: [`exactly-once; exit codes: ${exits.join('; ')}`],
    };
  } finally {
    await feeder.stop();
    await producer.disconnect();
    await stream.remove();
  }
}

export interface KillOptions {
  readonly delivery: 'exactly-once' | 'at-least-once';
  readonly moments: readonly KillMoment[];
  readonly seed: number;
}

/** Kills a worker once per moment, restarting it each time, while a feeder keeps producing. */
export async function killScenario(
  kafka: Kafka,
  bootstrap: string,
  options: KillOptions,
): Promise<ScenarioResult> {
  const stream = await chaosStream(kafka, bootstrap, `kill-${options.delivery}`);
  const env = stream.env({ DEC_DELIVERY: options.delivery, DEC_REFINE_EVERY_RECORDS: '300' });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const feeder = new Feeder(producer, stream.input, 10, 25);
  const random = drawer(options.seed);
  const kills: string[] = [];
  const started = Date.now();
  try {
    for (const moment of options.moments) {
      if (moment === 'bootstrap' || moment === 'training') await clearModelDir(stream.modelDir);
      const worker = await WorkerProcess.start(env);
      try {
        const when = await reach(worker, moment, random);
        worker.kill('SIGKILL');
        kills.push(`${moment}: ${when}`);
      } finally {
        worker.kill('SIGKILL');
        await worker.ended;
      }
    }
    return await finish(kafka, stream, env, feeder, options, kills, started);
  } finally {
    await feeder.stop();
    await producer.disconnect();
    await stream.remove();
  }
}

/** A last worker labels what is left and stops by SIGTERM; then the output is audited. */
async function finish(
  kafka: Kafka,
  stream: ChaosStream,
  env: Record<string, string>,
  feeder: Feeder,
  options: KillOptions,
  kills: readonly string[],
  started: number,
): Promise<ScenarioResult> {
  const last = await WorkerProcess.start(env);
  await waitUntil(() => last.inPhase('online'), minutes(3), 'the last worker online');
  await sleep(2_000);
  const produced = await feeder.stop();
  const result = await audit(kafka, stream, produced);
  const ended = await last.stop();
  const exactlyOnce = options.delivery === 'exactly-once';
  const passed = result.lost === 0 && (!exactlyOnce || result.duplicated === 0) && ended.code === 0;
  return {
    name: `sigkill-${options.delivery}`,
    passed,
    figures: {
      kills: kills.length,
      records: result.input,
      lost: result.lost,
      duplicated: result.duplicated,
      lastWorkerExit: ended.code ?? ended.signal ?? 'unknown',
      seconds: Math.round((Date.now() - started) / 1000),
    },
    notes: [
      `${options.delivery}, 2 partitions, a read_committed reader; kill moments: ${kills.join('; ')}`,
      ...(exactlyOnce ? [] : ['at-least-once: duplicates are expected and counted, not failed']),
    ],
  };
}

/** One restart after SIGKILL: seconds from the new process's start to its first label. */
async function restartOnce(env: Record<string, string>, signal: NodeJS.Signals): Promise<number> {
  const first = await WorkerProcess.start(env);
  await waitUntil(() => first.inPhase('online'), minutes(3), 'online');
  await waitUntil(async () => (await first.labelled()) > 0, minutes(1), 'labelling');
  await sleep(1_000);
  first.kill(signal);
  if (signal !== 'SIGKILL') await first.ended;
  const second = await WorkerProcess.start(env);
  try {
    await waitUntil(
      async () => (await second.labelled()) > 0,
      minutes(2),
      'the restarted worker labelling',
    );
    return (Date.now() - second.spawnedAt) / 1000;
  } finally {
    first.kill('SIGKILL');
    await first.ended;
    await second.stop();
  }
}

/**
 * Restart-to-first-label: SIGKILL leaves the dead member in the group until its session times
 * out, so the new process waits for that; a SIGTERM'd member leaves the group on its way out.
 */
export async function restartScenario(
  kafka: Kafka,
  bootstrap: string,
  sessionTimeoutsMs: readonly number[],
): Promise<ScenarioResult> {
  const figures: Record<string, number | string> = {};
  const notes: string[] = [];
  let passed = true;
  for (const sessionMs of sessionTimeoutsMs) {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const stream = await chaosStream(kafka, bootstrap, 'restart');
      const heartbeatMs = Math.max(1_000, Math.floor(sessionMs / 5));
      const env = stream.env({
        DEC_DELIVERY: 'exactly-once',
        DEC_SESSION_TIMEOUT_MS: String(sessionMs),
        DEC_HEARTBEAT_INTERVAL_MS: String(heartbeatMs),
      });
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const feeder = new Feeder(producer, stream.input, 10, 25);
      try {
        const firstLabelS = await restartOnce(env, signal);
        figures[`${signal.toLowerCase()}Session${sessionMs / 1000}sFirstLabelS`] =
          Math.round(firstLabelS * 10) / 10;
      } catch (error) {
        passed = false;
        notes.push(`${signal}, session ${sessionMs} ms: ${String(error)}`);
      } finally {
        await feeder.stop();
        await producer.disconnect();
        await stream.remove();
      }
    }
  }
  notes.push(
    'Seconds from spawning the new process (which loads its snapshot) to its first labelled record, ' +
      "while records keep arriving. After SIGKILL the group waits for the dead member's session to " +
      'time out; after SIGTERM the old member left the group on its way out.',
  );
  return { name: 'restart-to-first-label', passed, figures, notes };
}
