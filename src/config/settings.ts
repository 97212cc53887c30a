import { z } from 'zod';
import { parseFeatureSpec } from '../feature-list.js';
import type { FieldSchema } from './fields.js';
import {
  boolean,
  decimal,
  httpUrl,
  imageSize,
  integer,
  integerList,
  integerOrAuto,
  list,
  oneOf,
  text,
  topic,
} from './fields.js';

/** How one setting is read: its schema, whether it has a value when unset, and its documentation. */
export interface SettingDefinition<T, HasValue extends boolean> {
  readonly schema: FieldSchema<T>;
  /** Text used when the variable is unset (same form as the variable's own value). */
  readonly default: string | undefined;
  /** Shown in the docs when the default is derived from other settings. */
  readonly defaultText: string | undefined;
  readonly required: boolean;
  /** Secret values never reach logs: `redactConfig` masks them. */
  readonly secret: boolean;
  readonly group: SettingGroup;
  readonly description: string;
  /** Type-level marker only: whether the resolved value can be undefined. */
  readonly hasValue: HasValue;
}

export const SettingGroup = {
  Kafka: 'Kafka connection',
  Stream: 'Stream',
  Bootstrap: 'Bootstrap',
  Model: 'Model training',
  Refinement: 'Refinement',
  Operations: 'Operations',
} as const;
export type SettingGroup = (typeof SettingGroup)[keyof typeof SettingGroup];

interface Doc {
  readonly group: SettingGroup;
  readonly description: string;
  readonly secret?: boolean;
  readonly defaultText?: string;
}

function required<T>(schema: FieldSchema<T>, doc: Doc): SettingDefinition<T, true> {
  return describe(schema, undefined, true, doc) as SettingDefinition<T, true>;
}

function withDefault<T>(
  value: string,
  schema: FieldSchema<T>,
  doc: Doc,
): SettingDefinition<T, true> {
  return describe(schema, value, false, doc) as SettingDefinition<T, true>;
}

function optional<T>(schema: FieldSchema<T>, doc: Doc): SettingDefinition<T, false> {
  return describe(schema, undefined, false, doc) as SettingDefinition<T, false>;
}

function describe<T>(
  schema: FieldSchema<T>,
  value: string | undefined,
  isRequired: boolean,
  doc: Doc,
): SettingDefinition<T, boolean> {
  return {
    schema,
    default: value,
    defaultText: doc.defaultText,
    required: isRequired,
    secret: doc.secret ?? false,
    group: doc.group,
    description: doc.description,
    hasValue: value !== undefined || isRequired,
  };
}

const { Kafka, Stream, Bootstrap, Model, Refinement, Operations } = SettingGroup;

export const saslMechanisms = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;
export const recordFormats = ['json', 'avro'] as const;
export const deliveryModes = ['at-least-once', 'exactly-once'] as const;
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export const clusteringMethods = ['dec', 'idec'] as const;
export const initialisationMethods = ['manifold', 'kmeans'] as const;
export const backends = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export const scalingModes = ['auto', 'per-feature', 'global', 'none'] as const;
export const labelThreadModes = ['auto', 'on', 'off'] as const;
export const outputCompressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const outputDetails = ['basic', 'full'] as const;
/** Where a shadow model's clustering starts (the refinement engine's RetrainStart). */
export const retrainStarts = ['fresh', 'serving', 'hybrid'] as const;

/** A feature spec (`f0,f1`, `pixels`, `point.x,point.y`), read by the same parser as the CLI's. */
function featureList(): FieldSchema<readonly string[]> {
  return z.string().transform((spec, ctx) => {
    try {
      return parseFeatureSpec(spec);
    } catch {
      ctx.issues.push({
        code: 'custom',
        input: spec,
        message: 'must be a comma list of distinct field paths such as f0,f1 or pixels or point.x',
      });
      return z.NEVER;
    }
  });
}

/**
 * Every setting dec-stream reads, keyed by its environment variable. The order here is the order
 * of docs/configuration.md and of the Helm values.
 */
