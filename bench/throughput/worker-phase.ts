/**
 * dec-stream itself, in this process, through the same composition root as `dec-stream run`
 * (config → kafkajs adapters, Prometheus observer, stream worker), with a trained snapshot in
 * DEC_MODEL_DIR so it starts online, and refinement off so only labelling is measured.
 */
import { loadConfig } from '../../src/config/load-config.js';
import { startWorker } from '../../src/run-worker.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { WorkerObserver } from '../../src/worker/observer.js';
import { silentObserver } from '../../src/worker/observer.js';
import type { Meter } from './meter.js';
import type { Running } from './pass-through.js';
import { fetchBytesPerPartition } from './settings.js';

export interface WorkerJob {
  readonly brokers: readonly string[];
  readonly inputTopic: string;
  readonly outputTopic: string;
  readonly groupId: string;
  readonly delivery: 'at-least-once' | 'exactly-once';
  readonly features: string;
  readonly clusters: number;
  readonly modelDir: string;
  readonly chunk: number;
  /** DEC_OUTPUT_DETAIL; default basic. */
  readonly outputDetail?: 'basic' | 'full';
}

export function workerEnv(job: WorkerJob): Record<string, string> {
  return {
    KAFKA_BROKERS: job.brokers.join(','),
    KAFKA_CLIENT_ID: 'bench-worker',
    DEC_INPUT_TOPIC: job.inputTopic,
    DEC_OUTPUT_TOPIC: job.outputTopic,
    DEC_DLQ_TOPIC: `${job.inputTopic}.dlq`,
    DEC_GROUP_ID: job.groupId,
    DEC_FEATURES: job.features,
    DEC_CLUSTERS: String(job.clusters),
    DEC_MODEL_DIR: job.modelDir,
    DEC_DELIVERY: job.delivery,
    DEC_TRANSACTIONAL_ID_PREFIX: job.groupId,
    DEC_BATCH_MAX_RECORDS: String(job.chunk),
    DEC_FETCH_MAX_BYTES_PER_PARTITION: String(fetchBytesPerPartition()),
    DEC_BACKEND: 'wasm',
    DEC_REFINE_EVERY_RECORDS: '0',
    DEC_METRICS_PORT: '0',
    DEC_LOG_LEVEL: 'warn',
    DEC_OUTPUT_DETAIL: job.outputDetail ?? 'basic',
    // auto (the default) labels on a worker thread with two or more CPUs; BENCH_LABEL_THREAD=off
    // measures labelling on the main thread.
    DEC_LABEL_THREAD: process.env.BENCH_LABEL_THREAD ?? 'auto',
    // Likewise the producers: BENCH_PUBLISH_THREAD=off produces on the main thread.
    DEC_PUBLISH_THREAD: process.env.BENCH_PUBLISH_THREAD ?? 'auto',
    // The main thread's heap headroom (MiB) before a full collection; BENCH_HEAP_HEADROOM=0 leaves
    // collections to V8 alone.
    ...(process.env.BENCH_HEAP_HEADROOM === undefined
      ? {}
      : { DEC_HEAP_HEADROOM_MIB: process.env.BENCH_HEAP_HEADROOM }),
  };
}

export async function workerLabelling(job: WorkerJob, meter: Meter): Promise<Running> {
  const config = loadConfig(workerEnv(job));
  const counting: WorkerObserver = {
    ...silentObserver,
    recordsConsumed: () => meter.start(),
    recordsProcessed: (_outcome, count) => meter.add(count),
  };
  const running = await startWorker(config, {
    logger: createLogger({
      level: 'warn',
      write: (line) => {
        // kafkajs retries a transaction request the broker answers CONCURRENT_TRANSACTIONS to
        // (the previous commit's markers are still being written) after its retry back-off.
        if (line.includes('concurrent operation on the same transaction')) {
          if (line.includes('"namespace":"Connection"')) meter.note('concurrentTransactionRetries');
          return;
        }
        process.stdout.write(`${line}\n`);
      },
    }),
    observer: counting,
    http: false,
  });
  void running.worker.done.then((phase) => {
    if (phase === 'failed') {
      process.stderr.write(`worker failed: ${String(running.worker.error)}\n`);
      process.exitCode = 1;
      meter.finish();
    }
  });
  return { close: () => running.close() };
}
