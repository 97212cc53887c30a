import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { Phase } from '../../src/worker/observer.js';
import {
  mixtureMessages,
  phaseRecorder,
  produce,
  readTopic,
  runInProcess,
  scenario,
} from './worker-harness.js';

void test('a restart with a snapshot in the model directory skips the bootstrap and resumes from the committed offsets', async (t) => {
  const s = await scenario(t);
  const { range } = mixtureMessages(300);
  await produce(s.kafka, s.input, range(0, 200));

  const first = await runInProcess(t, s.env());
  await readTopic(s.kafka, s.output, 200, { settleMs: 0 });
  await first.close();
  assert.ok(
    (await readdir(s.modelDir)).some((f) => f.endsWith('.decsnap')),
    'a snapshot was saved',
  );

  await produce(s.kafka, s.input, range(200, 300));
  const phases = phaseRecorder();
  // A bootstrap could not even start: its window is larger than what is left to read.
  const second = await runInProcess(
    t,
    s.env({ DEC_BOOTSTRAP_RECORDS: '1000', DEC_BOOTSTRAP_MIN_RECORDS: '1000' }),
    phases,
  );
  const out = await readTopic(s.kafka, s.output, 300);
  await second.close();

  assert.ok(!phases.phases.includes(Phase.Bootstrapping), `phases: ${phases.phases.join(', ')}`);
  assert.equal(phases.phases[1], Phase.Online);
  assert.equal(out.length, 300, 'each record labelled once across both runs');
  assert.equal(new Set(out.map((m) => m.key)).size, 300);
  for (const m of out) assert.equal(m.headers['dec-model-version'], '1');
});
