/**
 * Input from a client this project did not write: the Java client on the broker's own jars
 * produces batches in every codec; the worker labels them exactly once in each output codec, and
 * the Java consumer reads the output back with read_committed.
 */
import type { Kafka } from 'kafkajs';
import { javaConsume, javaProduce } from '../../test/integration/java-client.js';
import { WorkerProcess, chaosStream, mixtureValue, waitUntil } from './rig.js';
import type { ScenarioResult } from './scenario.js';

const InputCodecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

async function oneOutputCodec(
  kafka: Kafka,
  bootstrap: string,
  outputCodec: string,
  perCodec: number,
): Promise<{ produced: number; read: number; distinct: number; seconds: number }> {
  const stream = await chaosStream(kafka, bootstrap, `java-${outputCodec}`, 1);
  const started = Date.now();
  try {
    let next = 0;
    for (const codec of InputCodecs) {
      const values = Array.from({ length: perCodec }, (_, j) => mixtureValue(next + j));
      await javaProduce([bootstrap], stream.input, codec, values, `java-${codec}`);
      next += perCodec;
    }
    const env = stream.env({ DEC_DELIVERY: 'exactly-once', DEC_OUTPUT_COMPRESSION: outputCodec });
    const worker = await WorkerProcess.start(env);
    try {
      await waitUntil(
        async () => (await worker.labelled()) >= next,
        240_000,
        'every record labelled',
      );
      const records = await javaConsume([bootstrap], stream.output, next);
      await worker.stop();
      return {
        produced: next,
        read: records.length,
        distinct: new Set(records.map((r) => r.key)).size,
        seconds: Math.round((Date.now() - started) / 1000),
      };
    } finally {
      worker.kill('SIGKILL');
    }
  } finally {
    await stream.remove();
  }
}

export async function foreignClientScenario(
  kafka: Kafka,
  bootstrap: string,
  outputCodecs: readonly string[],
  perCodec: number,
): Promise<ScenarioResult> {
  const figures: Record<string, number | string> = {};
  let passed = true;
  for (const output of outputCodecs) {
    const r = await oneOutputCodec(kafka, bootstrap, output, perCodec);
    figures[`${output}OutRecords`] = r.produced;
    figures[`${output}OutReadByJava`] = r.read;
    figures[`${output}OutDistinct`] = r.distinct;
    passed &&= r.read === r.produced && r.distinct === r.produced;
  }
  return {
    name: 'foreign-client',
    passed,
    figures,
    notes: [
      `the Java client produced ${perCodec} records in each of ${InputCodecs.join(', ')} batches ` +
        'to one topic; the worker labelled them exactly-once with each output codec listed; the Java ' +
        'consumer read the output with read_committed (Read, Distinct keys)',
    ],
  };
}
