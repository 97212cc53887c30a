/**
 * The composition root of `dec-stream run`: configuration → kafkajs, the model store, the codec,
 * Prometheus metrics and the HTTP server → the stream worker, plus signal handling.
 */
import { readFile } from 'node:fs/promises';
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from './config/config.js';
import { loadConfig } from './config/load-config.js';
import { redactConfig } from './config/redact-config.js';
import { ConfluentAvroCodec } from './codec/confluent-avro-codec.js';
import { digitAugmentation } from './model/augment.js';
import { createRecordCodec } from './codec/create-record-codec.js';
import type { RecordCodec } from './codec/record-codec.js';
import { ConfigError, DecStreamError, KafkaAccessError, StartAbortedError } from './errors.js';
import { ShutdownSignals } from './shutdown-signals.js';
import { checkBrokerCertificates } from './kafka/broker-certificates.js';
import { createKafka, kafkaAccessError } from './kafka/client.js';
import { KafkaRecordStream } from './kafka/kafka-record-stream.js';
import { AtLeastOnceSink, DefaultMaxRequestBytes, ExactlyOnceSink } from './kafka/output-sink.js';
import { publisherSettings, ThreadSink } from './kafka/publish/thread-sink.js';
import { fetchTopicMessageLimits, recordLimitsOf } from './kafka/topic-limits.js';
import { ensureOutputTopics } from './kafka/topics.js';
import { KafkaClusterProfileSink } from './kafka/cluster-profile-publisher.js';
import { clusterProfileEncoder } from './codec/cluster-profile-codec.js';
import type { RecordLimits } from './worker/record-limits.js';
import { createPrometheusObserver } from './metrics/prometheus-observer.js';
import { initBackend, liveTensorCount } from './model/backend.js';
import { defaultRefinementSettings } from './online/refinement-engine.js';
import { defaultRefinementBounds } from './online/refinement-policy.js';
import { clusterCountTable, describeClusterCountRule } from './model/suggest-clusters.js';
import { threadedKmeans } from './model/threaded-kmeans.js';
import { trainWithClusterChoice } from './model/train-with-cluster-choice.js';
import type { ClusterChoiceOptions } from './model/train-with-cluster-choice.js';
import { HttpSchemaRegistry } from './registry/schema-registry-client.js';
import type { HttpServerHandle, HttpServerOptions } from './server/http-server.js';
import { startHttpServer } from './server/http-server.js';
import { FsModelStore } from './store/fs-model-store.js';
import type { Logger } from './runtime/logger.js';
import { createLogger } from './runtime/logger.js';
import { HeapTrimmer } from './runtime/heap-trimmer.js';
import type { CodecDescription } from './worker/labeller/codec-description.js';
import { InProcessLabeller } from './worker/labeller/in-process-labeller.js';
import { ThreadLabeller, threadWorthwhile } from './worker/labeller/thread-labeller.js';
import type { HealthSource, WorkerObserver } from './worker/observer.js';
import type { KafkaModelFeed } from './kafka/kafka-model-feed.js';
import type { TrainerKit } from './run-scale-out.js';
import { createTrainerRole, startModelFeed } from './run-scale-out.js';
import type { TrainerRole } from './worker/scale-out/trainer-role.js';
import { Phase, silentObserver } from './worker/observer.js';
import type { ClusterProfileSink, Labeller, ModelRefiner, OutputSink } from './worker/ports.js';
import type { RefinerOptions } from './worker/refiner/refiner.js';
import { Refiner } from './worker/refiner/refiner.js';
import type { BootstrapTrainer, StreamWorkerSettings } from './worker/stream-worker.js';
import { StreamWorker } from './worker/stream-worker.js';

