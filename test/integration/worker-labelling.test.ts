import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusteringAccuracy } from '../../src/model/evaluation.js';
import { Phase } from '../../src/worker/observer.js';
import { waitFor } from './helpers.js';
import {
  mixtureRecord,
  phaseRecorder,
  produce,
  readTopic,
  runInProcess,
  scenario,
  separatedMixture,
} from './worker-harness.js';

void test('the worker bootstraps on a separated mixture and labels every record exactly once', async (t) => {
  const s = await scenario(t, { partitions: 2 });
  const { points, labels } = separatedMixture(300);
  await produce(
    s.kafka,
    s.input,
    points.map((p, i) => ({
      key: `k${i}`,
      value: JSON.stringify(mixtureRecord(i, p, labels[i] as number)),
      headers: { origin: 'test' },
    })),
  );
  const phases = phaseRecorder();
  const running = await runInProcess(t, s.env(), phases, { http: true });

  const out = await readTopic(s.kafka, s.output, points.length);
  const base = `http://127.0.0.1:${running.httpPort}`;
  const ready = await fetch(`${base}/readyz`);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  await running.close();

  assert.equal(ready.status, 200, 'ready while online');
  assert.match(metrics, /decstream_records_total\{outcome="labelled"\} 300\b/);

  assert.equal(out.length, points.length, 'one output record per input record');
  assert.equal(new Set(out.map((m) => m.key)).size, points.length, 'no key twice');
  const truth: number[] = [];
  const predicted: number[] = [];
  for (const m of out) {
    const value = JSON.parse(m.value?.toString() ?? 'null') as Record<string, unknown>;
    assert.equal(m.headers['dec-model-version'], '1');
    assert.equal(m.headers.origin, 'test', 'original headers are kept');
    assert.equal(value.model_version, 1);
    assert.equal(typeof value.f0, 'number', 'input fields are kept');
    assert.ok(Number.isInteger(value.cluster) && (value.cluster as number) < 3);
    assert.ok((value.confidence as number) > 0 && (value.confidence as number) <= 1);
    truth.push(value.truth as number);
    predicted.push(value.cluster as number);
  }
  const acc = clusteringAccuracy(truth, predicted);
  assert.ok(acc >= 0.95, `ACC ${acc.toFixed(3)} below 0.95`);
  assert.deepEqual(
    phases.phases.filter((p) => p !== Phase.Starting),
    [Phase.Bootstrapping, Phase.Online, Phase.Draining, Phase.Stopped],
  );
  await waitFor(() => running.worker.phase() === Phase.Stopped, 5_000);
});
