import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Config } from './config.js';
import type { SettingDefinition, SettingName, SettingValues } from './settings.js';
import { definitions } from './settings.js';

/** Raw user input: environment variables (or a literal object in tests). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Config file path; overrides DEC_CONFIG_FILE. */
  readonly file?: string;
}

interface Issue {
  path: string;
  message: string;
}

const settingNames = Object.keys(definitions) as SettingName[];
const isSettingName = (key: string): key is SettingName => Object.hasOwn(definitions, key);

/**
 * Reads every setting from `env`, falling back to the optional JSON config file and then to the
 * defaults; validates them all and throws one ConfigError naming every bad variable. The result
 * is deeply frozen.
 */
export function loadConfig(env: ConfigEnv, options: LoadConfigOptions = {}): Config {
  const issues: Issue[] = [];
  const filePath = options.file ?? blankToUndefined(env.DEC_CONFIG_FILE);
  const bad = new Set<SettingName>();
  const fromFile = filePath === undefined ? {} : readConfigFile(filePath, issues, bad);

  const parsed: Partial<Record<SettingName, unknown>> = {};
  for (const name of settingNames) {
    if (bad.has(name) && blankToUndefined(env[name]) === undefined) continue;
    const definition: SettingDefinition<unknown, boolean> = definitions[name];
    const raw = blankToUndefined(env[name]) ?? fromFile[name] ?? definition.default;
    if (raw === undefined) {
      if (definition.required) {
        issues.push({ path: name, message: 'is required' });
        bad.add(name);
      }
      continue;
    }
    const result = definition.schema.safeParse(raw);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      issues.push({ path: name, message: result.error.issues[0]?.message ?? 'is invalid' });
      bad.add(name);
    }
  }
  // Every setting that is not bad now holds a value of its type (or undefined when optional).
  const values = parsed as SettingValues;
  const minRecords = checkCombinations(values, bad, issues);

  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(resolve(values, minRecords));
}

/** Rules between settings; each runs only when the settings it reads are valid. */
function checkCombinations(v: SettingValues, bad: ReadonlySet<SettingName>, issues: Issue[]) {
  const ok = (...names: SettingName[]) => names.every((n) => !bad.has(n));
  const fail = (path: SettingName, message: string) => issues.push({ path, message });

  checkKafkaSecurity(v, ok, fail);

  if (
    ok('DEC_AUGMENT_IMAGE', 'DEC_SCALING') &&
    v.DEC_AUGMENT_IMAGE !== undefined &&
    v.DEC_SCALING === 'per-feature'
  ) {
    fail('DEC_AUGMENT_IMAGE', 'needs DEC_SCALING global, none or auto (not per-feature)');
  }
  if (ok('DEC_INPUT_TOPIC', 'DEC_OUTPUT_TOPIC') && v.DEC_INPUT_TOPIC === v.DEC_OUTPUT_TOPIC) {
    fail('DEC_OUTPUT_TOPIC', 'must differ from DEC_INPUT_TOPIC');
  }
  checkClustersTopic(v, ok, fail);
  if (
    ok('DEC_DLQ_TOPIC', 'DEC_INPUT_TOPIC', 'DEC_OUTPUT_TOPIC') &&
    v.DEC_DLQ_TOPIC !== undefined &&
    (v.DEC_DLQ_TOPIC === v.DEC_INPUT_TOPIC || v.DEC_DLQ_TOPIC === v.DEC_OUTPUT_TOPIC)
  ) {
    fail('DEC_DLQ_TOPIC', 'must differ from DEC_INPUT_TOPIC and DEC_OUTPUT_TOPIC');
  }

  if (ok('DEC_FORMAT', 'DEC_AVRO_SCHEMA', 'DEC_SCHEMA_REGISTRY_URL')) {
    if (
      v.DEC_FORMAT === 'avro' &&
      v.DEC_AVRO_SCHEMA === undefined &&
      v.DEC_SCHEMA_REGISTRY_URL === undefined
    ) {
      fail(
        'DEC_AVRO_SCHEMA',
        'is required when DEC_FORMAT is avro and DEC_SCHEMA_REGISTRY_URL is unset',
      );
    }
    if (v.DEC_FORMAT === 'json' && v.DEC_SCHEMA_REGISTRY_URL !== undefined) {
      fail('DEC_SCHEMA_REGISTRY_URL', 'is only used with DEC_FORMAT avro');
    }
    if (v.DEC_FORMAT === 'json' && v.DEC_AVRO_SCHEMA !== undefined) {
      fail('DEC_AVRO_SCHEMA', 'is only used with DEC_FORMAT avro');
    }
  }

  checkGroupTiming(v, ok, fail);

  checkClusterRange(v, ok, fail);
  const minRecords = checkBootstrapSizes(v, ok, fail);
  if (ok(...ClusterNames, 'DEC_REFINE_WINDOW') && v.DEC_REFINE_WINDOW < mostClusters(v)) {
    fail('DEC_REFINE_WINDOW', `must be >= DEC_CLUSTERS (${mostClusters(v)})`);
  }
  return minRecords;
}