/** Optional parts a caller (demo, benchmark, tests) can add to the real adapters. */
export interface WorkerParts {
  readonly logger?: Logger;
  /** Extra observer beside the Prometheus one (e.g. a terminal view). */
  readonly observer?: WorkerObserver;
  /**
   * Replaces the refinement built from config.refine (the mini-batch refinement thread, on when
   * DEC_REFINE_EVERY_RECORDS or DEC_REBOOTSTRAP_PSI_THRESHOLD is above 0); null turns it off.
   */
  readonly refiner?: ModelRefiner | null;
  /** Serve /metrics, /healthz and /readyz on config.metricsPort (default true). */
  readonly http?: boolean;
  /**
   * Stops start-up: checked between its steps; once aborted, startWorker closes what it opened
   * and rejects with StartAbortedError. It has no effect once startWorker has returned.
   */
  readonly signal?: AbortSignal;
}

export interface RunningWorker {
  readonly worker: StreamWorker;
  /** The HTTP port, when the server runs. */
  readonly httpPort: number | undefined;
  /** Drains the worker, then closes the HTTP server; idempotent. */
  close(): Promise<void>;
}

type ObserverMethods = Record<string, ((...args: unknown[]) => void) | undefined>;

/** Fans every observer call out to several observers; one that throws does not stop the others. */
function fanOut(observers: readonly WorkerObserver[]): WorkerObserver {
  const fanned: ObserverMethods = {};
  for (const name of Object.keys(silentObserver)) {
    fanned[name] = (...args: unknown[]): void => {
      for (const observer of observers) {
        try {
          // Called on the observer itself, so methods that use `this` keep it.
          (observer as unknown as ObserverMethods)[name]?.(...args);
        } catch {
          // Metrics never stop the worker.
        }
      }
    };
  }
  return fanned as unknown as WorkerObserver;
}

function trainOptions(config: Config): ClusterChoiceOptions {
  const m = config.model;
  return {
    clusters: m.clusters,
    ...(m.clusterRange === undefined ? {} : { clusterRange: m.clusterRange }),
    seed: m.seed,
    ...(m.method === undefined ? {} : { method: m.method }),
    initialisation: m.initialisation,
    guard: m.guard,
    embeddingSize: m.embeddingSize,
    batchSize: m.batchSize,
    backend: m.backend,
    scaling: m.scaling,
    columnScreening: m.columnScreening,
    ...(m.augmentImage === undefined
      ? {}
      : { imageAugmentation: digitAugmentation(m.augmentImage.width, m.augmentImage.height) }),
    ...(m.hiddenSizes === undefined ? {} : { hiddenSizes: m.hiddenSizes }),
    ...(m.pretrainEpochs === undefined ? {} : { pretrainEpochs: m.pretrainEpochs }),
    ...(m.updateInterval === undefined ? {} : { updateInterval: m.updateInterval }),
    ...(m.maxIterations === undefined ? {} : { maxIterations: m.maxIterations }),
  };
}

/** Stops start-up between two of its steps once the caller's signal is aborted. */
type Checkpoint = (step: string) => void;

/** For steps between which nothing has been opened that the caller must close. */
function startupCheckpoint(signal: AbortSignal | undefined, log: Logger): Checkpoint {
  return (step) => {
    if (signal?.aborted !== true) return;
    log.info('start-up stopped', { before: step });
    throw new StartAbortedError();
  };
}

/**
 * The Refiner's options from the resolved Config: the DEC_REFINE_* settings, the re-bootstrap
 * policy (DEC_REBOOTSTRAP_*) and the tensor backend of the refinement thread.
 */
