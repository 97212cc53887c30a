/**
 * Broker outages under exactly-once: the broker frozen (SIGSTOP) for longer than the session
 * timeout, then stopped and restarted on its own storage. The worker must recover by itself,
 * lose nothing, duplicate nothing, and say so on /readyz while it cannot work.
 */
import type { Kafka } from 'kafkajs';
import type { ChaosBroker } from './rig.js';
import { Feeder, WorkerProcess, audit, chaosStream, sleep, waitUntil } from './rig.js';
import type { ScenarioResult } from './scenario.js';

/** Samples /readyz every 250 ms; answers whether it was ever not ready inside a time window. */
class ReadinessLog {
  private readonly samples: { at: number; ready: boolean | undefined }[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly worker: WorkerProcess) {
    this.loop = this.sample();
  }

  private async sample(): Promise<void> {
    while (!this.stopped) {
      this.samples.push({ at: Date.now(), ready: await this.worker.ready() });
      await sleep(250);
    }
  }

  notReadyBetween(from: number, to: number): boolean {
    return this.samples.some((s) => s.at >= from && s.at <= to && s.ready !== true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** Waits until `worker` has labelled more than `before` records; milliseconds it took. */
async function labelsAgain(worker: WorkerProcess, before: number): Promise<number> {
  return waitUntil(async () => (await worker.labelled()) > before, 180_000, 'labelling again');
}

/** Milliseconds from `since` until /readyz answers 200 again. */
async function readyAgain(worker: WorkerProcess, since: number): Promise<number> {
  await waitUntil(async () => (await worker.ready()) === true, 180_000, 'ready again');
  return Date.now() - since;
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

export async function outageScenario(
  kafka: Kafka,
  broker: ChaosBroker,
  pauseMs: number,
): Promise<ScenarioResult> {
  const sessionMs = 6_000;
  const stream = await chaosStream(kafka, broker.bootstrap, 'outage');
  const env = stream.env({
    DEC_DELIVERY: 'exactly-once',
    DEC_SESSION_TIMEOUT_MS: String(sessionMs),
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let brokerDown = false;
  const feeder = new Feeder(producer, stream.input, 10, 25, () => brokerDown);
  const worker = await WorkerProcess.start(env);
  const readiness = new ReadinessLog(worker);
  const figures: Record<string, number | string> = {};
  try {
    await waitUntil(() => worker.inPhase('online'), 180_000, 'online');
    await waitUntil(async () => (await worker.labelled()) > 0, 60_000, 'labelling');

    // 1. Frozen broker: sockets stay open, nothing answers.
    brokerDown = true;
    const pausedAt = Date.now();
    broker.pause();
    await sleep(pauseMs);
    broker.resume();
    const resumedAt = Date.now();
    brokerDown = false;
    figures.pauseS = pauseMs / 1000;
    figures.pauseNotReadySeen = readiness.notReadyBetween(pausedAt, resumedAt + 5_000)
      ? 'yes'
      : 'no';
    figures.pauseLabelAgainS = seconds(await labelsAgain(worker, await worker.labelled()));
    figures.pauseReadyAgainS = seconds(await readyAgain(worker, resumedAt));

    // 2. Stopped and restarted broker, on the same storage.
    await sleep(3_000);
    brokerDown = true;
    const stoppedAt = Date.now();
    await broker.stop();
    await sleep(5_000);
    await broker.start(true);
    const restartedAt = Date.now();
    brokerDown = false;
    figures.restartDownS = Math.round((restartedAt - stoppedAt) / 100) / 10;
    figures.restartNotReadySeen = readiness.notReadyBetween(stoppedAt, restartedAt + 5_000)
      ? 'yes'
      : 'no';
    figures.restartLabelAgainS = seconds(await labelsAgain(worker, await worker.labelled()));
    figures.restartReadyAgainS = seconds(await readyAgain(worker, restartedAt));

    await sleep(2_000);
    const produced = await feeder.stop();
    const result = await audit(kafka, stream, produced);
    figures.records = result.input;
    figures.lost = result.lost;
    figures.duplicated = result.duplicated;
    figures.workerStayedUp = worker.running ? 'yes' : 'no';
    const ended = await worker.stop();
    figures.workerExit = ended.code ?? ended.signal ?? 'unknown';
    const passed =
      result.lost === 0 &&
      result.duplicated === 0 &&
      figures.workerStayedUp === 'yes' &&
      ended.code === 0 &&
      figures.pauseNotReadySeen === 'yes' &&
      figures.restartNotReadySeen === 'yes';
    return {
      name: 'broker-outage',
      passed,
      figures,
      notes: [
        `exactly-once, 2 partitions, session timeout ${sessionMs / 1000} s; the broker frozen by ` +
          `SIGSTOP for ${pauseMs / 1000} s, then stopped (SIGTERM) and restarted on its storage`,
        'NotReadySeen: /readyz answered not ready at least once during the outage (polled every 250 ms)',
      ],
    };
  } finally {
    brokerDown = false;
    await readiness.stop();
    worker.kill('SIGKILL');
    await feeder.stop();
    await producer.disconnect().catch(() => undefined);
    await stream.remove();
  }
}
