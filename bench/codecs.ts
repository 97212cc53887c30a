/**
 * `npm run bench:codecs`: what each DEC_OUTPUT_COMPRESSION codec costs per record. A batch of
 * labelled JSON records (as the worker writes them: input fields, cluster, confidence, model
 * version, the model-version header) is encoded the way kafkajs encodes a record batch's records,
 * then compressed and decompressed through the codecs kafkajs is given (gzip: its own). Each codec
 * runs in rounds of at least 250 ms; the median round is reported. Writes
 * bench/results/codecs.json and prints a table.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import type { OutputCompression } from '../src/config/config.js';
import { compressionType, registerCompressionCodecs } from '../src/kafka/compression.js';
import { envNumber } from './common/args.js';
import { printDocTable } from './common/print.js';
import { resultFile, runFacts, writeResult } from './common/results.js';
import { median } from './common/stats.js';
import { stopwatch } from './common/timing.js';

interface KafkajsEncoder {
  writeEncoderArray(encoders: readonly KafkajsEncoder[]): KafkajsEncoder;
  readonly buffer: Buffer;
}
interface Codec {
  compress(encoder: KafkajsEncoder): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
const load = createRequire(import.meta.url);
const Encoder = load('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder;
const Record = load('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: {
  offsetDelta: number;
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}) => KafkajsEncoder;

const batchRecords = envNumber('BENCH_CODEC_RECORDS', 1000);
const roundMs = 250;
const rounds = envNumber('BENCH_CODEC_ROUNDS', 7);
const codecs: readonly Exclude<OutputCompression, 'none'>[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** Deterministic pseudo-random numbers, so every run compresses the same bytes. */
function numbers(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** The records of one labelled batch, encoded as kafkajs puts them in a record batch. */
function labelledBatch(records: number): Buffer {
  const random = numbers(11);
  const encoders = Array.from({ length: records }, (_, i) => {
    const value: Record<string, unknown> = { id: `order-${100_000 + i}`, region: `r${i % 5}` };
    for (let f = 0; f < 8; f++) value[`f${f}`] = Math.round((random() * 20 - 10) * 1e6) / 1e6;
    value.cluster = Math.floor(random() * 10);
    value.confidence = Math.round((0.5 + random() / 2) * 1e4) / 1e4;
    value.model_version = 3;
    return Record({
      offsetDelta: i,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(JSON.stringify(value)),
      headers: { 'dec-model-version': '3' },
    });
  });
  return new Encoder().writeEncoderArray(encoders).buffer;
}

/** Median records/s of `rounds` rounds, each repeating `work` for at least `roundMs`. */
async function recordsPerSecond(work: () => Promise<unknown>): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const clock = stopwatch();
    let done = 0;
    while (clock.ms() < roundMs) {
      await work();
      done++;
    }
    rates.push((done * batchRecords) / clock.seconds());
  }
  return Math.round(median(rates));
}

interface CodecResult {
  readonly compressRecordsPerS: number;
  readonly decompressRecordsPerS: number;
  /** Records/s of compressing and decompressing each record once: 1 / (1/c + 1/d). */
  readonly roundTripRecordsPerS: number;
  readonly compressedBytes: number;
  readonly ratio: number;
}

async function measure(codec: Codec, records: Buffer): Promise<CodecResult> {
  const encoder = { buffer: records } as KafkajsEncoder;
  const compressed = await codec.compress(encoder);
  if (!(await codec.decompress(compressed)).equals(records)) throw new Error('round trip differs');
  const compress = await recordsPerSecond(() => codec.compress(encoder));
  const decompress = await recordsPerSecond(() => codec.decompress(compressed));
  return {
    compressRecordsPerS: compress,
    decompressRecordsPerS: decompress,
    roundTripRecordsPerS: Math.round(1 / (1 / compress + 1 / decompress)),
    compressedBytes: compressed.length,
    ratio: Math.round((records.length / compressed.length) * 100) / 100,
  };
}

async function main(): Promise<void> {
  registerCompressionCodecs();
  const records = labelledBatch(batchRecords);
  const results: Record<string, CodecResult> = {};
  for (const name of codecs) {
    const codec = kafkajs.CompressionCodecs[compressionType(name) as 1 | 2 | 3 | 4]() as Codec;
    results[name] = await measure(codec, records);
  }
  const out = {
    ...runFacts(),
    batch: { records: batchRecords, bytes: records.length },
    roundMs,
    rounds,
    codecs: results,
  };
  writeResult(resultFile('codecs'), out);
  printDocTable('codecs', { codecs: out });
}

await main();