function refinerOptionsFromConfig(config: Config): RefinerOptions {
  const refine = config.refine;
  return {
    everyRecords: refine.everyRecords,
    intervalMs: refine.intervalMs,
    windowRecords: refine.window,
    halfLifeRecords: refine.halfLifeRecords,
    backend: config.model.backend,
    settings: {
      ...defaultRefinementSettings,
      learningRate: refine.learningRate,
      encoderLearningRate: refine.encoderLearningRate,
      updateEncoder: refine.updateEncoder,
      batchSize: config.model.batchSize,
      minClusterShare: refine.minClusterShare,
      seed: config.model.seed,
      bounds: {
        ...defaultRefinementBounds,
        ...(refine.maxLoss === undefined ? {} : { maxLoss: refine.maxLoss }),
        ...(refine.maxCentroidShift === undefined
          ? {}
          : { maxCentroidShift: refine.maxCentroidShift }),
      },
    },
    ...(refine.rebootstrapPsiThreshold > 0
      ? {
          rebootstrap: {
            psiThreshold: refine.rebootstrapPsiThreshold,
            sustainMs: refine.rebootstrapAfterMs,
          },
        }
      : {}),
    ...(refine.retrainEveryRecords > 0 || refine.rebootstrapPsiThreshold > 0
      ? {
          retrain: {
            everyRecords: refine.retrainEveryRecords,
            sampleRecords: refine.retrainSampleRecords,
            sampleHalfLifeRecords: refine.retrainSampleHalfLifeRecords,
            holdoutRecords: refine.retrainHoldoutRecords,
            promotionMargin: refine.retrainPromotionMargin,
            relabelCharge: refine.retrainRelabelCharge,
            maxReassignedShare: refine.retrainMaxRelabel,
            start: refine.retrainStart,
          },
        }
      : {}),
  };
}

/**
 * Builds the real adapters from `config` and starts the worker (joins the group, begins work).
 * With `parts.signal` aborted, start-up stops between two steps, closes what it opened and
 * rejects with StartAbortedError.
 */
export async function startWorker(config: Config, parts: WorkerParts = {}): Promise<RunningWorker> {
  const log = parts.logger ?? createLogger({ level: config.logLevel });
  const checkpoint = startupCheckpoint(parts.signal, log);
  log.info('starting', { config: redactConfig(config) });
  checkpoint('creating the output topics');
  await checkBrokerCertificates(config.kafka);
  const kafka = createKafka(config.kafka, log.child({ component: 'kafka' }));
  const recordLimits = await prepareOutputTopics(kafka, config, log, checkpoint);
  checkpoint('building the codec');
  const { codec, avroSchema } = await buildCodec(config);
  // Scale-out: the trainer publishes the profiles of the versions every replica serves.
  const profiles = config.stream.scaleOut ? undefined : await clusterProfileSink(config, kafka);
  checkpoint('loading the tensor backend');
  const store = modelStore(config, log);
  await loadBackend(config, log);
  checkpoint('starting the labeller');

  const stream = createRecordStream(kafka, config, log);
  const metrics = createPrometheusObserver({ tensorCount: liveTensorCount });
  const observer = fanOut(
    parts.observer === undefined ? [metrics.observer] : [metrics.observer, parts.observer],
  );
  const { worker, labeller, sink, feed, role } = await buildWorker({
    kafka,
    config,
    parts,
    log,
    checkpoint,
    codec,
    codecDescription: describeCodec(config, avroSchema, codec),
    stream,
    store,
    observer,
    recordLimits,
    profiles,
  });
  metrics.observer.readFrom(() => worker.isReady());
  const health = healthOf(worker, role);
  const server = await serveHttp(config, parts, metrics.registry, health, checkpoint, async () => {
    // The worker never started: only the labelling and publishing threads hold anything open.
    await labeller.close();
    await sink.close();
    await feed?.close();
  });
  if (server !== undefined) log.info('http server listening', { port: server.port });
  const trimmer = startHeapTrimmer(config, log);
  // Between fetches the last one's records are garbage and no thread waits on this one.
  if (trimmer !== undefined) stream.onFetchStart(() => trimmer.quietPoint());
  const close = await startUnlessAborted(worker, parts, log, async () => {
    trimmer?.stop();
    await closeScaleOut(role, feed, log);
    await server?.close();
  });
  await startElection(role, close);
  return { worker, httpPort: server?.port, close };
}

/** What the labelling worker is built from. */
interface WorkerInputs {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly parts: WorkerParts;
  readonly log: Logger;
  readonly checkpoint: Checkpoint;
  readonly codec: RecordCodec;
  readonly codecDescription: CodecDescription | undefined;
  readonly stream: KafkaRecordStream;
  readonly store: FsModelStore;
  readonly observer: WorkerObserver;
  readonly recordLimits: RecordLimits;
  readonly profiles: ClusterProfileSink | undefined;
}

/**
 * The labelling worker with its labeller, sink and refiner; in scale-out, with the models topic's
 * feed instead of a refiner, and the trainer's role beside it.
 */