type SettingsValid = (...names: SettingName[]) => boolean;
type SettingFails = (path: SettingName, message: string) => void;

/** SASL needs its credentials; a client certificate needs its key and the other way round. */
function checkKafkaSecurity(v: SettingValues, ok: SettingsValid, fail: SettingFails): void {
  if (ok('KAFKA_SASL_MECHANISM') && v.KAFKA_SASL_MECHANISM !== 'none') {
    const when = `is required when KAFKA_SASL_MECHANISM is ${v.KAFKA_SASL_MECHANISM}`;
    if (ok('KAFKA_SASL_USERNAME') && v.KAFKA_SASL_USERNAME === undefined) {
      fail('KAFKA_SASL_USERNAME', when);
    }
    if (ok('KAFKA_SASL_PASSWORD') && v.KAFKA_SASL_PASSWORD === undefined) {
      fail('KAFKA_SASL_PASSWORD', when);
    }
  }
  if (ok('KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE')) {
    if (v.KAFKA_SSL_CERT_FILE !== undefined && v.KAFKA_SSL_KEY_FILE === undefined) {
      fail('KAFKA_SSL_KEY_FILE', 'is required with KAFKA_SSL_CERT_FILE');
    }
    if (v.KAFKA_SSL_KEY_FILE !== undefined && v.KAFKA_SSL_CERT_FILE === undefined) {
      fail('KAFKA_SSL_CERT_FILE', 'is required with KAFKA_SSL_KEY_FILE');
    }
  }
}

const ClusterNames: SettingName[] = ['DEC_CLUSTERS', 'DEC_CLUSTERS_MIN', 'DEC_CLUSTERS_MAX'];

/** The most clusters training may ask for: with DEC_CLUSTERS=auto, the largest k it may choose. */
function mostClusters(v: SettingValues): number {
  return v.DEC_CLUSTERS === 'auto' ? (v.DEC_CLUSTERS_MAX ?? AUTO_CLUSTERS_MAX) : v.DEC_CLUSTERS;
}

/**
 * The bootstrap window must hold at least one record per cluster; returns the fewest records a
 * bootstrap trains on (DEC_BOOTSTRAP_MIN_RECORDS, or its default).
 */
function checkBootstrapSizes(v: SettingValues, ok: SettingsValid, fail: SettingFails): number {
  let minRecords = 0;
  if (ok(...ClusterNames, 'DEC_BOOTSTRAP_RECORDS', 'DEC_BOOTSTRAP_MIN_RECORDS')) {
    const k = mostClusters(v);
    const records = v.DEC_BOOTSTRAP_RECORDS;
    minRecords = v.DEC_BOOTSTRAP_MIN_RECORDS ?? Math.min(records, Math.max(500, k));
    if (records < k) {
      fail('DEC_BOOTSTRAP_RECORDS', `must be >= DEC_CLUSTERS (${k})`);
    } else if (minRecords < k) {
      fail('DEC_BOOTSTRAP_MIN_RECORDS', `must be >= DEC_CLUSTERS (${k})`);
    } else if (minRecords > records) {
      fail('DEC_BOOTSTRAP_MIN_RECORDS', `must be <= DEC_BOOTSTRAP_RECORDS (${records})`);
    }
  }
  return minRecords;
}

