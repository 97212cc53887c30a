import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { startWorker } from '../../src/run-worker.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { ReadMessage } from './worker-harness.js';
import { mixtureMessages, produce, readTopic, scenario } from './worker-harness.js';

/** Runs the worker until `count` labelled records and `dead` dead letters are on its topics. */
async function labelAll(
  t: TestContext,
  env: Record<string, string>,
  topics: { kafka: Parameters<typeof readTopic>[0]; output: string; dlq: string },
  count: number,
  dead: number,
): Promise<{ out: ReadMessage[]; dlq: ReadMessage[]; logs: string[] }> {
  const logs: string[] = [];
  const running = await startWorker(loadConfig(env), {
    logger: createLogger({ level: 'info', write: (line) => logs.push(line) }),
    http: false,
  });
  t.after(() => running.close());
  const out = await readTopic(topics.kafka, topics.output, count, { settleMs: 500 });
  const dlq = await readTopic(topics.kafka, topics.dlq, dead, { settleMs: 200 });
  await running.close();
  return { out, dlq, logs };
}

void test('labelling and producing on threads write the same bytes and dead letters as the main thread alone', async (t) => {
  const s = await scenario(t);
  const good = mixtureMessages(320).range(0, 320);
  const messages = [
    ...good.slice(0, 200),
    { key: 'poison-0', value: 'not json {' },
    { key: 'poison-1', value: '{"id":"t","f0":1,"f1":2,"f2":"abc","f3":4}' },
    ...good.slice(200),
  ];
  await produce(s.kafka, s.input, messages);

  const onThread = await labelAll(
    t,
    s.env({ DEC_LABEL_THREAD: 'on', DEC_PUBLISH_THREAD: 'on' }),
    { kafka: s.kafka, output: s.output, dlq: s.dlq },
    good.length,
    2,
  );
  assert.ok(
    onThread.logs.some((l) => l.includes('labelling in a worker thread')),
    'the worker says it labels on a thread',
  );
  assert.ok(
    onThread.logs.some((l) => l.includes('producing on a worker thread')),
    'the worker says it produces on a thread',
  );

  // Same records and the saved model version, new group and topics, labelled in the main thread.
  const output = `${s.input}.main`;
  const dlq = `${s.input}.main-dlq`;
  const inMain = await labelAll(
    t,
    s.env({
      DEC_LABEL_THREAD: 'off',
      DEC_PUBLISH_THREAD: 'off',
      DEC_GROUP_ID: `${s.group}-main`,
      DEC_OUTPUT_TOPIC: output,
      DEC_DLQ_TOPIC: dlq,
    }),
    { kafka: s.kafka, output, dlq },
    good.length,
    2,
  );
  assert.ok(inMain.logs.some((l) => l.includes('labelling in the main thread')));
  assert.ok(inMain.logs.some((l) => l.includes('producing on the main thread')));

  const byKey = (messages: readonly ReadMessage[]): Map<string, unknown> =>
    new Map(messages.map((m) => [m.key, { value: m.value?.toString('hex'), headers: m.headers }]));
  assert.equal(onThread.out.length, good.length);
  assert.deepEqual(byKey(onThread.out), byKey(inMain.out));
  const deadHeaders = (messages: readonly ReadMessage[]): Map<string, unknown> =>
    new Map(
      messages.map((m) => [
        m.key,
        { value: m.value?.toString('hex'), reason: m.headers['dec-dlq-reason'] },
      ]),
    );
  assert.equal(onThread.dlq.length, 2);
  assert.deepEqual(deadHeaders(onThread.dlq), deadHeaders(inMain.dlq));
});
