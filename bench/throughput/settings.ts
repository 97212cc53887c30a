/**
 * Sizes and switches of the throughput benchmark, read once from the environment. BENCH_QUICK=1
 * shrinks every size so the whole run takes a few minutes; each BENCH_* variable overrides its own.
 */
import { DefaultFetchBytesPerPartition } from '../../src/kafka/kafka-record-stream.js';

export interface BenchSettings {
  readonly brokers: readonly string[];
  readonly quick: boolean;
  readonly partitions: number;
  /** Rounds of the throughput phases (interleaved); each phase reports its median round. */
  readonly repeats: number;
  readonly tabularRecords: number;
  readonly tabularDims: number;
  readonly tabularClusters: number;
  readonly mnistRecords: number;
  /** Offered rates of the latency measurements, as fractions of the measured maximum. */
  readonly latencyFractions: readonly number[];
  /** Seconds of rate-limited production per latency measurement. */
  readonly latencySeconds: number;
  /** Seconds discarded at the start of a latency measurement. */
  readonly latencyWarmupSeconds: number;
  readonly soakRecords: number;
  /** RSS is sampled every this many labelled records during the soak. */
  readonly soakSampleEvery: number;
  /** Phases to run, in order; a subset of `allPhases`. */
  readonly phases: readonly PhaseName[];
  /** Write a V8 CPU profile of each measured child into this directory. */
  readonly cpuProfileDir: string | undefined;
  readonly output: string;
}

export const allPhases = [
  'tabular-pass-kafkajs',
  'tabular-pass-platformatic',
  'tabular-worker-alo',
  // The same worker with DEC_OUTPUT_DETAIL=full: what the runner-up and margin cost.
  'tabular-worker-alo-full',
  'tabular-worker-eos',
  'tabular-latency-alo',
  'tabular-latency-eos',
  'mnist-pass-kafkajs',
  'mnist-pass-platformatic',
  'mnist-worker-alo',
  'mnist-worker-eos',
  'mnist-latency-alo',
] as const;
export type PhaseName = (typeof allPhases)[number];

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got "${text}"`);
  }
  return value;
}

function fractions(text: string): readonly number[] {
  const values = text.split(',').map((f) => Number(f.trim()));
  if (values.length === 0 || values.some((v) => !(v > 0 && v <= 1))) {
    throw new Error(`BENCH_LATENCY_FRACTIONS must be fractions in (0, 1], got "${text}"`);
  }
  return values;
}

function phaseList(text: string | undefined): readonly PhaseName[] {
  if (text === undefined || text.trim() === '') return allPhases;
  const wanted = text.split(',').map((p) => p.trim());
  const known = new Set<string>(allPhases);
  const unknown = wanted.filter((p) => !known.has(p));
  if (unknown.length > 0) {
    throw new Error(`BENCH_PHASES names unknown phases: ${unknown.join(', ')}`);
  }
  return allPhases.filter((p) => wanted.includes(p));
}

export function loadBenchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const brokers = (env.KAFKA_BROKERS ?? `127.0.0.1:${env.KAFKA_PORT ?? '9092'}`)
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  return {
    brokers,
    quick,
    partitions: positiveInt(env, 'BENCH_PARTITIONS', 4),
    repeats: positiveInt(env, 'BENCH_REPEATS', quick ? 1 : 5),
    tabularRecords: positiveInt(env, 'BENCH_TABULAR_RECORDS', quick ? 40_000 : 200_000),
    tabularDims: positiveInt(env, 'BENCH_TABULAR_DIMS', 16),
    tabularClusters: positiveInt(env, 'BENCH_TABULAR_CLUSTERS', 8),
    mnistRecords: positiveInt(env, 'BENCH_MNIST_RECORDS', quick ? 10_000 : 50_000),
    latencyFractions: fractions(env.BENCH_LATENCY_FRACTIONS ?? '0.5,0.25'),
    latencySeconds: positiveInt(env, 'BENCH_LATENCY_SECONDS', quick ? 10 : 30),
    latencyWarmupSeconds: positiveInt(env, 'BENCH_LATENCY_WARMUP_SECONDS', quick ? 2 : 5),
    soakRecords: positiveInt(env, 'BENCH_SOAK_RECORDS', quick ? 100_000 : 1_000_000),
    soakSampleEvery: positiveInt(env, 'BENCH_SOAK_SAMPLE_EVERY', quick ? 10_000 : 50_000),
    phases: phaseList(env.BENCH_PHASES),
    cpuProfileDir: env.BENCH_CPU_PROFILE_DIR === '' ? undefined : env.BENCH_CPU_PROFILE_DIR,
    output: env.BENCH_OUTPUT ?? 'bench/results/throughput.json',
  };
}

/**
 * Bytes one fetch takes per partition, for the worker (DEC_FETCH_MAX_BYTES_PER_PARTITION) and the
 * pass-throughs alike: BENCH_FETCH_BYTES, else the worker's default. Read in each measured process.
 */
export function fetchBytesPerPartition(env: NodeJS.ProcessEnv = process.env): number {
  return positiveInt(env, 'BENCH_FETCH_BYTES', DefaultFetchBytesPerPartition);
}