/** The default range of DEC_CLUSTERS=auto, as `dec-stream suggest-k`'s. */
const AUTO_CLUSTERS_MIN = 2;
const AUTO_CLUSTERS_MAX = 20;

/** DEC_CLUSTERS_MIN and _MAX: only with DEC_CLUSTERS=auto, and in order. */
function checkClusterRange(
  v: SettingValues,
  ok: (...names: SettingName[]) => boolean,
  fail: (path: SettingName, message: string) => void,
): void {
  if (!ok('DEC_CLUSTERS', 'DEC_CLUSTERS_MIN', 'DEC_CLUSTERS_MAX')) return;
  if (v.DEC_CLUSTERS !== 'auto') {
    if (v.DEC_CLUSTERS_MIN !== undefined)
      fail('DEC_CLUSTERS_MIN', 'is only used with DEC_CLUSTERS=auto');
    if (v.DEC_CLUSTERS_MAX !== undefined)
      fail('DEC_CLUSTERS_MAX', 'is only used with DEC_CLUSTERS=auto');
    return;
  }
  const min = v.DEC_CLUSTERS_MIN ?? AUTO_CLUSTERS_MIN;
  const max = v.DEC_CLUSTERS_MAX ?? AUTO_CLUSTERS_MAX;
  if (max < min) fail('DEC_CLUSTERS_MAX', `must be >= DEC_CLUSTERS_MIN (${min})`);
}

/** The broker defaults of group.min.session.timeout.ms and group.max.session.timeout.ms. */
const brokerMinSessionMs = 6_000;
const brokerMaxSessionMs = 1_800_000;

/**
 * Group timing: the broker refuses a join whose session timeout is outside its bounds; Kafka's
 * advice is heartbeats below a third of the session, so two can be lost without losing the
 * partitions; and a rebalance shorter than the session would drop members still finishing a batch.
 */
/** The clusters topic is compacted and holds profiles only: it must be a topic of its own. */
function checkClustersTopic(
  v: SettingValues,
  ok: (...names: SettingName[]) => boolean,
  fail: (path: SettingName, message: string) => void,
): void {
  if (!ok('DEC_CLUSTERS_TOPIC', 'DEC_INPUT_TOPIC', 'DEC_OUTPUT_TOPIC', 'DEC_DLQ_TOPIC')) return;
  const clusters = v.DEC_CLUSTERS_TOPIC;
  if (clusters === undefined) return;
  const dlq = v.DEC_DLQ_TOPIC ?? `${v.DEC_INPUT_TOPIC}.dlq`;
  if ([v.DEC_INPUT_TOPIC, v.DEC_OUTPUT_TOPIC, dlq].includes(clusters)) {
    fail(
      'DEC_CLUSTERS_TOPIC',
      'must differ from DEC_INPUT_TOPIC, DEC_OUTPUT_TOPIC and DEC_DLQ_TOPIC',
    );
  }
}

function checkGroupTiming(
  v: SettingValues,
  ok: (...names: SettingName[]) => boolean,
  fail: (path: SettingName, message: string) => void,
): void {
  const session = v.DEC_SESSION_TIMEOUT_MS;
  if (
    ok('DEC_SESSION_TIMEOUT_MS') &&
    (session < brokerMinSessionMs || session > brokerMaxSessionMs)
  ) {
    fail(
      'DEC_SESSION_TIMEOUT_MS',
      `must be within the broker's default group session bounds ${brokerMinSessionMs}..${brokerMaxSessionMs}`,
    );
  }
  if (
    ok('DEC_SESSION_TIMEOUT_MS', 'DEC_HEARTBEAT_INTERVAL_MS') &&
    v.DEC_HEARTBEAT_INTERVAL_MS * 3 >= session
  ) {
    fail(
      'DEC_HEARTBEAT_INTERVAL_MS',
      `must be below a third of DEC_SESSION_TIMEOUT_MS (${session})`,
    );
  }
  if (
    ok('DEC_SESSION_TIMEOUT_MS', 'DEC_REBALANCE_TIMEOUT_MS') &&
    v.DEC_REBALANCE_TIMEOUT_MS < session
  ) {
    fail('DEC_REBALANCE_TIMEOUT_MS', `must be >= DEC_SESSION_TIMEOUT_MS (${session})`);
  }
}

