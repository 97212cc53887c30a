/**
 * librdkafka (PyPI's confluent-kafka, test/python/rdkafka_client.py) as a peer client for the
 * integration tests: the C client behind most Python, Go, .NET and C/C++ producers and consumers,
 * whose batches differ from the Java client's (raw snappy blocks, liblz4 and libzstd frames, its
 * own transaction markers).
 */
import { join } from 'node:path';
import { resolveRdkafkaPython } from '../../scripts/kafka/rdkafka.mjs';
import { parsePeerRecords, runPeer, type PeerRecord } from './peer-clients.js';

const script = join(import.meta.dirname, '..', 'python', 'rdkafka_client.py');
const quiet = (): void => undefined;

/** Runs rdkafka_client.py with `args`, `stdin` as its input; resolves with its standard output. */
function runPython(args: readonly string[], stdin = ''): Promise<string> {
  const python = resolveRdkafkaPython(undefined, quiet);
  return runPeer(`rdkafka_client ${args[0]}`, python, [script, ...args], stdin);
}

const lines = (values: readonly string[]): string => `${values.join('\n')}\n`;

/**
 * Produces `values` to partition 0 of `topic` as one batch compressed with `codec`: keys
 * `<keyPrefix>-<i>`, each with the header source=rdkafka-<codec>.
 */
export async function rdkafkaProduce(
  brokers: readonly string[],
  topic: string,
  codec: string,
  values: readonly string[],
  keyPrefix: string,
): Promise<void> {
  await runPython(['produce', brokers.join(','), topic, codec, keyPrefix], lines(values));
}

/**
 * Produces `values` to partition 0 of `topic` in transactions of a transactional producer, as
 * `plan` says: "c20,a10" commits the first 20 records and aborts the next 10. Keys
 * `<keyPrefix>-<i>`, each with the header txn=commit or txn=abort.
 */
export async function rdkafkaTransact(
  brokers: readonly string[],
  topic: string,
  codec: string,
  values: readonly string[],
  keyPrefix: string,
  plan: string,
): Promise<void> {
  await runPython(['transact', brokers.join(','), topic, codec, keyPrefix, plan], lines(values));
}

/** Reads `count` records of `topic` from the start with librdkafka's consumer (read_committed). */
export async function rdkafkaConsume(
  brokers: readonly string[],
  topic: string,
  count: number,
): Promise<PeerRecord[]> {
  return parsePeerRecords(await runPython(['consume', brokers.join(','), topic, String(count)]));
}
