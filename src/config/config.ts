/**
 * The resolved configuration: complete, validated and deeply frozen. Produced only by
 * `loadConfig`; user input (environment variables and the optional file) never leaves the loader.
 */

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export type RecordFormat = 'json' | 'avro';
export type DeliveryMode = 'at-least-once' | 'exactly-once';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type LabelThreadMode = 'auto' | 'on' | 'off';
/** Kafka's record-batch compression codecs, as `compression.type` names them. */
export type OutputCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
/** What a labelled record carries beside its cluster: see DEC_OUTPUT_DETAIL. */
export type OutputDetail = 'basic' | 'full';
/** Where a shadow model's clustering starts: see DEC_RETRAIN_START. */
export type RetrainStartSetting = 'fresh' | 'serving' | 'hybrid';

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Absent when KAFKA_SASL_MECHANISM is none. */
  readonly sasl:
    | { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string }
    | undefined;
  readonly ssl: {
    readonly enabled: boolean;
    readonly caFile: string | undefined;
    readonly certFile: string | undefined;
    readonly keyFile: string | undefined;
    readonly rejectUnauthorized: boolean;
  };
}

export interface StreamConfig {
  readonly inputTopic: string;
  readonly outputTopic: string;
  readonly dlqTopic: string;
  /** Compacted topic of cluster profiles, one record per cluster and serving version. */
  readonly clustersTopic: string;
  /** 'full' adds the runner-up cluster and the margin to each labelled record. */
  readonly outputDetail: OutputDetail;
  readonly groupId: string;
  /** Consumer-group timing, passed to the consumer; checked against each other at load. */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  /** Field paths that feed the model, in order. */
  readonly features: readonly string[];
  readonly format: RecordFormat;
  /** Path of the reader .avsc; the caller reads it and hands the text to the codec. */
  readonly avroSchemaFile: string | undefined;
  readonly schemaRegistryUrl: string | undefined;
  readonly delivery: DeliveryMode;
  readonly transactionalIdPrefix: string;
  readonly batchMaxRecords: number;
  readonly maxInFlightBatches: number;
  /** Most bytes one fetch takes from one input partition. */
  readonly fetchMaxBytesPerPartition: number;
  /** Label on a worker thread: on, off, or auto (on with two or more CPUs). */
  readonly labelThread: LabelThreadMode;
  /** Produce on a worker thread: on, off, or auto (on with two or more CPUs). */
  readonly publishThread: LabelThreadMode;
  /** Codec of the batches written to the output and dead-letter topics. */
  readonly outputCompression: OutputCompression;
  /** Replicas share one model: an elected trainer publishes it on `modelTopic`. */
  readonly scaleOut: boolean;
  /** Compacted topic of model versions (scale-out). */
  readonly modelTopic: string;
  /** Single-partition topic whose consumer group elects the trainer (scale-out). */
  readonly controlTopic: string;
}

export interface BootstrapConfig {
  readonly records: number;
  readonly minRecords: number;
  readonly maxWaitMs: number;
}

/** Training options as given; unset ones are left to the trainer's defaults (resolveDecOptions). */
export interface ModelConfig {
  /** `auto`: chosen from `clusterRange` on the bootstrap window before training. */
  readonly clusters: number | 'auto';
  /** With clusters `auto`: the smallest and largest k considered. */
  readonly clusterRange?: { readonly min: number; readonly max: number };
  readonly dir: string;
  readonly snapshotKeep: number;
  readonly seed: number;
  /** Undefined: the trainer's default for the initialisation. */
  readonly method: 'dec' | 'idec' | undefined;
  readonly initialisation: 'manifold' | 'kmeans';
  /** Serve k-means on the inputs when the deep model is not better (the guard). */
  readonly guard: boolean;
  /** Undefined: sizes chosen by the trainer from the input size. */
  readonly hiddenSizes: readonly number[] | undefined;
  readonly embeddingSize: number;
  readonly pretrainEpochs: number | undefined;
  readonly batchSize: number;
  readonly updateInterval: number | undefined;
  readonly maxIterations: number | undefined;
  readonly backend: BackendPreference;
  readonly scaling: 'auto' | 'per-feature' | 'global' | 'none';
  /** Leave out feature columns independent of every other column (per-feature scaling only). */
  readonly columnScreening: boolean;
  /** Images of this size: bootstrap training augments them. */
  readonly augmentImage: { readonly width: number; readonly height: number } | undefined;
}

export interface RefineConfig {
  /** 0: the model is frozen after bootstrap. */
  readonly everyRecords: number;
  readonly intervalMs: number;
  readonly window: number;
  readonly halfLifeRecords: number;
  readonly learningRate: number;
  readonly encoderLearningRate: number;
  readonly updateEncoder: boolean;
  readonly maxCentroidShift: number | undefined;
  readonly maxLoss: number | undefined;
  readonly minClusterShare: number;
  /** 0: re-bootstrapping on drift is off. */
  readonly rebootstrapPsiThreshold: number;
  readonly rebootstrapAfterMs: number;
  /** Shadow retrain after this many records; 0: only on sustained drift. */
  readonly retrainEveryRecords: number;
  readonly retrainSampleRecords: number;
  /** 0: a uniform reservoir. */
  readonly retrainSampleHalfLifeRecords: number;
  readonly retrainHoldoutRecords: number;
  readonly retrainPromotionMargin: number;
  /** The promotion bar is multiplied by (1 - relabelled share)^charge; 0: off. */
  readonly retrainRelabelCharge: number;
  /** Most of the judged records a promotion may move between ids both versions keep; 1: no cap. */
  readonly retrainMaxRelabel: number;
  /** Where a shadow's clustering starts: its own initialisation, the serving labels, or both. */
  readonly retrainStart: RetrainStartSetting;
}

export interface Config {
  readonly kafka: KafkaConfig;
  readonly stream: StreamConfig;
  readonly bootstrap: BootstrapConfig;
  readonly model: ModelConfig;
  readonly refine: RefineConfig;
  readonly metricsPort: number;
  readonly shutdownGraceMs: number;
  /** Main-thread heap growth that triggers a full collection; 0 leaves it to V8. */
  readonly heapHeadroomMiB: number;
  readonly logLevel: LogLevel;
}