async function buildWorker(inputs: WorkerInputs): Promise<{
  worker: StreamWorker;
  labeller: Labeller;
  sink: OutputSink;
  feed: KafkaModelFeed | undefined;
  role: TrainerRole | undefined;
}> {
  const { kafka, config, parts, log, checkpoint, codec, stream, store, observer } = inputs;
  const { recordLimits, profiles } = inputs;
  const train = bootstrapTrainer(config, log);
  const refiner = config.stream.scaleOut ? undefined : createRefiner(config, parts, observer, log);
  const feed = config.stream.scaleOut
    ? await startModelFeed(kafka, config, observer, log)
    : undefined;
  const labeller = await createLabeller(config, codec, inputs.codecDescription, log).catch(
    async (error: unknown) => {
      // The feed's consumer is already in its group: leave it before failing.
      await feed?.close();
      throw error;
    },
  );
  const sink = await startSink(
    labeller,
    checkpoint,
    () => createSink(config, kafka, stream.consumer, log, maxRequestBytesOf(recordLimits)),
    () => feed?.close(),
  );
  const worker = new StreamWorker({
    stream,
    sink,
    store,
    codec,
    labeller,
    train,
    observer,
    logger: log,
    ...(refiner === undefined ? {} : { refiner }),
    ...(profiles === undefined ? {} : { profiles }),
    ...(feed === undefined ? {} : { feed }),
    settings: workerSettings(config, recordLimits),
  });
  const role =
    feed === undefined
      ? undefined
      : createTrainerRole(
          trainerKit(
            kafka,
            config,
            parts,
            { codec, feed, cache: store, train, observer, log },
            worker,
          ),
        );
  // Without scale-out every worker trains the model it serves.
  if (role === undefined) observer.trainerRole(true);
  return { worker, labeller, sink, feed, role };
}

/** What the scale-out trainer is built from, besides what every worker shares. */
function trainerKit(
  kafka: Kafka,
  config: Config,
  parts: WorkerParts,
  shared: Pick<TrainerKit, 'codec' | 'feed' | 'cache' | 'train' | 'observer' | 'log'>,
  worker: StreamWorker,
): TrainerKit {
  const { log } = shared;
  return {
    ...shared,
    kafka,
    config,
    // The trainer writes no output: the output topics' limits do not concern it.
    settings: workerSettings(config, { labelledBytes: Infinity, deadLetterBytes: Infinity }),
    createStream: (groupId) => createRecordStream(kafka, config, log, groupId),
    createRefiner: (observer) => createRefiner(config, parts, observer, log),
    createProfiles: () => clusterProfileSink(config, kafka),
    // The process fails with its trainer, and Kubernetes restarts it.
    onFailure: (error) => worker.failWith(error),
  };
}

/** Scale-out: the trainer (if this replica holds the role) and the election, then the feed. */
async function closeScaleOut(
  role: TrainerRole | undefined,
  feed: KafkaModelFeed | undefined,
  log: Logger,
): Promise<void> {
  await role?.close().catch((error: unknown) => log.error('closing the trainer failed', { error }));
  await feed
    ?.close()
    .catch((error: unknown) => log.error('closing the model feed failed', { error }));
}

/** /readyz and /healthz: the labelling worker's, and in scale-out whether this replica trains. */
function healthOf(worker: StreamWorker, role: TrainerRole | undefined): HealthSource {
  return {
    isReady: () => worker.isReady(),
    phase: () => worker.phase(),
    ...(role === undefined
      ? {}
      : { role: () => (role.isTrainer() ? ('trainer' as const) : ('labeller' as const)) }),
  };
}

/** Scale-out: joins the trainer's election once the labelling worker runs. */
async function startElection(
  role: TrainerRole | undefined,
  close: () => Promise<void>,
): Promise<void> {
  if (role === undefined) return;
  try {
    await role.start();
  } catch (error) {
    await close();
    throw error;
  }
}

function modelStore(config: Config, log: Logger): FsModelStore {
  return new FsModelStore(config.model.dir, {
    keep: config.model.snapshotKeep,
    log: (message) => log.warn('model store', { detail: message }),
  });
}

