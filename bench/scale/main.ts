/**
 * `npm run bench:scale [-- --quick]`: labelling with 1, 2 and 3 replicas of `dec-stream run`
 * (DEC_SCALE_OUT) sharing one model through the models topic, on the local broker.
 *
 * One input topic of 6 partitions holds the same tabular backlog for every run, and every replica
 * finds the same model, trained offline, in its model directory, so no replica bootstraps. Each
 * run is a fresh consumer group with its own (empty) models topic. The benchmark holds the
 * trainer's role in the group's election (role-holder.ts) until every replica has joined and holds
 * its partitions; then it lets go, a replica is elected and publishes its cached copy, and every
 * labeller starts at once. The window opens once every replica labels and closes when 95 % of the
 * backlog is committed; CPU is counted from the release until every replica is idle. Per run: records/s, each
 * replica's process CPU time, and which replica trains (it also reads and labels the whole input
 * for its refinement window, refinement itself being off). A single worker without scale-out is
 * measured alongside, for the cost of the trainer's second reading. In the last 3-replica run the
 * benchmark then publishes new versions while records arrive and times every replica's swap.
 *
 * Rounds run the four set-ups interleaved; each figure is the median over rounds. Writes
 * bench/results/scale.json.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { KafkaModelPublisher } from '../../src/kafka/kafka-model-publisher.js';
import { fetchTopicMessageLimit } from '../../src/kafka/topic-limits.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { benchArgs } from '../common/args.js';
import { printDocTable } from '../common/print.js';
import { resultFile, runFacts, writeResult } from '../common/results.js';
import { elapsedLog } from '../common/timing.js';
import { tabularRecords, type EncodedRecords } from '../throughput/datasets.js';
import { modelDirWith, tabularModel } from '../throughput/models.js';
import {
  benchKafka,
  createTopics,
  deleteTopics,
  loadTopic,
  produceAtRate,
  uniqueName,
} from '../throughput/topics.js';
import { workerEnv } from '../throughput/worker-phase.js';
import { spawnReplica, type Replica } from './replica.js';
import { summarise, type RunRecord } from './summary.js';
import { measureSwaps, type SwapLatency } from './swap-latency.js';
import { holdTrainerRole } from './role-holder.js';
import { measureWindow } from './throughput-window.js';

const args = benchArgs();
const quick = args.flag('--quick');
const settings = {
  quick,
  partitions: 6,
  records: Number(args.value('--records') ?? (quick ? 120_000 : 400_000)),
  rounds: Number(args.value('--rounds') ?? (quick ? 1 : 3)),
  swaps: Number(args.value('--swaps') ?? (quick ? 3 : 5)),
  dims: 16,
  clusters: 8,
  endFraction: 0.95,
  /** Records/s offered while the swaps are timed: well below what 3 replicas label. */
  swapTrickleRate: 2_000,
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
};
const replicaCounts = [1, 2, 3] as const;
/** `--logs DIR` keeps every replica's log lines there, one file per replica. */
const logDir = args.value('--logs');
const log = elapsedLog();

/** What every run shares: the backlog, the model and the topics. */
interface Bench {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly input: string;
  readonly data: EncodedRecords;
  readonly snapshot: ModelSnapshot;
  readonly topics: string[];
  /** Model directories of the replicas, removed at the end. */
  readonly dirs: string[];
}

async function setUp(kafka: Kafka): Promise<Bench> {
  const input = uniqueName('bench-scale');
  await createTopics(kafka, [
    { topic: input, partitions: settings.partitions },
    { topic: `${input}.dlq`, partitions: 1 },
  ]);
  const admin = kafka.admin();
  await admin.connect();
  const data = tabularRecords(settings.records, settings.dims, settings.clusters);
  const loadSeconds = await loadTopic(kafka, input, data.keys, data.values);
  log(
    `${settings.records} records on ${input} (${settings.partitions} partitions) in ${loadSeconds.toFixed(0)} s`,
  );
  const model = await tabularModel(settings.dims, settings.clusters);
  log(`model: ${model.description}`);
  return {
    kafka,
    admin,
    input,
    data,
    snapshot: model.snapshot,
    topics: [input, `${input}.dlq`],
    dirs: [],
  };
}

/** `count` replicas of one group; `scaleOut` false runs one plain worker with the model on disk. */
async function startReplicas(
  b: Bench,
  groupId: string,
  count: number,
  scaleOut: boolean,
): Promise<Replica[]> {
  const output = `${groupId}.out`;
  await createTopics(b.kafka, [{ topic: output, partitions: settings.partitions }]);
  b.topics.push(output, `${output}.clusters`, `${groupId}.control`, `${groupId}.models`);
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const modelDir = await modelDirWith(b.snapshot);
    b.dirs.push(modelDir);
    const env = workerEnv({
      brokers: settings.brokers,
      inputTopic: b.input,
      outputTopic: output,
      groupId,
      delivery: 'at-least-once',
      features: b.data.features,
      clusters: b.data.clusters,
      // Every replica has the model in its directory. Without scale-out the worker serves it;
      // with it, the models topic of the run is empty, so labellers wait until the trainer is
      // elected and publishes its cached copy: every replica starts labelling at once.
      modelDir,
      chunk: 1000,
    });
    replicas.push(
      spawnReplica(`${groupId}-${i}`, {
        ...env,
        DEC_LOG_LEVEL: 'info',
        ...(scaleOut ? { DEC_SCALE_OUT: 'true' } : {}),
      }),
    );
  }
  return replicas;
}

