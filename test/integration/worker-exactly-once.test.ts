import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './helpers.js';
import {
  mixtureRecord,
  produce,
  readTopic,
  scenario,
  separatedMixture,
  spawnWorker,
} from './worker-harness.js';

void test('exactly-once: a worker killed with SIGKILL while labelling and restarted leaves every record exactly once in the committed output', async (t) => {
  const s = await scenario(t, { partitions: 2 });
  const total = 700;
  const { points, labels } = separatedMixture(total);
  const message = (i: number): { key: string; value: string } => ({
    key: `k${i}`,
    value: JSON.stringify(mixtureRecord(i, points[i] as number[], labels[i] as number)),
  });
  const env = s.env({ DEC_DELIVERY: 'exactly-once', DEC_BATCH_MAX_RECORDS: '10' });
  await produce(
    s.kafka,
    s.input,
    points.slice(0, 200).map((_, i) => message(i)),
  );
  const first = spawnWorker(t, env);
  await waitFor(
    () => first.hasLogged((l) => l.msg === 'phase' && l.phase === 'online'),
    90_000,
    'the first worker online',
  );

  let next = 200;
  const feeding = (async () => {
    while (next < total) {
      const batch = [0, 1, 2, 3, 4].map((j) => next + j).filter((i) => i < total);
      await produce(s.kafka, s.input, batch.map(message));
      next += batch.length;
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();
  await waitFor(() => next >= 350, 30_000, 'records flowing');
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');

  const second = spawnWorker(t, env);
  await feeding;
  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr.join(''));
  assert.ok(
    !second.hasLogged((l) => l.msg === 'phase' && l.phase === 'bootstrapping'),
    'the restart serves the saved snapshot',
  );

  const counts = new Map<string, number>();
  for (const m of out) counts.set(m.key, (counts.get(m.key) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([key]) => key);
  assert.deepEqual(repeated, [], 'no record twice');
  assert.equal(counts.size, total, 'every record once');
});