async function loadBackend(config: Config, log: Logger): Promise<void> {
  const backend = await initBackend(config.model.backend, (message) =>
    log.debug('tensor backend', { detail: message }),
  );
  log.info('tensor backend ready', { backend });
}

/** The output sink; when it cannot start, the labeller (already started) is closed. */
async function startSink(
  labeller: Labeller,
  checkpoint: Checkpoint,
  create: () => Promise<OutputSink>,
  closeOthers: () => Promise<void> | undefined,
): Promise<OutputSink> {
  try {
    checkpoint('starting the output');
    return await create();
  } catch (error) {
    await labeller.close();
    await closeOthers();
    throw error;
  }
}

/**
 * Creates the output topics and reads the limits a record must keep to on them. The broker's
 * answers take a while: start-up may stop between the two.
 */
async function prepareOutputTopics(
  kafka: Kafka,
  config: Config,
  log: Logger,
  checkpoint: Checkpoint,
): Promise<RecordLimits> {
  const { stream } = config;
  await ensureOutputTopics(
    kafka,
    {
      input: stream.inputTopic,
      outputs: [stream.outputTopic, stream.dlqTopic],
      // Scale-out: the models topic, and the control topic whose one partition elects the trainer.
      compacted: stream.scaleOut
        ? [stream.clustersTopic, stream.modelTopic, stream.controlTopic]
        : [stream.clustersTopic],
    },
    log,
  );
  checkpoint('reading the topic limits');
  return recordLimitsOf(
    await fetchTopicMessageLimits(kafka, { output: stream.outputTopic, dlq: stream.dlqTopic }, log),
  );
}

/** The record codec of DEC_FORMAT, with its Avro schema file read and its registry client. */
async function buildCodec(
  config: Config,
): Promise<{ codec: RecordCodec; avroSchema: string | undefined }> {
  const { stream } = config;
  const avroSchema =
    stream.avroSchemaFile === undefined ? undefined : await readFile(stream.avroSchemaFile, 'utf8');
  const codec = await createRecordCodec({
    format: stream.format,
    avroSchema,
    registry:
      stream.schemaRegistryUrl === undefined
        ? undefined
        : new HttpSchemaRegistry(stream.schemaRegistryUrl),
    inputTopic: stream.inputTopic,
    outputTopic: stream.outputTopic,
    outputDetail: stream.outputDetail,
  });
  return { codec, avroSchema };
}

function createRecordStream(
  kafka: Kafka,
  config: Config,
  log: Logger,
  groupId = config.stream.groupId,
): KafkaRecordStream {
  const { stream } = config;
  return new KafkaRecordStream({
    kafka,
    groupId,
    topic: stream.inputTopic,
    logger: log,
    maxBytesPerPartition: stream.fetchMaxBytesPerPartition,
    sessionTimeoutMs: stream.sessionTimeoutMs,
    heartbeatIntervalMs: stream.heartbeatIntervalMs,
    rebalanceTimeoutMs: stream.rebalanceTimeoutMs,
  });
}

/** Trains the first version on the bootstrap window; unusable records are skipped. */
function bootstrapTrainer(config: Config, log: Logger): BootstrapTrainer {
  const features = config.stream.features;
  const options = trainOptions(config);
  return (records, hooks) =>
    trainWithClusterChoice(records, features, options, {
      ...hooks,
      baselineKmeans: threadedKmeans(),
      log: (message) => log.debug('training', { detail: message }),
      onPoison: () => undefined,
      onSuggestion: (s) =>
        log.info('number of clusters chosen', {
          clusters: s.clusters,
          rule: describeClusterCountRule(s.rule),
          rows: s.rows,
          scores: clusterCountTable(s.scores),
        }),
    });
}

/**
 * The refinement thread when config.refine turns refinement on, unless the caller brings its own
 * refiner (or null for none).
 */