async function runOnce(
  b: Bench,
  round: number,
  replicas: number,
  scaleOut: boolean,
  measureSwapsToo: boolean,
): Promise<{ run: RunRecord; swaps: SwapLatency[] }> {
  const label = scaleOut ? `scale-out-${replicas}` : 'single';
  const groupId = `${b.input}-r${round}-${label}`;
  // Joined before the replicas start, so that none trains until all hold their partitions.
  const holder = scaleOut ? await holdTrainerRole(b.kafka, `${groupId}.control`) : undefined;
  const running = await startReplicas(b, groupId, replicas, scaleOut);
  try {
    const window = await measureWindow({
      admin: b.admin,
      groupId,
      topic: b.input,
      partitions: settings.partitions,
      total: settings.records,
      endFraction: settings.endFraction,
      replicas: running,
      ...(holder === undefined ? {} : { release: () => holder.release() }),
    });
    const run: RunRecord = {
      round,
      label,
      replicas,
      scaleOut,
      ...window,
    };
    log(
      `round ${round} ${label}: ${Math.round(window.recordsPerSecond)} records/s over ${window.windowSeconds.toFixed(1)} s, ` +
        `CPU s ${window.cpuSeconds.map((c) => c.toFixed(1)).join(' / ')} (to idle ` +
        `${window.drainCpuSeconds.map((c) => c.toFixed(1)).join(' / ')}; trainer #${window.trainerIndex}), ` +
        `load ${run.loadAverage.toFixed(2)}`,
    );
    const swaps = measureSwapsToo ? await timeSwaps(b, groupId, running) : [];
    return { run, swaps };
  } finally {
    await holder?.release();
    await Promise.all(running.map((r) => r.stop()));
    if (logDir !== undefined) await writeLogs(logDir, running);
  }
}

async function writeLogs(dir: string, replicas: readonly Replica[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const r of replicas) {
    await writeFile(join(dir, `${r.name}.log`), r.logs.map((l) => JSON.stringify(l)).join('\n'));
  }
}

/** A publisher of the run's models topic beside the trainer's (its own transactional id). */
async function benchPublisher(b: Bench, groupId: string): Promise<KafkaModelPublisher> {
  const topic = `${groupId}.models`;
  const publisher = new KafkaModelPublisher({
    kafka: b.kafka,
    topic,
    transactionalId: `${groupId}-bench-publisher`,
    maxMessageBytes: await fetchTopicMessageLimit(b.kafka, topic),
    keepVersions: 5,
    logger: silentLogger,
  });
  await publisher.start();
  return publisher;
}

/** New versions published while records arrive; each timed to every replica's swap. */
async function timeSwaps(
  b: Bench,
  groupId: string,
  replicas: readonly Replica[],
): Promise<SwapLatency[]> {
  const pauseMs = 2_000;
  const seconds = Math.ceil(((pauseMs + 2_000) * settings.swaps) / 1000) + 10;
  const trickle = produceAtRate(
    b.kafka,
    b.input,
    b.data.keys,
    b.data.values,
    settings.swapTrickleRate,
    seconds,
  );
  const publisher = await benchPublisher(b, groupId);
  try {
    const swaps = await measureSwaps({
      publisher,
      snapshot: b.snapshot,
      firstVersion: b.snapshot.version + 1,
      swaps: settings.swaps,
      replicas,
      pauseMs,
    });
    for (const s of swaps) {
      log(`version ${s.version}: every replica labelling with it after ${s.everyReplicaMs} ms`);
    }
    return swaps;
  } finally {
    await publisher.close();
    await trickle;
  }
}

async function main(): Promise<void> {
  const facts = runFacts();
  log(
    `load average at start ${facts.machine.loadAverageAtStart.join(' ')} on ${facts.machine.cores} cores`,
  );
  const kafka = benchKafka(settings.brokers, 'bench-scale');
  const b = await setUp(kafka);
  const runs: RunRecord[] = [];
  let swaps: SwapLatency[] = [];
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      runs.push((await runOnce(b, round, 1, false, false)).run);
      for (const n of replicaCounts) {
        const last = round === settings.rounds && n === 3;
        const result = await runOnce(b, round, n, true, last);
        runs.push(result.run);
        if (last) swaps = result.swaps;
      }
    }
  } finally {
    await b.admin.disconnect();
    await deleteTopics(kafka, b.topics);
    await Promise.all(b.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
  const result = { ...facts, settings, ...summarise(runs, swaps), loadAverageAtEnd: loadavg() };
  const file = writeResult(resultFile('scale'), result);
  log(`wrote ${file}`);
  printDocTable('scale', { scale: result });
}

await main();
