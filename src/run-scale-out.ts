/**
 * The scale-out half of the composition root (DEC_SCALE_OUT): the models topic's reader, the
 * trainer's election and, while this replica holds the role, the trainer itself: a StreamWorker
 * of its own on the input topic, in the group `<DEC_GROUP_ID>.trainer`, that bootstraps and
 * refines as a single replica would, writes no output, and publishes every version it serves.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from './config/config.js';
import type { RecordCodec } from './codec/record-codec.js';
import { KafkaModelFeed } from './kafka/kafka-model-feed.js';
import { KafkaModelPublisher } from './kafka/kafka-model-publisher.js';
import type { KafkaRecordStream } from './kafka/kafka-record-stream.js';
import { KafkaTrainerElection } from './kafka/kafka-trainer-election.js';
import { SamplingSink } from './kafka/sampling-sink.js';
import { fetchTopicMessageLimit } from './kafka/topic-limits.js';
import type { Logger } from './runtime/logger.js';
import type { ModelStore } from './store/model-store.js';
import type { WorkerObserver } from './worker/observer.js';
import type { ClusterProfileSink, ModelRefiner } from './worker/ports.js';
import { SharedModelStore } from './worker/scale-out/shared-model-store.js';
import { trainerObserver } from './worker/scale-out/trainer-observer.js';
import type { TrainerTerm } from './worker/scale-out/trainer-role.js';
import { TrainerRole } from './worker/scale-out/trainer-role.js';
import type { BootstrapTrainer, StreamWorkerSettings } from './worker/stream-worker.js';
import { StreamWorker } from './worker/stream-worker.js';

/** What the trainer is built from; the composition root supplies the factories. */
export interface TrainerKit {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly codec: RecordCodec;
  readonly feed: KafkaModelFeed;
  /** The local model directory, a cache of what the topic holds. */
  readonly cache: ModelStore;
  readonly train: BootstrapTrainer;
  readonly settings: StreamWorkerSettings;
  readonly observer: WorkerObserver;
  readonly log: Logger;
  createStream(groupId: string): KafkaRecordStream;
  createRefiner(observer: WorkerObserver): ModelRefiner | undefined;
  createProfiles(): Promise<ClusterProfileSink>;
  /** The trainer failed for good: the process fails, and Kubernetes restarts it. */
  onFailure(error: unknown): void;
}

/** The models topic, read whole from its start; `caughtUp` settles once it reached the end. */
export async function startModelFeed(
  kafka: Kafka,
  config: Config,
  observer: WorkerObserver,
  log: Logger,
): Promise<KafkaModelFeed> {
  const feed = new KafkaModelFeed({
    kafka,
    topic: config.stream.modelTopic,
    groupId: config.stream.groupId,
    logger: log.child({ component: 'model-feed' }),
    onSkip: (reason) => observer.modelVersionSkipped(reason),
  });
  try {
    await feed.start();
  } catch (error) {
    await feed.close().catch(() => undefined);
    throw error;
  }
  return feed;
}

/** The election, and the trainer it starts and stops. */
export function createTrainerRole(kit: TrainerKit): TrainerRole {
  const { stream } = kit.config;
  const election = new KafkaTrainerElection({
    kafka: kit.kafka,
    topic: stream.controlTopic,
    groupId: stream.controlTopic,
    logger: kit.log,
    sessionTimeoutMs: stream.sessionTimeoutMs,
    heartbeatIntervalMs: stream.heartbeatIntervalMs,
    rebalanceTimeoutMs: stream.rebalanceTimeoutMs,
    // A join settles within a heartbeat: a member that won acts once no rebalance followed it.
    stableMs: stream.heartbeatIntervalMs,
  });
  return new TrainerRole({
    election,
    startTerm: () => startTrainerTerm(kit),
    observer: kit.observer,
    log: kit.log,
    onFailure: (error) => kit.onFailure(error),
  });
}

/**
 * One term: take the models topic's transactional id (fencing the previous trainer), then run
 * the trainer's StreamWorker, which resumes from the newest version or bootstraps the first.
 */
async function startTrainerTerm(kit: TrainerKit): Promise<TrainerTerm> {
  const { config, kafka, feed } = kit;
  const log = kit.log.child({ role: 'trainer' });
  const publisher = new KafkaModelPublisher({
    kafka,
    topic: config.stream.modelTopic,
    transactionalId: `${config.stream.transactionalIdPrefix}-${config.stream.groupId}.models`,
    maxMessageBytes: await fetchTopicMessageLimit(kafka, config.stream.modelTopic),
    keepVersions: config.model.snapshotKeep,
    logger: log,
  });
  await publisher.start();
  await feed.caughtUp;
  publisher.remember(feed.liveManifests());
  const observer = trainerObserver(kit.observer);
  const stream = kit.createStream(`${config.stream.groupId}.trainer`);
  const refiner = kit.createRefiner(observer);
  const worker = new StreamWorker({
    stream,
    sink: new SamplingSink(stream.consumer),
    store: new SharedModelStore(feed, publisher, kit.cache, log),
    codec: kit.codec,
    train: kit.train,
    observer,
    logger: log,
    ...(refiner === undefined ? {} : { refiner }),
    profiles: await kit.createProfiles(),
    settings: kit.settings,
  });
  const close = async (): Promise<void> => {
    try {
      await worker.close();
    } finally {
      await publisher.close();
    }
  };
  try {
    await worker.start();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return {
    done: worker.done,
    get error() {
      return worker.error;
    },
    close,
  };
}
