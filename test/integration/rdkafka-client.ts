/**
 * librdkafka (PyPI's confluent-kafka, test/python/rdkafka_client.py) as a peer client for the
 * integration tests: the C client behind most Python, Go, .NET and C/C++ producers and consumers,
 * whose batches differ from the Java client's (raw snappy blocks, liblz4 and libzstd frames, its
 * own transaction markers).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { resolveRdkafkaPython } from '../../scripts/kafka/rdkafka.mjs';
import { parsePeerRecords, type PeerRecord } from './java-client.js';

const script = join(import.meta.dirname, '..', 'python', 'rdkafka_client.py');
const quiet = (): void => undefined;

/** Runs rdkafka_client.py with `args`, `stdin` as its input; resolves with its standard output. */
function runPython(args: readonly string[], stdin = ''): Promise<string> {
  const child = spawn(resolveRdkafkaPython(undefined, quiet), [script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(`rdkafka_client ${args[0]} exited ${code}: ${Buffer.concat(err).toString()}`),
        );
    });
  });
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
