/**
 * End-to-end latency at a fixed rate: a producer stamps each record with its send time, the
 * consumer under test (in a child process) labels it, and a downstream consumer (read_committed)
 * reads the labelled record back; latency = read-back time − send time.
 */
import type { Kafka } from 'kafkajs';
import { quantile } from '../common/stats.js';
import type { ChildJob } from './child.js';
import type { MeterResult } from './meter.js';
import { runChild } from './run-child.js';
import { createTopics, produceAtRate, SentAtHeader, uniqueName } from './topics.js';

export interface LatencyResult {
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly sent: number;
  readonly received: number;
  /** Records measured (those sent after the warm-up). */
  readonly measured: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly consumer: MeterResult | undefined;
}

export interface LatencyRun {
  readonly kafka: Kafka;
  readonly partitions: number;
  readonly keys: readonly Buffer[];
  readonly values: readonly Buffer[];
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** The consumer under test, given its topics and group. */
  readonly job: (topics: {
    inputTopic: string;
    outputTopic: string;
    groupId: string;
  }) => Promise<ChildJob>;
  readonly cpuProfileDir?: string | undefined;
  readonly profileName?: string;
}

export async function measureLatency(run: LatencyRun): Promise<LatencyResult> {
  const inputTopic = uniqueName('bench-lat-in');
  const outputTopic = `${inputTopic}.out`;
  await createTopics(run.kafka, [
    { topic: inputTopic, partitions: run.partitions },
    { topic: outputTopic, partitions: run.partitions },
    { topic: `${inputTopic}.dlq`, partitions: 1 },
  ]);
  const latencies: number[] = [];
  let received = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  const downstream = run.kafka.consumer({
    groupId: uniqueName('bench-lat-down'),
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  await downstream.connect();
  await downstream.subscribe({ topics: [outputTopic], fromBeginning: true });
  await downstream.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        received++;
        const sentAt = Number(m.headers?.[SentAtHeader]?.toString());
        if (Number.isFinite(sentAt) && sentAt >= measureFrom) latencies.push(now - sentAt);
      }
      return Promise.resolve();
    },
  });

  const job = await run.job({ inputTopic, outputTopic, groupId: uniqueName('bench-lat-group') });
  const child = runChild(job, {
    cpuProfileDir: run.cpuProfileDir,
    profileName: run.profileName ?? 'latency',
    timeoutMs: (run.seconds + 180) * 1000,
  });
  let sent: number;
  let consumer: MeterResult | undefined;
  try {
    await Promise.race([child.ready, child.result]);
    measureFrom = Date.now() + run.warmupSeconds * 1000;
    sent = await produceAtRate(
      run.kafka,
      inputTopic,
      run.keys,
      run.values,
      run.ratePerSecond,
      run.seconds,
    );
    const deadline = Date.now() + 60_000;
    while (received < sent && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.stop();
    consumer = await child.result;
  } finally {
    await downstream.disconnect();
    child.stop();
    await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    child.kill();
  }
  const sorted = Float64Array.from(latencies).sort();
  return {
    ratePerSecond: run.ratePerSecond,
    seconds: run.seconds,
    sent,
    received,
    measured: sorted.length,
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    consumer,
  };
}