function createRefiner(
  config: Config,
  parts: WorkerParts,
  observer: WorkerObserver,
  log: Logger,
): ModelRefiner | undefined {
  if (parts.refiner !== undefined) return parts.refiner ?? undefined;
  const refineOn =
    config.refine.everyRecords > 0 ||
    config.refine.rebootstrapPsiThreshold > 0 ||
    config.refine.retrainEveryRecords > 0;
  if (!refineOn) return undefined;
  // The worker saves every version it starts serving, so the refiner gets no store of its own.
  return new Refiner(refinerOptionsFromConfig(config), observer, {
    log: (message) => log.info('refinement', { detail: message }),
  });
}

function workerSettings(config: Config, recordLimits: RecordLimits): StreamWorkerSettings {
  const { stream } = config;
  return {
    inputTopic: stream.inputTopic,
    features: stream.features,
    batchMaxRecords: stream.batchMaxRecords,
    maxInFlightBatches: stream.maxInFlightBatches,
    bootstrap: config.bootstrap,
    shareHalfLifeRecords: config.refine.halfLifeRecords,
    contactTimeoutMs: stream.sessionTimeoutMs,
    recordLimits,
  };
}

/**
 * /metrics, /healthz and /readyz on config.metricsPort, unless the caller turned them off. When it
 * cannot start, `closeOpened` releases what start-up has opened so far.
 */
async function serveHttp(
  config: Config,
  parts: WorkerParts,
  registry: HttpServerOptions['registry'],
  health: HealthSource,
  checkpoint: Checkpoint,
  closeOpened: () => Promise<void>,
): Promise<HttpServerHandle | undefined> {
  try {
    checkpoint('starting the http server');
    if (!(parts.http ?? true)) return undefined;
    return await startHttpServer({ port: config.metricsPort, registry, health });
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

/**
 * Starts the worker and returns its idempotent close (the worker drains, then `closeRest` runs).
 * When the caller's signal stopped start-up, closes everything and rejects with
 * StartAbortedError.
 */
async function startUnlessAborted(
  worker: StreamWorker,
  parts: WorkerParts,
  log: Logger,
  closeRest: () => Promise<void>,
): Promise<() => Promise<void>> {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await worker.close();
      } finally {
        await closeRest();
      }
    })();
    return closing;
  };
  // A failure (consumer crash) also ends with everything closed.
  void worker.done.then(() => close());
  try {
    await worker.start(parts.signal);
  } catch (error) {
    await close();
    throw error;
  }
  if (parts.signal?.aborted === true) {
    // The worker skipped the rest of its start, or has just begun consuming: close() drains it.
    log.info('start-up stopped', { before: 'consuming' });
    await close();
    if ((await worker.done) !== Phase.Stopped) {
      throw new DecStreamError('START_ABORT_FAILED', 'closing after start-up was stopped failed');
    }
    throw new StartAbortedError();
  }
  return close;
}

/** Bounds the main thread's heap swing (see HeapTrimmer), unless DEC_HEAP_HEADROOM_MIB is 0. */
function startHeapTrimmer(config: Config, log: Logger): HeapTrimmer | undefined {
  if (config.heapHeadroomMiB === 0) return undefined;
  const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
  const trimmer = new HeapTrimmer({
    headroomBytes: config.heapHeadroomMiB * 2 ** 20,
    onCollect: (event) =>
      log.debug('main-thread heap collected', {
        beforeMiB: mib(event.beforeBytes),
        afterMiB: mib(event.afterBytes),
        pauseMs: Math.round(event.pauseMs),
        atQuietPoint: event.atQuietPoint,
      }),
  });
  trimmer.start();
  log.info('main-thread heap kept within its headroom', { headroomMiB: config.heapHeadroomMiB });
  return trimmer;
}

/**
 * The codec built from `config` as plain data a labelling thread can rebuild it from. A
 * schema-registry reader schema is the one this thread resolved, so both threads read alike.
 */
