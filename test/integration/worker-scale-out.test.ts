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

void test('exactly-once across rebalances: a second worker joins, the first is killed, and the committed output still holds every record once', async (t) => {
  const s = await scenario(t, { partitions: 4 });
  const total = 900;
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
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  await waitFor(() => next >= 350, 30_000, 'records flowing');
  const second = spawnWorker(t, env);
  await waitFor(
    () =>
      second.hasLogged(
        (l) =>
          l.msg === 'partitions assigned' && Array.isArray(l.partitions) && l.partitions.length > 0,
      ),
    60_000,
    'the second worker assigned partitions',
  );
  await waitFor(() => next >= 600, 30_000, 'more records flowing');
  first.child.kill('SIGKILL');
  await feeding;

  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr.join(''));
  const counts = new Map<string, number>();
  for (const m of out) counts.set(m.key, (counts.get(m.key) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([key]) => key);
  assert.deepEqual(repeated, [], 'no record twice');
  assert.equal(counts.size, total, 'every record once');
});
