import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './helpers.js';
import {
  mixtureMessages,
  mixtureRecord,
  produce,
  readTopic,
  scenario,
  separatedMixture,
  spawnWorker,
} from './worker-harness.js';

void test('SIGTERM drains the batch in flight, commits and exits 0 without skipping a record', async (t) => {
  const s = await scenario(t);
  const total = 600;
  const { message, range } = mixtureMessages(total);
  await produce(s.kafka, s.input, range(0, 200));
  const worker = spawnWorker(
    t,
    s.env({ DEC_SHUTDOWN_GRACE_MS: '15000', DEC_BATCH_MAX_RECORDS: '10' }),
  );
  await waitFor(
    () => worker.hasLogged((l) => l.msg === 'phase' && l.phase === 'online'),
    90_000,
    'the worker online',
  );
  // Keep records flowing so that a batch is in flight when the signal lands.
  let next = 200;
  const feeding = (async () => {
    while (next < total && worker.child.exitCode === null) {
      await produce(s.kafka, s.input, [next, next + 1, next + 2, next + 3, next + 4].map(message));
      next += 5;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await waitFor(() => next >= 300, 30_000, 'records flowing');
  const signalledAt = Date.now();
  worker.child.kill('SIGTERM');
  const code = await worker.exited;
  const drainMs = Date.now() - signalledAt;
  await feeding;

  assert.equal(code, 0, worker.stderr.join(''));
  assert.ok(drainMs < 15_000, `drained in ${drainMs} ms`);
  const phases = worker.logs.filter((l) => l.msg === 'phase').map((l) => l.phase);
  assert.deepEqual(phases.slice(-2), ['draining', 'stopped']);

  const admin = s.kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: s.group, topics: [s.input] });
  await admin.disconnect();
  const committed = Number(offsets[0]?.partitions[0]?.offset ?? '-1');
  assert.ok(committed >= 200, `committed offset ${committed}`);
  const out = await readTopic(s.kafka, s.output, committed, { settleMs: 500 });
  const keys = new Set(out.map((m) => m.key));
  for (let i = 0; i < committed; i++)
    assert.ok(keys.has(`k${i}`), `k${i} committed but not published`);
});

void test('SIGTERM during the bootstrap training stops it and exits 0 without a snapshot or a commit', async (t) => {
  const s = await scenario(t);
  const { points, labels } = separatedMixture(200);
  await produce(
    s.kafka,
    s.input,
    points.map((p, i) => ({
      key: `k${i}`,
      value: JSON.stringify(mixtureRecord(i, p, labels[i] as number)),
    })),
  );
  const worker = spawnWorker(
    t,
    s.env({ DEC_PRETRAIN_EPOCHS: '5000', DEC_SHUTDOWN_GRACE_MS: '10000' }),
  );
  await waitFor(
    () =>
      worker.hasLogged(
        (l) => l.msg === 'bootstrap training phase' && l.trainingPhase === 'pretrain',
      ),
    60_000,
    'the bootstrap training',
  );
  const signalledAt = Date.now();
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.stderr.join(''));
  assert.ok(Date.now() - signalledAt < 10_000);
  assert.ok(!worker.hasLogged((l) => l.msg === 'model snapshot saved'));
  const admin = s.kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: s.group, topics: [s.input] });
  await admin.disconnect();
  assert.equal(
    offsets[0]?.partitions[0]?.offset,
    '-1',
    'nothing committed: a restart bootstraps again',
  );
});

void test('a bad configuration stops start-up with exit code 2 and one line naming every bad field', async (t) => {
  const worker = spawnWorker(t, {
    KAFKA_BROKERS: 'not a broker',
    DEC_OUTPUT_TOPIC: 'out',
    DEC_FEATURES: 'f0,f1',
    DEC_CLUSTERS: '1',
    DEC_DELIVERY: 'twice',
  });
  const code = await worker.exited;
  assert.equal(code, 2);
  const stderr = worker.stderr.join('');
  assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
  for (const field of ['KAFKA_BROKERS', 'DEC_INPUT_TOPIC', 'DEC_CLUSTERS', 'DEC_DELIVERY']) {
    assert.match(stderr, new RegExp(field));
  }
  assert.equal(worker.logs.length, 0, 'nothing started');
});
