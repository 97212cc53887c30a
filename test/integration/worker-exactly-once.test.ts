import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './helpers.js';
import {
  assertEveryKeyOnce,
  readTopic,
  scenario,
  spawnWorker,
  startExactlyOnceStream,
} from './worker-harness.js';

void test('exactly-once: a worker killed with SIGKILL while labelling and restarted leaves every record exactly once in the committed output', async (t) => {
  const s = await scenario(t, { partitions: 2 });
  const total = 700;
  const stream = await startExactlyOnceStream(t, s, total, 15);
  await waitFor(() => stream.produced() >= 350, 30_000, 'records flowing');
  stream.first.child.kill('SIGKILL');
  assert.equal(await stream.first.exited, 'SIGKILL');

  const second = spawnWorker(t, stream.env);
  await stream.feeding;
  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr.join(''));
  assert.ok(
    !second.hasLogged((l) => l.msg === 'phase' && l.phase === 'bootstrapping'),
    'the restart serves the saved snapshot',
  );
  assertEveryKeyOnce(out, total);
});