export const definitions = {
  DEC_CONFIG_FILE: optional(text(), {
    group: Operations,
    description:
      'Path of a JSON file whose keys are these variable names; environment variables override it.',
  }),

  KAFKA_BROKERS: withDefault(
    '127.0.0.1:9092',
    list('must be a comma list of host:port', /^[^\s:,]+:\d{1,5}$/),
    { group: Kafka, description: 'Bootstrap brokers, comma separated host:port.' },
  ),
  KAFKA_CLIENT_ID: withDefault('dec-stream', text(), {
    group: Kafka,
    description: 'Kafka client id.',
  }),
  KAFKA_SASL_MECHANISM: withDefault('none', oneOf(saslMechanisms), {
    group: Kafka,
    description: 'SASL mechanism: none, plain, scram-sha-256 or scram-sha-512.',
  }),
  KAFKA_SASL_USERNAME: optional(text(), {
    group: Kafka,
    description: 'SASL user name; required when a mechanism is set.',
  }),
  KAFKA_SASL_PASSWORD: optional(text(), {
    group: Kafka,
    secret: true,
    description: 'SASL password; required when a mechanism is set. Never logged.',
  }),
  KAFKA_SSL: withDefault('false', boolean(), {
    group: Kafka,
    description: 'Connect with TLS.',
  }),
  KAFKA_SSL_CA_FILE: optional(text(), {
    group: Kafka,
    description: 'PEM file of trusted certificate authorities (TLS).',
  }),
  KAFKA_SSL_CERT_FILE: optional(text(), {
    group: Kafka,
    description: 'PEM client certificate for mutual TLS; needs KAFKA_SSL_KEY_FILE.',
  }),
  KAFKA_SSL_KEY_FILE: optional(text(), {
    group: Kafka,
    description: 'PEM client private key for mutual TLS; needs KAFKA_SSL_CERT_FILE.',
  }),
  KAFKA_SSL_REJECT_UNAUTHORIZED: withDefault('true', boolean(), {
    group: Kafka,
    description: 'Reject broker certificates that do not verify.',
  }),

  DEC_INPUT_TOPIC: required(topic(), {
    group: Stream,
    description: 'Topic of the records to label.',
  }),
  DEC_OUTPUT_TOPIC: required(topic(), {
    group: Stream,
    description: 'Topic the labelled records are written to.',
  }),
  DEC_GROUP_ID: withDefault('dec-stream', text(), {
    group: Stream,
    description: 'Consumer group id.',
  }),
  DEC_SESSION_TIMEOUT_MS: withDefault('15000', integer(1), {
    group: Stream,
    description:
      "How long the group coordinator waits for a heartbeat before it drops this worker and hands its partitions to others. Must lie within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms (6000 and 1800000 by default).",
  }),
  DEC_HEARTBEAT_INTERVAL_MS: withDefault('3000', integer(1), {
    group: Stream,
    description:
      'Time between heartbeats to the group coordinator; below a third of DEC_SESSION_TIMEOUT_MS, so that two can be lost without losing the partitions.',
  }),
  DEC_REBALANCE_TIMEOUT_MS: withDefault('60000', integer(1), {
    group: Stream,
    description:
      'How long a rebalance waits for the members to rejoin (a member first finishes the batch in hand); at least DEC_SESSION_TIMEOUT_MS.',
  }),
  DEC_DLQ_TOPIC: optional(topic(), {
    group: Stream,
    defaultText: '`<DEC_INPUT_TOPIC>.dlq`',
    description: 'Dead-letter topic for records that cannot be labelled.',
  }),
  DEC_CLUSTERS_TOPIC: optional(topic(), {
    group: Stream,
    defaultText: '`<DEC_OUTPUT_TOPIC>.clusters`',
    description:
      "Compacted topic of cluster profiles, key = cluster id: one record per cluster each time a model version starts serving (prototype in input units, share, mean confidence, nearest kept records, the features that set it apart), in the output's format. Join labelled records to it by `cluster`.",
  }),
  DEC_SCALE_OUT: withDefault('false', boolean(), {
    group: Stream,
    description:
      'Run as one of several replicas that share one model. One replica, elected through the single-partition control topic `<DEC_GROUP_ID>.control`, trains (bootstrap, refinement) on a sample of the whole input and publishes each version to DEC_MODEL_TOPIC; every replica labels its share of the partitions with the newest version there, and holds them without committing until the first exists. Off: each replica trains its own model, right for one replica. The chart turns it on when replicaCount or the autoscaler allows more than one.',
  }),
  DEC_MODEL_TOPIC: optional(topic(), {
    group: Stream,
    defaultText: '`<DEC_GROUP_ID>.models`',
    description:
      'With DEC_SCALE_OUT: the compacted topic the trainer publishes model versions to (chunked, with a manifest and checksum, in transactions) and every replica reads whole.',
  }),
  DEC_OUTPUT_DETAIL: withDefault('basic', oneOf(outputDetails), {
    group: Stream,
    description:
      'What a labelled record carries: basic (cluster, confidence, model_version) or full (also runner_up, the second most likely cluster, and margin, the difference between the two soft assignments).',
  }),
  DEC_FEATURES: required(featureList(), {
    group: Stream,
    description:
      'Record fields that feed the model, in order: `f0,f1`, `pixels` (a numeric array) or dot paths.',
  }),
  DEC_FORMAT: withDefault('json', oneOf(recordFormats), {
    group: Stream,
    description: 'Record value format: json or avro.',
  }),
  DEC_AVRO_SCHEMA: optional(text(), {
    group: Stream,
    description:
      'Path of the reader schema (.avsc); required for avro without a schema registry. With a registry and no file, the latest `<DEC_INPUT_TOPIC>-value` schema is the reader schema.',
  }),
  DEC_SCHEMA_REGISTRY_URL: optional(httpUrl(), {
    group: Stream,
    description:
      'Confluent schema registry URL (avro only): values use the Confluent wire format and the output schema is registered as `<DEC_OUTPUT_TOPIC>-value`. Credentials may be given in the URL.',
  }),
  DEC_DELIVERY: withDefault('at-least-once', oneOf(deliveryModes), {
    group: Stream,
    description: 'Delivery guarantee: at-least-once or exactly-once (Kafka transactions).',
  }),
  DEC_TRANSACTIONAL_ID_PREFIX: withDefault('dec-stream', text(), {
    group: Stream,
    description: 'Prefix of the transactional ids used with exactly-once delivery.',
  }),
  DEC_BATCH_MAX_RECORDS: withDefault('1000', integer(1), {
    group: Stream,
    description:
      'Most records labelled at once; at-least-once produces and commits each such chunk, exactly-once writes one transaction per fetched partition batch.',
  }),
  DEC_FETCH_MAX_BYTES_PER_PARTITION: withDefault('2097152', integer(1024), {
    group: Stream,
    description:
      'Most bytes one fetch takes from one input partition (a fetch takes at most 10 MiB in all). Larger fetches make longer batches, which keep the labelling and publishing threads busier; smaller ones hold less memory.',
  }),
  DEC_MAX_IN_FLIGHT_BATCHES: withDefault('2', integer(1), {
    group: Stream,
    description: 'Back-pressure: most batches being labelled or produced at once.',
  }),
  DEC_LABEL_THREAD: withDefault('auto', oneOf(labelThreadModes), {
    group: Stream,
    description:
      'Label records on a worker thread beside the Kafka I/O: on, off, or auto (on with 2 or more CPUs). A codec a thread cannot rebuild labels on the main thread.',
  }),
  DEC_OUTPUT_COMPRESSION: withDefault('lz4', oneOf(outputCompressions), {
    group: Stream,
    description:
      "Compression of the record batches written to the output and dead-letter topics: none, gzip, snappy, lz4 or zstd. Input batches may use any of them, mixed. lz4 is the default because it measured fastest both to compress and to decompress (`npm run bench:codecs`, docs/benchmarks.md), at snappy's ratio; zstd makes batches about 40 % smaller at half the speed.",
  }),
  DEC_PUBLISH_THREAD: withDefault('auto', oneOf(labelThreadModes), {
    group: Stream,
    description:
      'Run the Kafka producers (and exactly-once transactions) on a worker thread of their own, while the main thread consumes: on, off, or auto (on with 2 or more CPUs).',
  }),

  DEC_CLUSTERS: required(integerOrAuto(2), {
    group: Model,
    description:
      "Number of clusters k, or `auto`: before the bootstrap trains, pretrain the autoencoder on the window and choose k from DEC_CLUSTERS_MIN to DEC_CLUSTERS_MAX: the smallest k whose silhouette of k-means in the embedding's UMAP layout is within 0.01 of the best (as `dec-stream suggest-k`; see docs/choosing-settings.md); training then starts from that pretrained autoencoder. The chosen k and the score table are logged. A restart with a stored model keeps that model's k.",
  }),
  DEC_CLUSTERS_MIN: optional(integer(2), {
    group: Model,
    defaultText: '2 with DEC_CLUSTERS=auto',
    description: 'Smallest k that DEC_CLUSTERS=auto considers; only with DEC_CLUSTERS=auto.',
  }),
  DEC_CLUSTERS_MAX: optional(integer(2), {
    group: Model,
    defaultText: '20 with DEC_CLUSTERS=auto',
    description: 'Largest k that DEC_CLUSTERS=auto considers; only with DEC_CLUSTERS=auto.',
  }),
  DEC_BOOTSTRAP_RECORDS: withDefault('5000', integer(1), {
    group: Bootstrap,
    description: 'Records collected before the first model is trained.',
  }),
  DEC_BOOTSTRAP_MIN_RECORDS: optional(integer(1), {
    group: Bootstrap,
    defaultText: 'min(DEC_BOOTSTRAP_RECORDS, max(500, DEC_CLUSTERS))',
    description:
      'Fewest records to train on when DEC_BOOTSTRAP_MAX_WAIT_MS runs out; at least DEC_CLUSTERS and at most DEC_BOOTSTRAP_RECORDS.',
  }),
  DEC_BOOTSTRAP_MAX_WAIT_MS: withDefault('600000', integer(1), {
    group: Bootstrap,
    description: 'Longest wait for DEC_BOOTSTRAP_RECORDS before training on what has arrived.',
  }),
  DEC_MODEL_DIR: withDefault('./models', text(), {
    group: Model,
    description: 'Directory of model snapshots.',
  }),
  DEC_SNAPSHOT_KEEP: withDefault('5', integer(1), {
    group: Model,
    description: 'Snapshots kept in DEC_MODEL_DIR.',
  }),
  DEC_SEED: withDefault('42', integer(0, 2 ** 32 - 1), {
    group: Model,
    description: 'Seed of every random choice in training.',
  }),
  DEC_METHOD: optional(oneOf(clusteringMethods), {
    group: Model,
    defaultText: 'dec with DEC_INIT=manifold, idec with kmeans',
    description: 'dec (KL only) or idec (KL plus reconstruction loss).',
  }),
  DEC_INIT: withDefault('manifold', oneOf(initialisationMethods), {
    group: Model,
    description:
      'How fine-tuning starts: `manifold` (UMAP of the pretrained embedding, then k-means there; the partition is distilled into the model first, as in N2D) or `kmeans` (k-means on the embedding, as in DEC).',
  }),
  DEC_GUARD: withDefault('true', boolean(), {
    group: Model,
    description:
      'Also fit k-means on the standardised inputs and serve it instead of the deep model when the deep model does not cut the data better by the guard criterion (see docs/choosing-settings.md).',
  }),
  DEC_HIDDEN: optional(
    integerList('must be a comma list of positive integers such as 500,500,2000'),
    {
      group: Model,
      defaultText: 'automatic by input size',
      description: 'Encoder hidden layer sizes, e.g. `500,500,2000`; the decoder mirrors them.',
    },
  ),
  DEC_EMBEDDING: withDefault('10', integer(1), {
    group: Model,
    description: 'Embedding size.',
  }),
  DEC_SCALING: withDefault('auto', oneOf(scalingModes), {
    group: Model,
    description:
      'Feature scaling learned at bootstrap: `per-feature` (mean 0, std 1 per column), `global` (one mean and std for all columns: pixels, embeddings), `none`, or `auto` (global when every feature field is a vector, per-feature otherwise).',
  }),
  DEC_COLUMN_SCREENING: withDefault('true', boolean(), {
    group: Model,
    description:
      'With per-feature scaling, leave out the feature columns that are independent of every other column and normally distributed (measurement noise): they carry no cluster structure but weigh as much as the rest. The bootstrap log and `inspect` name them (see docs/choosing-settings.md).',
  }),
  DEC_AUGMENT_IMAGE: optional(imageSize(), {
    group: Model,
    defaultText: 'no augmentation',
    description:
      'The features are images of this size (`28x28`, width x height): bootstrap training sees randomly shifted (up to 10 % of the side) and rotated (up to 10°) copies, as DEC-DA does. Needs `global` or `none` scaling (`auto` gives global for a vector field).',
  }),
  DEC_PRETRAIN_EPOCHS: optional(integer(1), {
    group: Model,
    defaultText: 'trainer default',
    description: 'Autoencoder pretraining epochs.',
  }),
  DEC_BATCH_SIZE: withDefault('256', integer(1), {
    group: Model,
    description: 'Training mini-batch size.',
  }),
  DEC_UPDATE_INTERVAL: optional(integer(1), {
    group: Model,
    defaultText: 'trainer default',
    description: 'Mini-batch steps between recomputations of the target distribution p.',
  }),
  DEC_MAX_ITERATIONS: optional(integer(1), {
    group: Model,
    defaultText: 'trainer default',
    description: 'Most clustering mini-batch steps.',
  }),
  DEC_BACKEND: withDefault('auto', oneOf(backends), {
    group: Model,
    description: 'TensorFlow.js backend: auto, tensorflow (tfjs-node), wasm or cpu.',
  }),

  DEC_REFINE_EVERY_RECORDS: withDefault('5000', integer(0), {
    group: Refinement,
    description:
      'Refine after this many labelled records; 0 turns refinement off (a background retrain or a re-bootstrap on drift still runs when set).',
  }),
  DEC_REFINE_INTERVAL_MS: withDefault('60000', integer(1), {
    group: Refinement,
    description:
      'Refine after this long even if DEC_REFINE_EVERY_RECORDS records have not arrived.',
  }),
  DEC_REFINE_WINDOW: withDefault('5000', integer(1), {
    group: Refinement,
    description: 'Recent records each refinement trains on.',
  }),
  DEC_REFINE_HALF_LIFE_RECORDS: withDefault('20000', integer(1), {
    group: Refinement,
    description: 'Half-life, in records, of the running cluster-size estimate.',
  }),
  DEC_REFINE_LEARNING_RATE: withDefault('1', decimal({ exclusiveMin: 0 }), {
    group: Refinement,
    description:
      'SGD step size for the centroids in a refinement (the KL loss is a per-record mean, so steps near 1 are normal).',
  }),
  DEC_REFINE_ENCODER_LEARNING_RATE: withDefault('0.05', decimal({ exclusiveMin: 0 }), {
    group: Refinement,
    description: 'SGD step size for the encoder when DEC_REFINE_UPDATE_ENCODER is true.',
  }),
  DEC_REFINE_UPDATE_ENCODER: withDefault('false', boolean(), {
    group: Refinement,
    description: 'Refine the encoder too (otherwise only the centroids move).',
  }),
  DEC_REFINE_MAX_CENTROID_SHIFT: optional(decimal({ exclusiveMin: 0 }), {
    group: Refinement,
    defaultText: 'no limit',
    description: 'Reject a refinement whose centroids move further than this (embedding units).',
  }),
  DEC_REFINE_MAX_LOSS: optional(decimal({ exclusiveMin: 0 }), {
    group: Refinement,
    defaultText: 'no limit',
    description: 'Reject a refinement whose loss ends above this.',
  }),
  DEC_MIN_CLUSTER_SHARE: withDefault('0.005', decimal({ min: 0, max: 1 }), {
    group: Refinement,
    description:
      'A cluster whose share of recent records falls below this, and below half its share at bootstrap, is re-seeded by splitting the largest; one below half its bootstrap share is re-seeded earlier when the cluster that grew most holds two separate groups (docs/operations.md). 0: never re-seed.',
  }),
  DEC_REBOOTSTRAP_PSI_THRESHOLD: withDefault('0', decimal({ min: 0 }), {
    group: Refinement,
    description:
      'Population stability index of the cluster mix above which a shadow model is trained on the stream sample (it serves only if it beats the serving model; see DEC_RETRAIN_*); 0 turns it off.',
  }),
  DEC_REBOOTSTRAP_AFTER_MS: withDefault('600000', integer(0), {
    group: Refinement,
    description: 'How long the PSI must stay above its threshold before a new bootstrap.',
  }),

  DEC_RETRAIN_EVERY_RECORDS: withDefault('0', integer(0), {
    group: Refinement,
    description:
      'Train a shadow model on the stream sample after this many labelled records (the bootstrap window, which the sample also holds, does not count), in the refinement thread; it serves only if it beats the serving model on records neither trained on. 0: only on sustained drift (DEC_REBOOTSTRAP_PSI_THRESHOLD), or never when that is 0 too.',
  }),
  DEC_RETRAIN_SAMPLE_RECORDS: withDefault('10000', integer(1), {
    group: Refinement,
    description:
      'Records in the bounded sample of the stream a shadow model trains on (the memory bound of the retrain).',
  }),
  DEC_RETRAIN_SAMPLE_HALF_LIFE_RECORDS: withDefault('20000', integer(0), {
    group: Refinement,
    description:
      "Half-life, in records, of a record's chance to stay in the sample; 0 keeps a uniform sample of the whole stream.",
  }),
  DEC_RETRAIN_HOLDOUT_RECORDS: withDefault('2000', integer(1), {
    group: Refinement,
    description:
      'Records that must arrive after a shadow model is trained; the shadow and the serving model are compared on them.',
  }),
  DEC_RETRAIN_PROMOTION_MARGIN: withDefault('0.02', decimal({ min: 0, max: 0.99 }), {
    group: Refinement,
    description:
      "A shadow model is promoted only when its criterion (mean normalised cut plus the share of records it merges that the serving model keeps apart, lower is better) is below the serving model's times (1 - margin) x (1 - r)^DEC_RETRAIN_RELABEL_CHARGE, r being the share of recent records it would move to another id.",
  }),
  DEC_RETRAIN_RELABEL_CHARGE: withDefault('0', decimal({ min: 0, max: 100 }), {
    group: Refinement,
    description:
      'How much the records a shadow model would move to another id count against it: the promotion bar is multiplied by (1 - r)^charge, r being their share; 0 (the default) judges on the criterion alone, 3 asks a shadow that moves 8 % of the records to score 24 % below the serving model.',
  }),
  DEC_RETRAIN_MAX_RELABEL: withDefault('1', decimal({ min: 0, max: 1 }), {
    group: Refinement,
    description:
      'Most of the recent records a promoted shadow model may move from one cluster id to another id that both versions publish; a shadow that would move more is discarded, whatever its criterion, unless sustained drift started its retrain. Records that move to a fresh id (a group no id held) do not count. 1 (the default) sets no cap; 0.02 keeps 98 % of ids across promotions on stationary streams and can hold back a shadow that follows fast drift (docs/benchmarks.md).',
  }),
  DEC_RETRAIN_START: withDefault('fresh', oneOf(retrainStarts), {
    group: Refinement,
    description:
      "Where a shadow model's clustering starts. fresh: its own initialisation, as the bootstrap's (it may redraw every border). serving: the serving model's labels of the sample, distilled, then self-trained (a fifth of the training; it cannot split a cluster the serving model merged). hybrid: a fresh shadow first, then one started from the serving label wherever the two models hold the same group and from the fresh label elsewhere (1.2 to 1.5 times a fresh shadow's training). serving and hybrid kept more ids with small samples and cost accuracy with a larger one; see docs/benchmarks.md.",
  }),

  DEC_METRICS_PORT: withDefault('9464', integer(0, 65535), {
    group: Operations,
    description: 'Port of /metrics, /healthz and /readyz; 0 picks a free port.',
  }),
  DEC_SHUTDOWN_GRACE_MS: withDefault('30000', integer(0), {
    group: Operations,
    description: 'Longest drain on SIGTERM before the worker stops anyway.',
  }),
  DEC_HEAP_HEADROOM_MIB: withDefault('32', integer(0), {
    group: Operations,
    description:
      "How far the main thread's heap and buffers may grow past their level after the last full garbage collection before the worker runs one, between two fetches (a pause of tens of milliseconds while the next fetch is on its way). Keeps RSS flat under load; 0 leaves collections to V8, whose heap then saws up and down by 100 MiB or more.",
  }),
  DEC_LOG_LEVEL: withDefault('info', oneOf(logLevels), {
    group: Operations,
    description: 'debug, info, warn or error.',
  }),
} as const;