function describeCodec(
  config: Config,
  avroSchema: string | undefined,
  codec: RecordCodec,
): CodecDescription | undefined {
  const stream = config.stream;
  const { outputDetail } = stream;
  if (stream.format === 'json') return { format: 'json', outputDetail };
  if (stream.schemaRegistryUrl === undefined) {
    return avroSchema === undefined
      ? undefined
      : { format: 'avro', schema: avroSchema, outputDetail };
  }
  if (!(codec instanceof ConfluentAvroCodec)) return undefined;
  return {
    format: 'confluent-avro',
    outputDetail,
    registryUrl: stream.schemaRegistryUrl,
    readerSchema: avroSchema ?? JSON.stringify(codec.schemas.inputType.schema()),
    inputTopic: stream.inputTopic,
    outputTopic: stream.outputTopic,
  };
}

/**
 * The clusters topic's writer: profiles in the output's format (Avro with a registry: the fixed
 * profile schema registered as `<DEC_CLUSTERS_TOPIC>-value`).
 */
async function clusterProfileSink(config: Config, kafka: Kafka): Promise<ClusterProfileSink> {
  const { stream } = config;
  const encode = await clusterProfileEncoder({
    format: stream.format,
    registry:
      stream.schemaRegistryUrl === undefined
        ? undefined
        : new HttpSchemaRegistry(stream.schemaRegistryUrl),
    topic: stream.clustersTopic,
  });
  return new KafkaClusterProfileSink(kafka, stream.clustersTopic, encode);
}

/**
 * The labelling thread when DEC_LABEL_THREAD asks for it (auto: with two or more CPUs), else
 * labelling in this thread. Under auto, a thread that cannot start leaves labelling here.
 */
async function createLabeller(
  config: Config,
  codec: RecordCodec,
  description: CodecDescription | undefined,
  log: Logger,
): Promise<Labeller> {
  const mode = config.stream.labelThread;
  const wanted = mode === 'on' || (mode === 'auto' && threadWorthwhile());
  if (!wanted || description === undefined) {
    log.info('labelling in the main thread', {
      labelThread: mode,
      ...(description === undefined ? { reason: 'the codec cannot be rebuilt in a thread' } : {}),
    });
    return new InProcessLabeller(codec);
  }
  try {
    const { labeller, backend } = await ThreadLabeller.start({
      codec: description,
      backend: config.model.backend,
      // src/label-thread.ts: the thread's own composition root, with the HTTP registry client.
      entry: { moduleUrl: import.meta.url, name: 'label-thread' },
    });
    log.info('labelling in a worker thread', { labelThread: mode, backend });
    return labeller;
  } catch (error) {
    if (mode === 'on') throw error;
    log.warn('the labelling thread did not start; labelling in the main thread', { error });
    return new InProcessLabeller(codec);
  }
}

/**
 * The output side: producers on a thread of their own (DEC_PUBLISH_THREAD=on, or auto with two or
 * more CPUs), or in this thread. Under auto, a thread that cannot start leaves producing here.
 */
async function createSink(
  config: Config,
  kafka: Kafka,
  consumer: Consumer,
  log: Logger,
  maxRequestBytes: number,
): Promise<OutputSink> {
  const { stream } = config;
  const mode = stream.publishThread;
  if (mode === 'on' || (mode === 'auto' && threadWorthwhile())) {
    const settings = { ...publisherSettings(config), maxRequestBytes };
    const sink = new ThreadSink({ settings, consumer, logger: log });
    try {
      await sink.start();
      log.info('producing on a worker thread', { publishThread: mode, delivery: stream.delivery });
      return sink;
    } catch (error) {
      await sink.close().catch(() => undefined);
      if (mode === 'on') throw error;
      log.warn('the publishing thread did not start; producing on the main thread', { error });
    }
  } else {
    log.info('producing on the main thread', { publishThread: mode });
  }
  const options = {
    kafka,
    groupId: stream.groupId,
    outputTopic: stream.outputTopic,
    dlqTopic: stream.dlqTopic,
    compression: stream.outputCompression,
    logger: log,
    maxRequestBytes,
  };
  return stream.delivery === 'exactly-once'
    ? new ExactlyOnceSink({ ...options, transactionalIdPrefix: stream.transactionalIdPrefix })
    : new AtLeastOnceSink({ ...options, consumer });
}

