import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './helpers.js';
import { mixtureMessages, produce, scenario, spawnWorker } from './worker-harness.js';
import type { WorkerProcess } from './worker-harness.js';

type LogLine = Record<string, unknown>;

/**
 * Sends `signals` to the worker, `gapMs` apart, as soon as it has logged a line that matches
 * (checked on every chunk of its output, so no polling delay). Two equal signals sent before the
 * child runs may reach it as one (the kernel keeps one pending signal of a kind), hence the gap.
 */
function signalOnLog(
  worker: WorkerProcess,
  predicate: (line: LogLine) => boolean,
  signals: readonly NodeJS.Signals[] = ['SIGTERM'],
  gapMs = 0,
): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!worker.hasLogged(predicate)) return;
      worker.child.stdout?.off('data', check);
      void (async () => {
        for (const signal of signals) {
          worker.child.kill(signal);
          await new Promise((next) => setTimeout(next, gapMs));
        }
        resolve();
      })();
    };
    worker.child.stdout?.on('data', check);
  });
}

/** The worker ended with exit code 0 (not by a signal) and said so in its last log line. */
async function assertCleanExit(worker: WorkerProcess): Promise<void> {
  const { code, signal } = await worker.ended;
  const stderr = worker.stderr.join('');
  assert.equal(signal, null, `ended by ${signal}: ${stderr}`);
  assert.equal(code, 0, stderr);
  const exit = worker.logs.filter((l) => l.msg === 'exit');
  assert.deepEqual(
    exit.map((l) => l.code),
    [0],
  );
  assert.ok(!worker.hasLogged((l) => l.level === 'error'), 'no error logged');
}

const shutdownRequested = (worker: WorkerProcess): LogLine[] =>
  worker.logs.filter((l) => l.msg === 'shutdown requested');

void test('SIGTERM right after the first log line stops start-up and exits 0, not by signal', async (t) => {
  const s = await scenario(t);
  const worker = spawnWorker(t, s.env({ DEC_SHUTDOWN_GRACE_MS: '20000' }));
  const signalled = signalOnLog(worker, () => true);
  await signalled;
  assert.equal(worker.logs[0]?.msg, 'starting');
  await assertCleanExit(worker);
  const [requested] = shutdownRequested(worker);
  assert.equal(requested?.phase, 'starting', 'the signal came during start-up');
  assert.ok(worker.hasLogged((l) => l.msg === 'start-up stopped'));
  assert.ok(!worker.hasLogged((l) => l.msg === 'partitions assigned'), 'the group was not joined');
});

void test('SIGTERM while the labelling and publishing threads start closes them and exits 0', async (t) => {
  const s = await scenario(t);
  const worker = spawnWorker(
    t,
    s.env({ DEC_LABEL_THREAD: 'on', DEC_PUBLISH_THREAD: 'on', DEC_SHUTDOWN_GRACE_MS: '20000' }),
  );
  await signalOnLog(worker, (l) => l.msg === 'tensor backend ready');
  await assertCleanExit(worker);
  assert.equal(shutdownRequested(worker)[0]?.phase, 'starting');
  assert.ok(worker.hasLogged((l) => l.msg === 'start-up stopped'));
});

void test('SIGTERM while the bootstrap window fills drains and exits 0 without a snapshot or a commit', async (t) => {
  const s = await scenario(t);
  const { range } = mixtureMessages(200);
  await produce(s.kafka, s.input, range(0, 200));
  // A window larger than the topic: the worker waits in the bootstrap, consuming.
  const worker = spawnWorker(
    t,
    s.env({
      DEC_BOOTSTRAP_RECORDS: '1000',
      DEC_BOOTSTRAP_MIN_RECORDS: '900',
      DEC_BOOTSTRAP_MAX_WAIT_MS: '600000',
      DEC_SHUTDOWN_GRACE_MS: '20000',
    }),
  );
  await waitFor(
    () => worker.hasLogged((l) => l.msg === 'partitions assigned'),
    60_000,
    'the worker in its group',
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  worker.child.kill('SIGTERM');
  await assertCleanExit(worker);
  assert.equal(shutdownRequested(worker)[0]?.phase, 'bootstrapping');
  const phases = worker.logs.filter((l) => l.msg === 'phase').map((l) => l.phase);
  assert.deepEqual(phases.slice(-2), ['draining', 'stopped']);
  assert.ok(!worker.hasLogged((l) => l.msg === 'bootstrap training'));
  assert.ok(!worker.hasLogged((l) => l.msg === 'model snapshot saved'));
  const admin = s.kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: s.group, topics: [s.input] });
  await admin.disconnect();
  assert.equal(offsets[0]?.partitions[0]?.offset, '-1', 'nothing committed');
});

void test('two SIGTERMs in quick succession during the bootstrap training stop it and exit 0', async (t) => {
  const s = await scenario(t);
  const { range } = mixtureMessages(200);
  await produce(s.kafka, s.input, range(0, 200));
  const worker = spawnWorker(
    t,
    s.env({ DEC_PRETRAIN_EPOCHS: '5000', DEC_SHUTDOWN_GRACE_MS: '20000' }),
  );
  const signalledAt = await signalOnLog(
    worker,
    (l) => l.msg === 'bootstrap training',
    ['SIGTERM', 'SIGTERM'],
    50,
  ).then(() => Date.now());
  await assertCleanExit(worker);
  assert.ok(Date.now() - signalledAt < 20_000, 'training stopped well within the grace time');
  assert.equal(shutdownRequested(worker).length, 1);
  assert.ok(
    worker.hasLogged((l) => l.msg === 'shutdown already in progress'),
    JSON.stringify(worker.logs.map((l) => l.msg)),
  );
  assert.ok(!worker.hasLogged((l) => l.msg === 'model snapshot saved'));
});

void test('SIGINT then SIGTERM during start-up exit 0, not by signal', async (t) => {
  const s = await scenario(t);
  const worker = spawnWorker(t, s.env({ DEC_SHUTDOWN_GRACE_MS: '20000' }));
  await signalOnLog(worker, () => true, ['SIGINT', 'SIGTERM']);
  await assertCleanExit(worker);
  assert.equal(shutdownRequested(worker)[0]?.signal, 'SIGINT');
  assert.ok(worker.hasLogged((l) => l.msg === 'shutdown already in progress'));
});

void test('signals that keep coming until the worker is gone never end it by signal', async (t) => {
  const s = await scenario(t);
  const worker = spawnWorker(t, s.env({ DEC_SHUTDOWN_GRACE_MS: '20000' }));
  await signalOnLog(worker, () => true);
  // A signal every 2 ms from the first until the process is gone, so that the moments after its
  // "exit" line (its own teardown, where a signal could take the default action) are hit too.
  let afterExitLine = 0;
  let sent = 0;
  const hammer = setInterval(() => {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
    if (worker.hasLogged((l) => l.msg === 'exit')) afterExitLine += 1;
    worker.child.kill(sent % 2 === 0 ? 'SIGINT' : 'SIGTERM');
    sent += 1;
  }, 2);
  try {
    await assertCleanExit(worker);
  } finally {
    clearInterval(hammer);
  }
  assert.ok(afterExitLine > 0, `no signal came after the exit line (${sent} before it)`);
});