export type SettingName = keyof typeof definitions;

/** The parsed value of each setting; undefined only for optional settings left unset. */
export type SettingValues = {
  readonly [K in SettingName]: (typeof definitions)[K] extends SettingDefinition<infer T, infer H>
    ? H extends true
      ? T
      : T | undefined
    : never;
};

/** One row of the settings reference, for docs and for checking the Helm chart. */
export interface SettingInfo {
  /** The environment variable. */
  readonly name: SettingName;
  /** The Helm value that sets it (camelCase of the name without its DEC_ prefix). */
  readonly helmValue: string;
  /** The default as the variable's text, or how it is derived; undefined when none. */
  readonly default: string | undefined;
  readonly required: boolean;
  readonly secret: boolean;
  readonly group: SettingGroup;
  readonly description: string;
}

export function helmValueName(name: string): string {
  const words = name
    .replace(/^DEC_/, '')
    .toLowerCase()
    .split('_')
    .filter((w) => w !== '');
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

/** Machine-readable list of every setting, in documentation order. */
export const settings: readonly SettingInfo[] = Object.freeze(
  (Object.keys(definitions) as SettingName[]).map((name): SettingInfo => {
    const d: SettingDefinition<unknown, boolean> = definitions[name];
    return Object.freeze({
      name,
      helmValue: helmValueName(name),
      default: d.default ?? d.defaultText,
      required: d.required,
      secret: d.secret,
      group: d.group,
      description: d.description,
    });
  }),
);
