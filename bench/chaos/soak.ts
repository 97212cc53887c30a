/**
 * Soak: many records through one at-least-once worker whose output is lz4-compressed, sampling
 * its resident memory, live tensors and active handles from /metrics. Memory must stay within
 * 15 % of its median after warm-up, and tensors and handles must not grow.
 */
import type { Kafka } from 'kafkajs';
import { Feeder, WorkerProcess, chaosStream, sleep, waitUntil } from './rig.js';
import type { ScenarioResult } from './scenario.js';

interface Sample {
  readonly labelled: number;
  readonly rssMiB: number;
  readonly tensors: number;
  readonly handles: number;
}

async function sample(worker: WorkerProcess): Promise<Sample> {
  return {
    labelled: await worker.labelled(),
    rssMiB: (await worker.metric('process_resident_memory_bytes')) / 2 ** 20,
    tensors: await worker.metric('decstream_tensors'),
    handles: await worker.metric('nodejs_active_handles_total'),
  };
}

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function soakScenario(
  kafka: Kafka,
  bootstrap: string,
  records: number,
): Promise<ScenarioResult> {
  const stream = await chaosStream(kafka, bootstrap, 'soak', 2);
  const env = stream.env({
    DEC_DELIVERY: 'at-least-once',
    DEC_OUTPUT_COMPRESSION: 'lz4',
    DEC_BATCH_MAX_RECORDS: '500',
    DEC_REFINE_EVERY_RECORDS: '20000',
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const feeder = new Feeder(producer, stream.input, 1_000, 0, () => false, records);
  const worker = await WorkerProcess.start(env);
  const samples: Sample[] = [];
  const started = Date.now();
  try {
    await waitUntil(() => worker.inPhase('online'), 180_000, 'online');
    const online = Date.now();
    while ((samples[samples.length - 1]?.labelled ?? 0) < records) {
      if (!worker.running) throw new Error('the worker exited during the soak');
      await sleep(2_000);
      samples.push(await sample(worker));
      if (Date.now() - started > 40 * 60_000) throw new Error('the soak ran past 40 minutes');
    }
    const seconds = (Date.now() - online) / 1000;
    const warm = samples.filter((s) => s.labelled >= records / 10);
    const rssMedian = median(warm.map((s) => s.rssMiB));
    const maxDeviation = Math.max(...warm.map((s) => Math.abs(s.rssMiB / rssMedian - 1)));
    const first = warm[0] as Sample;
    const last = warm[warm.length - 1] as Sample;
    const tensorGrowth = Math.max(...warm.map((s) => s.tensors)) - first.tensors;
    const handleGrowth = last.handles - first.handles;
    const ended = await worker.stop();
    return {
      name: 'soak',
      passed: maxDeviation <= 0.15 && tensorGrowth === 0 && handleGrowth <= 2 && ended.code === 0,
      figures: {
        records: last.labelled,
        recordsPerSecond: Math.round(last.labelled / seconds),
        rssMedianMiB: Math.round(rssMedian),
        rssMaxDeviationPercent: Math.round(maxDeviation * 1000) / 10,
        tensorsAfterWarmup: first.tensors,
        tensorGrowth,
        handlesAfterWarmup: first.handles,
        handleGrowth,
        samples: warm.length,
        exit: ended.code ?? ended.signal ?? 'unknown',
      },
      notes: [
        'at-least-once, lz4 output, refinement every 20,000 records; samples of /metrics every 2 s ' +
          'after the first tenth of the records (warm-up); records/s from going online to the last ' +
          'record labelled, while the suite itself produces them on the same cores',
      ],
    };
  } finally {
    worker.kill('SIGKILL');
    await feeder.stop();
    await producer.disconnect();
    await stream.remove();
  }
}