// eslint-disable-next-line max-lines-per-function -- one literal maps every setting onto the Config tree, so the tree's shape reads in one place
function resolve(v: SettingValues, minRecords: number): Config {
  const mechanism = v.KAFKA_SASL_MECHANISM;
  return {
    kafka: {
      brokers: v.KAFKA_BROKERS,
      clientId: v.KAFKA_CLIENT_ID,
      sasl:
        mechanism === 'none'
          ? undefined
          : {
              mechanism,
              username: v.KAFKA_SASL_USERNAME ?? '',
              password: v.KAFKA_SASL_PASSWORD ?? '',
            },
      ssl: {
        enabled: v.KAFKA_SSL,
        caFile: v.KAFKA_SSL_CA_FILE,
        certFile: v.KAFKA_SSL_CERT_FILE,
        keyFile: v.KAFKA_SSL_KEY_FILE,
        rejectUnauthorized: v.KAFKA_SSL_REJECT_UNAUTHORIZED,
      },
    },
    stream: {
      inputTopic: v.DEC_INPUT_TOPIC,
      outputTopic: v.DEC_OUTPUT_TOPIC,
      dlqTopic: v.DEC_DLQ_TOPIC ?? `${v.DEC_INPUT_TOPIC}.dlq`,
      clustersTopic: v.DEC_CLUSTERS_TOPIC ?? `${v.DEC_OUTPUT_TOPIC}.clusters`,
      outputDetail: v.DEC_OUTPUT_DETAIL,
      groupId: v.DEC_GROUP_ID,
      sessionTimeoutMs: v.DEC_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: v.DEC_HEARTBEAT_INTERVAL_MS,
      rebalanceTimeoutMs: v.DEC_REBALANCE_TIMEOUT_MS,
      features: v.DEC_FEATURES,
      format: v.DEC_FORMAT,
      avroSchemaFile: v.DEC_AVRO_SCHEMA,
      schemaRegistryUrl: v.DEC_SCHEMA_REGISTRY_URL,
      delivery: v.DEC_DELIVERY,
      transactionalIdPrefix: v.DEC_TRANSACTIONAL_ID_PREFIX,
      batchMaxRecords: v.DEC_BATCH_MAX_RECORDS,
      maxInFlightBatches: v.DEC_MAX_IN_FLIGHT_BATCHES,
      fetchMaxBytesPerPartition: v.DEC_FETCH_MAX_BYTES_PER_PARTITION,
      labelThread: v.DEC_LABEL_THREAD,
      publishThread: v.DEC_PUBLISH_THREAD,
      outputCompression: v.DEC_OUTPUT_COMPRESSION,
      scaleOut: v.DEC_SCALE_OUT,
      modelTopic: v.DEC_MODEL_TOPIC ?? `${v.DEC_GROUP_ID}.models`,
      controlTopic: `${v.DEC_GROUP_ID}.control`,
    },
    bootstrap: {
      records: v.DEC_BOOTSTRAP_RECORDS,
      minRecords,
      maxWaitMs: v.DEC_BOOTSTRAP_MAX_WAIT_MS,
    },
    model: {
      clusters: v.DEC_CLUSTERS,
      ...(v.DEC_CLUSTERS === 'auto'
        ? {
            clusterRange: {
              min: v.DEC_CLUSTERS_MIN ?? AUTO_CLUSTERS_MIN,
              max: v.DEC_CLUSTERS_MAX ?? AUTO_CLUSTERS_MAX,
            },
          }
        : {}),
      dir: v.DEC_MODEL_DIR,
      snapshotKeep: v.DEC_SNAPSHOT_KEEP,
      seed: v.DEC_SEED,
      method: v.DEC_METHOD,
      initialisation: v.DEC_INIT,
      guard: v.DEC_GUARD,
      hiddenSizes:
        v.DEC_HIDDEN === undefined || v.DEC_HIDDEN.length === 0 ? undefined : v.DEC_HIDDEN,
      embeddingSize: v.DEC_EMBEDDING,
      pretrainEpochs: v.DEC_PRETRAIN_EPOCHS,
      batchSize: v.DEC_BATCH_SIZE,
      updateInterval: v.DEC_UPDATE_INTERVAL,
      maxIterations: v.DEC_MAX_ITERATIONS,
      backend: v.DEC_BACKEND,
      scaling: v.DEC_SCALING,
      columnScreening: v.DEC_COLUMN_SCREENING,
      augmentImage: v.DEC_AUGMENT_IMAGE,
    },
    refine: {
      everyRecords: v.DEC_REFINE_EVERY_RECORDS,
      intervalMs: v.DEC_REFINE_INTERVAL_MS,
      window: v.DEC_REFINE_WINDOW,
      halfLifeRecords: v.DEC_REFINE_HALF_LIFE_RECORDS,
      learningRate: v.DEC_REFINE_LEARNING_RATE,
      encoderLearningRate: v.DEC_REFINE_ENCODER_LEARNING_RATE,
      updateEncoder: v.DEC_REFINE_UPDATE_ENCODER,
      maxCentroidShift: v.DEC_REFINE_MAX_CENTROID_SHIFT,
      maxLoss: v.DEC_REFINE_MAX_LOSS,
      minClusterShare: v.DEC_MIN_CLUSTER_SHARE,
      rebootstrapPsiThreshold: v.DEC_REBOOTSTRAP_PSI_THRESHOLD,
      rebootstrapAfterMs: v.DEC_REBOOTSTRAP_AFTER_MS,
      retrainEveryRecords: v.DEC_RETRAIN_EVERY_RECORDS,
      retrainSampleRecords: v.DEC_RETRAIN_SAMPLE_RECORDS,
      retrainSampleHalfLifeRecords: v.DEC_RETRAIN_SAMPLE_HALF_LIFE_RECORDS,
      retrainHoldoutRecords: v.DEC_RETRAIN_HOLDOUT_RECORDS,
      retrainPromotionMargin: v.DEC_RETRAIN_PROMOTION_MARGIN,
      retrainRelabelCharge: v.DEC_RETRAIN_RELABEL_CHARGE,
      retrainMaxRelabel: v.DEC_RETRAIN_MAX_RELABEL,
      retrainStart: v.DEC_RETRAIN_START,
    },
    metricsPort: v.DEC_METRICS_PORT,
    shutdownGraceMs: v.DEC_SHUTDOWN_GRACE_MS,
    heapHeadroomMiB: v.DEC_HEAP_HEADROOM_MIB,
    logLevel: v.DEC_LOG_LEVEL,
  };
}

