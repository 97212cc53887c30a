/**
 * The Java Kafka client (test/java/JavaClient.java, run on the broker's own jars) as a second,
 * independent client for the integration tests, and a reader of the codec each stored record
 * batch carries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveKafka, runDir } from '../../scripts/kafka/broker.mjs';
import {
  parsePeerRecords,
  runPeer,
  valueLines,
  type ConsumeRecords,
  type ProduceBatch,
} from './peer-clients.js';

const source = join(import.meta.dirname, '..', 'java', 'JavaClient.java');
const quiet = (): void => undefined;

/** Runs JavaClient.java with `args`, `stdin` as its input; resolves with its standard output. */
function runJava(args: readonly string[], stdin = ''): Promise<string> {
  const classpath = `${resolveKafka(undefined, quiet)}/*`;
  return runPeer(`JavaClient ${args[0]}`, 'java', ['-cp', classpath, source, ...args], stdin);
}

/** The Java producer's batch: each record with the header source=java-<codec>. */
export const javaProduce: ProduceBatch = async (brokers, topic, codec, values, keyPrefix) => {
  const args = ['produce', brokers.join(','), topic, codec, String(values.length), keyPrefix];
  await runJava(args, valueLines(values));
};

/** The Java consumer. */
export const javaConsume: ConsumeRecords = async (brokers, topic, count) =>
  parsePeerRecords(await runJava(['consume', brokers.join(','), topic, String(count)]));

const codecNames = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/**
 * The codec of each record batch stored for `topic` partition `partition`, in offset order, read
 * from the local broker's first log segment: Kafka keeps a batch as its producer wrote it, so this
 * is the codec the producer chose. Undefined when the broker is not the local one started by the
 * project's scripts (its data directory is not here).
 *
 * Record batch layout (magic 2): base offset int64, batch length int32 (bytes after this field),
 * partition leader epoch int32, magic int8, CRC int32, attributes int16 (codec in bits 0-2).
 */
export function storedBatchCodecs(
  brokers: readonly string[],
  topic: string,
  partition = 0,
): string[] | undefined {
  const port = Number(brokers[0]?.split(':')[1]);
  const segment = join(runDir(port), 'data', `${topic}-${partition}`, '00000000000000000000.log');
  if (!existsSync(segment)) return undefined;
  const bytes = readFileSync(segment);
  const codecs: string[] = [];
  for (let at = 0; at + 23 <= bytes.length;) {
    const length = bytes.readInt32BE(at + 8);
    if (length <= 0) break;
    const isControl = (bytes.readInt16BE(at + 21) & 0x20) !== 0;
    if (!isControl) codecs.push(codecNames[bytes.readInt16BE(at + 21) & 0x07] ?? 'unknown');
    at += 12 + length;
  }
  return codecs;
}
