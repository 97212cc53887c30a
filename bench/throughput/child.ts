/**
 * One measured consumer in its own process, so that CPU time and RSS belong to it alone. Started by
 * run-child.ts with a job as JSON in argv[2]; talks over the IPC channel:
 *   → { type: 'ready' }     the client runs (group joined)
 *   → { type: 'started' }   the first record was read
 *   → { type: 'result', result }
 *   ← { type: 'stop' }      finish now (jobs with expected = 0)
 */
import type { MeterResult } from './meter.js';
import { Meter } from './meter.js';
import type { PassThroughJob, Running } from './pass-through.js';
import { kafkajsPassThrough, platformaticPassThrough } from './pass-through.js';
import type { WorkerJob } from './worker-phase.js';
import { workerLabelling } from './worker-phase.js';

export type ChildJob =
  | (PassThroughJob & {
      readonly kind: 'pass-kafkajs' | 'pass-platformatic';
      readonly expected: number;
      readonly sampleEvery?: number;
    })
  | (WorkerJob & {
      readonly kind: 'worker';
      readonly expected: number;
      readonly sampleEvery?: number;
    });

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'started' }
  | { readonly type: 'result'; readonly result: MeterResult };

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
  const meter = new Meter(job.expected, job.sampleEvery ?? 0, () => send({ type: 'started' }));
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') meter.finish();
  });
  let running: Running;
  switch (job.kind) {
    case 'pass-kafkajs':
      running = await kafkajsPassThrough(job, meter);
      break;
    case 'pass-platformatic':
      running = await platformaticPassThrough(job, meter);
      break;
    case 'worker':
      running = await workerLabelling(job, meter);
      break;
  }
  send({ type: 'ready' });
  const result = await meter.done;
  send({ type: 'result', result });
  await running.close();
  process.disconnect?.();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
