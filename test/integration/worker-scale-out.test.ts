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

void test('exactly-once across rebalances: a second worker joins, the first is killed, and the committed output still holds every record once', async (t) => {
  const s = await scenario(t, { partitions: 4 });
  const total = 900;
  const stream = await startExactlyOnceStream(t, s, total, 20);
  await waitFor(() => stream.produced() >= 350, 30_000, 'records flowing');
  const second = spawnWorker(t, stream.env);
  await waitFor(
    () =>
      second.hasLogged(
        (l) =>
          l.msg === 'partitions assigned' && Array.isArray(l.partitions) && l.partitions.length > 0,
      ),
    60_000,
    'the second worker assigned partitions',
  );
  await waitFor(() => stream.produced() >= 600, 30_000, 'more records flowing');
  stream.first.child.kill('SIGKILL');
  await stream.feeding;

  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr.join(''));
  assertEveryKeyOnce(out, total);
});
