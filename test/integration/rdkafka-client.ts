/**
 * librdkafka (PyPI's confluent-kafka, test/python/rdkafka_client.py) as a peer client for the
 * integration tests: the C client behind most Python, Go, .NET and C/C++ producers and consumers,
 * whose batches differ from the Java client's (raw snappy blocks, liblz4 and libzstd frames, its
 * own transaction markers).
 */
import { join } from 'node:path';
import { resolveRdkafkaPython } from '../../scripts/kafka/rdkafka.mjs';
import {
  parsePeerRecords,
  runPeer,
  valueLines,
  type ConsumeRecords,
  type ProduceBatch,
} from './peer-clients.js';

const script = join(import.meta.dirname, '..', 'python', 'rdkafka_client.py');
const quiet = (): void => undefined;

/** Runs rdkafka_client.py with `args`, `stdin` as its input; resolves with its standard output. */
function runPython(args: readonly string[], stdin = ''): Promise<string> {
  const python = resolveRdkafkaPython(undefined, quiet);
  return runPeer(`rdkafka_client ${args[0]}`, python, [script, ...args], stdin);
}

/** librdkafka's batch: each record with the header source=rdkafka-<codec>. */
export const rdkafkaProduce: ProduceBatch = async (brokers, topic, codec, values, keyPrefix) => {
  await runPython(['produce', brokers.join(','), topic, codec, keyPrefix], valueLines(values));
};

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
  await runPython(
    ['transact', brokers.join(','), topic, codec, keyPrefix, plan],
    valueLines(values),
  );
}

/** librdkafka's consumer. */
export const rdkafkaConsume: ConsumeRecords = async (brokers, topic, count) =>
  parsePeerRecords(await runPython(['consume', brokers.join(','), topic, String(count)]));