/**
 * The config file: one JSON object keyed by the variable names. Values may be strings, numbers,
 * booleans or lists (joined with commas); null means unset.
 */
function readConfigFile(
  path: string,
  issues: Issue[],
  bad: Set<SettingName>,
): Partial<Record<SettingName, string>> {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    issues.push({ path: 'DEC_CONFIG_FILE', message: `${path} ${reason}` });
    return {};
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    issues.push({ path: 'DEC_CONFIG_FILE', message: `${path} must hold one JSON object` });
    return {};
  }
  const values: Partial<Record<SettingName, string>> = {};
  for (const [key, value] of Object.entries(content)) {
    if (!isSettingName(key) || key === 'DEC_CONFIG_FILE') {
      issues.push({ path: key, message: `is not a setting (in ${path})` });
      continue;
    }
    const text = fileValueText(value);
    if (text === null) {
      issues.push({ path: key, message: `must be a string, number, boolean or list (in ${path})` });
      bad.add(key);
    } else if (text !== undefined) {
      values[key] = text;
    }
  }
  return values;
}

function fileValueText(value: unknown): string | undefined | null {
  if (value === null) return undefined;
  if (typeof value === 'string') return blankToUndefined(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return value.join(',');
  }
  return null;
}

/** Unset and blank are the same: Helm templates render unset values as empty strings. */
function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
