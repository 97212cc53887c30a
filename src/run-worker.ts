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
import { ConfigError, DecStreamError, StartAbortedError } from './errors.js';
import { ShutdownSignals } from './shutdown-signals.js';
import { createKafka } from './kafka/client.js';
import { KafkaRecordStream } from './kafka/kafka-record-stream.js';
import { AtLeastOnceSink, DefaultMaxRequestBytes, ExactlyOnceSink } from './kafka/output-sink.js';
import { publisherSettings, ThreadSink } from './kafka/publish/thread-sink.js';
import { fetchTopicMessageLimits, recordLimitsOf } from './kafka/topic-limits.js';
import { ensureOutputTopics } from './kafka/topics.js';
import type { RecordLimits } from './worker/record-limits.js';
import { createPrometheusObserver } from './metrics/prometheus-observer.js';
import { initBackend, liveTensorCount } from './model/backend.js';
import { clusterCountTable, describeClusterCountRule } from './model/suggest-clusters.js';
import { trainWithClusterChoice } from './model/train-with-cluster-choice.js';
import type { ClusterChoiceOptions } from './model/train-with-cluster-choice.js';
import { HttpSchemaRegistry } from './registry/schema-registry-client.js';
import type { HttpServerHandle } from './server/http-server.js';
import { startHttpServer } from './server/http-server.js';
import { FsModelStore } from './store/fs-model-store.js';
import type { Logger } from './worker/logger.js';
import { createLogger } from './worker/logger.js';
import { HeapTrimmer } from './worker/heap-trimmer.js';
import type { CodecDescription } from './worker/labeller/codec-description.js';
import { InProcessLabeller } from './worker/labeller/in-process-labeller.js';
import { ThreadLabeller, threadWorthwhile } from './worker/labeller/thread-labeller.js';
import type { WorkerObserver } from './worker/observer.js';
import { Phase, silentObserver } from './worker/observer.js';
import type { Labeller, ModelRefiner, OutputSink } from './worker/ports.js';
import { Refiner } from './worker/refiner/refiner.js';
import { refinerOptionsFromConfig } from './worker/refiner/refiner-options.js';
import type { BootstrapTrainer } from './worker/stream-worker.js';
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
    ...(m.augmentImage === undefined
      ? {}
      : { imageAugmentation: digitAugmentation(m.augmentImage.width, m.augmentImage.height) }),
    ...(m.hiddenSizes === undefined ? {} : { hiddenSizes: m.hiddenSizes }),
    ...(m.pretrainEpochs === undefined ? {} : { pretrainEpochs: m.pretrainEpochs }),
    ...(m.updateInterval === undefined ? {} : { updateInterval: m.updateInterval }),
    ...(m.maxIterations === undefined ? {} : { maxIterations: m.maxIterations }),
  };
}

/**
 * Builds the real adapters from `config` and starts the worker (joins the group, begins work).
 * With `parts.signal` aborted, start-up stops between two steps, closes what it opened and
 * rejects with StartAbortedError.
 */
