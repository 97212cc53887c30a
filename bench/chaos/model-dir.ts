/**
 * A model directory that cannot be written: read-only, or full. The bootstrap's snapshot write
 * fails; the worker must say so (a metric and an error line) and label with the model it has.
 * Needs tmpfs mounts, so it runs where the suite may mount (root in a container that allows it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { Feeder, WorkerProcess, audit, chaosStream, sleep, waitUntil } from './rig.js';
import type { ScenarioResult } from './scenario.js';

const Conditions = ['read-only', 'full'] as const;
type Condition = (typeof Conditions)[number];

function run(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** A 1 MiB tmpfs made read-only, or filled to its last byte. */
async function unwritableDir(condition: Condition): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'dec-chaos-modeldir-'));
  if (!run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])) {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  if (condition === 'read-only') {
    run('mount', ['-o', 'remount,ro', dir]);
  } else {
    // tmpfs rounds to pages: fill it with one file as large as it accepts.
    await writeFile(join(dir, 'filler'), Buffer.alloc(1 << 20)).catch(() => undefined);
  }
  return dir;
}

async function release(dir: string): Promise<void> {
  run('umount', [dir]);
  await rm(dir, { recursive: true, force: true });
}

async function oneCondition(
  kafka: Kafka,
  bootstrap: string,
  condition: Condition,
  figures: Record<string, number | string>,
): Promise<boolean | undefined> {
  const modelDir = await unwritableDir(condition);
  if (modelDir === undefined) return undefined;
  const stream = await chaosStream(kafka, bootstrap, `modeldir-${condition}`);
  const env = stream.env({ DEC_DELIVERY: 'at-least-once', DEC_MODEL_DIR: modelDir });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const feeder = new Feeder(producer, stream.input, 10, 25);
  const worker = await WorkerProcess.start(env);
  const key = condition === 'read-only' ? 'readOnly' : 'full';
  try {
    await waitUntil(() => worker.inPhase('online') || !worker.running, 180_000, 'online');
    const failed = await worker.metric('decstream_snapshot_writes_total', 'result="failed"');
    const line = worker.logs.find(
      (l) => l.msg === 'model snapshot write failed; labelling goes on with the serving version',
    );
    const before = await worker.labelled();
    await sleep(3_000);
    const after = await worker.labelled();
    const produced = await feeder.stop();
    const result = await audit(kafka, stream, produced);
    const ended = await worker.stop();
    const error = (line?.error as { code?: string } | undefined)?.code ?? 'none';
    figures[`${key}FailedWrites`] = failed;
    figures[`${key}ErrorCode`] = error;
    figures[`${key}LabelledAfterFailure`] = after - before;
    figures[`${key}Lost`] = result.lost;
    figures[`${key}Exit`] = ended.code ?? ended.signal ?? 'unknown';
    return (
      failed >= 1 && line !== undefined && after > before && result.lost === 0 && ended.code === 0
    );
  } finally {
    worker.kill('SIGKILL');
    await worker.ended;
    await feeder.stop();
    await producer.disconnect();
    await stream.remove();
    await release(modelDir);
  }
}

export async function modelDirScenario(kafka: Kafka, bootstrap: string): Promise<ScenarioResult> {
  const figures: Record<string, number | string> = {};
  const outcomes: (boolean | undefined)[] = [];
  for (const condition of Conditions)
    outcomes.push(await oneCondition(kafka, bootstrap, condition, figures));
  if (outcomes.some((o) => o === undefined)) {
    return {
      name: 'model-dir-unwritable',
      passed: false,
      skipped: true,
      figures,
      notes: ['skipped: this machine does not let the suite mount a tmpfs (it needs root)'],
    };
  }
  return {
    name: 'model-dir-unwritable',
    passed: outcomes.every((o) => o === true),
    figures,
    notes: [
      'at-least-once; the bootstrap snapshot write fails on a read-only and on a full 1 MiB tmpfs; ' +
        'FailedWrites is decstream_snapshot_writes_total{result="failed"}, ErrorCode the logged cause, ' +
        'LabelledAfterFailure the records labelled in the 3 s after it',
    ],
  };
}