/**
 * kafkajs writes a request's records for one partition as one batch, so a request must fit in
 * the smaller of the two topics' limits (both topics can share a request).
 */
function maxRequestBytesOf(limits: RecordLimits): number {
  return Math.min(DefaultMaxRequestBytes, limits.labelledBytes, limits.deadLetterBytes);
}

function configFileArgument(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--config') return args[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * `dec-stream run`: exit code 0 after a clean stop on SIGTERM/SIGINT, whether it came during
 * start-up (start-up stops and closes what it opened) or later (the worker drains); 2 for a bad
 * configuration (one line on stderr naming every bad field); 1 when the worker fails or cannot
 * stop within DEC_SHUTDOWN_GRACE_MS of the first signal, with one line on stderr too when Kafka
 * turned it away (untrusted certificate, rejected SASL credentials). `signals` should be listening before
 * anything slow runs (the CLI starts it before it loads this module); by default it starts here.
 */
export async function runWorkerCommand(
  env: Record<string, string | undefined>,
  args: readonly string[] = [],
  signals: ShutdownSignals = ShutdownSignals.listen(),
): Promise<number> {
  const config = loadWorkerConfig(env, args);
  if (config === undefined) return 2;

  const log = createLogger({ level: config.logLevel });
  let running: RunningWorker | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    signals.onSignal((signal, count) => {
      if (count > 1) {
        // The handler stays installed: a repeated signal neither kills the process nor cuts the
        // drain short, so what was published is still committed.
        log.info('shutdown already in progress', { signal, signals: count });
        return;
      }
      log.info('shutdown requested', {
        signal,
        graceMs: config.shutdownGraceMs,
        phase: running === undefined ? Phase.Starting : running.worker.phase(),
      });
      graceTimer = setTimeout(() => resolve('timeout'), config.shutdownGraceMs);
      // During start-up startWorker sees signals.signal and stops on its own.
      void running?.close();
    });
  });
  const exit = (code: number): number => {
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    log.info('exit', { code });
    return code;
  };

  try {
    const started = await Promise.race([
      startWorker(config, { logger: log, signal: signals.signal }),
      timedOut,
    ]);
    if (started === 'timeout') {
      log.error('start-up did not stop in time', { graceMs: config.shutdownGraceMs });
      return exit(1);
    }
    running = started;
  } catch (error) {
    if (error instanceof StartAbortedError) return exit(0);
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    if (error instanceof ConfigError) {
      process.stderr.write(`dec-stream: ${error.message}\n`);
      return 2;
    }
    const refused =
      error instanceof KafkaAccessError ? error : kafkaAccessError(error, config.kafka);
    if (refused !== undefined) {
      // Retrying cannot help: one line that names the settings to check, besides the log line.
      log.error('start-up failed', { error: refused });
      process.stderr.write(`dec-stream: ${refused.message}\n`);
      return 1;
    }
    log.error('start-up failed', { error });
    return 1;
  }

  return exit(await exitCodeOnceDone(running, timedOut, config, log));
}

/** The configuration from env and --config, or undefined after one line on stderr naming every bad field. */
function loadWorkerConfig(
  env: Record<string, string | undefined>,
  args: readonly string[],
): Config | undefined {
  try {
    const file = configFileArgument(args);
    return loadConfig(env, file === undefined ? {} : { file });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dec-stream: ${error.message}\n`);
      return undefined;
    }
    throw error;
  }
}

/** Waits for the running worker to stop: 0 after a clean stop, 1 after a failure or the grace time. */
async function exitCodeOnceDone(
  running: RunningWorker,
  timedOut: Promise<'timeout'>,
  config: Config,
  log: Logger,
): Promise<number> {
  const outcome = await Promise.race([running.worker.done, timedOut]);
  if (outcome === 'timeout') {
    log.error('shutdown did not finish in time', { graceMs: config.shutdownGraceMs });
    return 1;
  }
  await running.close();
  const code = outcome === Phase.Stopped ? 0 : 1;
  const error = running.worker.error;
  if (code !== 0 && error instanceof DecStreamError) {
    log.error('worker stopped after a failure', { code: error.code });
  }
  return code;
}