export async function startWorker(config: Config, parts: WorkerParts = {}): Promise<RunningWorker> {
  const log = parts.logger ?? createLogger({ level: config.logLevel });
  const { stream: streamConfig } = config;
  const aborted = (): boolean => parts.signal?.aborted === true;
  /** Between steps that have opened nothing yet. */
  const checkpoint = (step: string): void => {
    if (!aborted()) return;
    log.info('start-up stopped', { before: step });
    throw new StartAbortedError();
  };
  log.info('starting', { config: redactConfig(config) });
  checkpoint('creating the output topics');

  const kafka = createKafka(config.kafka, log.child({ component: 'kafka' }));
  await ensureOutputTopics(
    kafka,
    { input: streamConfig.inputTopic, outputs: [streamConfig.outputTopic, streamConfig.dlqTopic] },
    log,
  );
  checkpoint('reading the topic limits');
  const recordLimits = recordLimitsOf(
    await fetchTopicMessageLimits(
      kafka,
      { output: streamConfig.outputTopic, dlq: streamConfig.dlqTopic },
      log,
    ),
  );
  checkpoint('building the codec');
  const avroSchema =
    streamConfig.avroSchemaFile === undefined
      ? undefined
      : await readFile(streamConfig.avroSchemaFile, 'utf8');
  const codec = await createRecordCodec({
    format: streamConfig.format,
    avroSchema,
    registry:
      streamConfig.schemaRegistryUrl === undefined
        ? undefined
        : new HttpSchemaRegistry(streamConfig.schemaRegistryUrl),
    inputTopic: streamConfig.inputTopic,
    outputTopic: streamConfig.outputTopic,
  });
  checkpoint('loading the tensor backend');
  const store = new FsModelStore(config.model.dir, {
    keep: config.model.snapshotKeep,
    log: (message) => log.warn('model store', { detail: message }),
  });
  const backend = await initBackend(config.model.backend, (message) =>
    log.debug('tensor backend', { detail: message }),
  );
  log.info('tensor backend ready', { backend });
  checkpoint('starting the labeller');

  const stream = new KafkaRecordStream({
    kafka,
    groupId: streamConfig.groupId,
    topic: streamConfig.inputTopic,
    logger: log,
    maxBytesPerPartition: streamConfig.fetchMaxBytesPerPartition,
    sessionTimeoutMs: streamConfig.sessionTimeoutMs,
    heartbeatIntervalMs: streamConfig.heartbeatIntervalMs,
    rebalanceTimeoutMs: streamConfig.rebalanceTimeoutMs,
  });
  const metrics = createPrometheusObserver({ tensorCount: liveTensorCount });
  const observers: WorkerObserver[] = [metrics.observer];
  if (parts.observer !== undefined) observers.push(parts.observer);

  const features = config.stream.features;
  const options = trainOptions(config);
  const train: BootstrapTrainer = (records, hooks) =>
    trainWithClusterChoice(records, features, options, {
      ...hooks,
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

  const observer = fanOut(observers);
  const refineOn = config.refine.everyRecords > 0 || config.refine.rebootstrapPsiThreshold > 0;
  // The worker saves every version it starts serving, so the refiner gets no store of its own.
  const refiner =
    parts.refiner === undefined
      ? refineOn
        ? new Refiner(refinerOptionsFromConfig(config), observer, {
            log: (message) => log.info('refinement', { detail: message }),
          })
        : undefined
      : (parts.refiner ?? undefined);

  const labeller = await createLabeller(
    config,
    codec,
    describeCodec(config, avroSchema, codec),
    log,
  );
  let sink: OutputSink;
  try {
    checkpoint('starting the output');
    sink = await createSink(config, kafka, stream.consumer, log, maxRequestBytesOf(recordLimits));
  } catch (error) {
    await labeller.close();
    throw error;
  }

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
    settings: {
      inputTopic: streamConfig.inputTopic,
      features,
      batchMaxRecords: streamConfig.batchMaxRecords,
      maxInFlightBatches: streamConfig.maxInFlightBatches,
      bootstrap: config.bootstrap,
      shareHalfLifeRecords: config.refine.halfLifeRecords,
      contactTimeoutMs: streamConfig.sessionTimeoutMs,
      recordLimits,
    },
  });

  metrics.observer.readFrom(() => worker.isReady());
  let server: HttpServerHandle | undefined;
  try {
    checkpoint('starting the http server');
    server =
      (parts.http ?? true)
        ? await startHttpServer({
            port: config.metricsPort,
            registry: metrics.registry,
            health: worker,
          })
        : undefined;
  } catch (error) {
    // The worker never started: only the labelling and publishing threads hold anything open.
    await labeller.close();
    await sink.close();
    throw error;
  }
  if (server !== undefined) log.info('http server listening', { port: server.port });
  const trimmer = startHeapTrimmer(config, log);
  // Between fetches the last one's records are garbage and no thread waits on this one.
  if (trimmer !== undefined) stream.onFetchStart(() => trimmer.quietPoint());

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await worker.close();
      } finally {
        trimmer?.stop();
        await server?.close();
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
  if (aborted()) {
    // The worker skipped the rest of its start, or has just begun consuming: close() drains it.
    log.info('start-up stopped', { before: 'consuming' });
    await close();
    if ((await worker.done) !== Phase.Stopped) {
      throw new DecStreamError('START_ABORT_FAILED', 'closing after start-up was stopped failed');
    }
    throw new StartAbortedError();
  }
  return { worker, httpPort: server?.port, close };
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
  if (stream.format === 'json') return { format: 'json' };
  if (stream.schemaRegistryUrl === undefined) {
    return avroSchema === undefined ? undefined : { format: 'avro', schema: avroSchema };
  }
  if (!(codec instanceof ConfluentAvroCodec)) return undefined;
  return {
    format: 'confluent-avro',
    registryUrl: stream.schemaRegistryUrl,
    readerSchema: avroSchema ?? JSON.stringify(codec.schemas.inputType.schema()),
    inputTopic: stream.inputTopic,
    outputTopic: stream.outputTopic,
  };
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
 * stop within DEC_SHUTDOWN_GRACE_MS of the first signal. `signals` should be listening before
 * anything slow runs (the CLI starts it before it loads this module); by default it starts here.
 */
export async function runWorkerCommand(
  env: Record<string, string | undefined>,
  args: readonly string[] = [],
  signals: ShutdownSignals = ShutdownSignals.listen(),
): Promise<number> {
  let config: Config;
  try {
    const file = configFileArgument(args);
    config = loadConfig(env, file === undefined ? {} : { file });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dec-stream: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

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
    // Nothing should hold the process open now; if a client library still does, leave anyway.
    setTimeout(() => process.exit(code), 2_000).unref();
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
    log.error('start-up failed', { error });
    return 1;
  }

  const outcome = await Promise.race([running.worker.done, timedOut]);
  let code: number;
  if (outcome === 'timeout') {
    log.error('shutdown did not finish in time', { graceMs: config.shutdownGraceMs });
    code = 1;
  } else {
    await running.close();
    code = outcome === Phase.Stopped ? 0 : 1;
    const error = running.worker.error;
    if (code !== 0 && error instanceof DecStreamError) {
      log.error('worker stopped after a failure', { code: error.code });
    }
  }
  return exit(code);
}
