import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './helpers.js';
import {
  assertEveryKeyOnce,
  mixtureMessages,
  produce,
  readTopic,
  scenario,
} from './worker-harness.js';
import {
  assertLabelsReproduce,
  awaitTrainer,
  createModelTopic,
  readModelVersions,
  spawnReplicas,
} from './worker-replicas-harness.js';

const online = (l: Record<string, unknown>): boolean => l.msg === 'phase' && l.phase === 'online';

void test('three replicas on six partitions share one model: exactly-once, every version on the models topic, the same cluster from any replica', async (t) => {
  const s = await scenario(t, { partitions: 6 });
  const modelTopic = await createModelTopic(s.kafka, s.group);
  const total = 1200;
  const { range } = mixtureMessages(total);
  await produce(s.kafka, s.input, range(0, 600));
  const replicas = await spawnReplicas(t, s, 3, {
    // The deep model, not the guard's k-means: refinement then makes versions to swap to.
    DEC_GUARD: 'false',
    DEC_REFINE_EVERY_RECORDS: '150',
    DEC_REFINE_INTERVAL_MS: '500',
    DEC_REFINE_WINDOW: '300',
  });
  const trainer = await awaitTrainer(replicas, 90_000);
  await waitFor(
    () => replicas.every((r) => r.hasLogged(online)),
    120_000,
    'every replica labelling',
  );
  assert.equal(
    replicas.filter((r) => r.hasLogged((l) => l.msg === 'elected trainer')).length,
    1,
    'one trainer',
  );
  for (const replica of replicas) {
    // Before the first version a labeller waits: it goes online only with a published version.
    const waited = replica.logs.findIndex(
      (l) => l.msg === 'no model version yet: waiting for the trainer',
    );
    const first = replica.logs.findIndex(online);
    assert.ok(waited >= 0 && waited < first, 'labellers wait for the trainer, then go online');
  }
  assert.ok(trainer.hasLogged((l) => l.msg === 'model version published'));
  await produce(s.kafka, s.input, range(600, total));

  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  for (const replica of replicas) replica.child.kill('SIGTERM');
  for (const replica of replicas) assert.equal(await replica.exited, 0, replica.stderr.join(''));
  assertEveryKeyOnce(out, total);
  const labelledBy = new Set(out.map((m) => m.partition));
  assert.equal(labelledBy.size, 6, 'every partition labelled');
  const versions = await readModelVersions(s.kafka, modelTopic);
  await assertLabelsReproduce(out, versions);
});

void test('SIGKILL of the trainer: another replica is elected, resumes from the newest version and refines on; nothing is lost or duplicated', async (t) => {
  const s = await scenario(t, { partitions: 6 });
  await createModelTopic(s.kafka, s.group);
  const total = 1500;
  const { range } = mixtureMessages(total);
  await produce(s.kafka, s.input, range(0, 500));
  const replicas = await spawnReplicas(t, s, 3, {
    DEC_GUARD: 'false',
    DEC_REFINE_EVERY_RECORDS: '100',
    DEC_REFINE_INTERVAL_MS: '300',
    DEC_REFINE_WINDOW: '200',
  });
  const first = await awaitTrainer(replicas, 90_000);
  await waitFor(
    () => replicas.every((r) => r.hasLogged(online)),
    120_000,
    'every replica labelling',
  );
  first.child.kill('SIGKILL');
  const survivors = replicas.filter((r) => r !== first);
  // A trickle while the group elects and the new trainer resumes: refinement needs fresh records,
  // and a refined version is taken up between batches.
  const feeding = (async () => {
    for (let next = 500; next < total; next += 5) {
      await produce(s.kafka, s.input, range(next, Math.min(total, next + 5)));
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  })();
  const second = await awaitTrainer(survivors, 60_000);
  await waitFor(
    () =>
      second.hasLogged(
        (l) => l.msg === 'model snapshot found, skipping the bootstrap' && l.role === 'trainer',
      ),
    60_000,
    'the new trainer resumes from the newest version',
  );
  await waitFor(
    () =>
      second.hasLogged(
        (l) =>
          l.msg === 'model version published' ||
          (l.msg === 'refinement' && String(l.detail).includes('rejected')),
      ),
    90_000,
    'the new trainer refines',
  );
  await feeding;
  const out = await readTopic(s.kafka, s.output, total, { timeoutMs: 120_000, settleMs: 3_000 });
  for (const replica of survivors) replica.child.kill('SIGTERM');
  for (const replica of survivors) assert.equal(await replica.exited, 0, replica.stderr.join(''));
  assertEveryKeyOnce(out, total);
});
