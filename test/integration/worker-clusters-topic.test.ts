import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import type { ClusterProfileRecord } from '../../src/codec/cluster-profile-codec.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import { startWorker } from '../../src/run-worker.js';
import { silentLogger } from '../../src/runtime/logger.js';
import type { ModelRefiner } from '../../src/worker/ports.js';
import { mixtureMessages, produce, readTopic, runInProcess, scenario } from './worker-harness.js';

/**
 * Hands the worker one newer version on its first poll: the first one's weights as version 2,
 * with cluster 2 published as 3 (as when a re-seed gives a cluster a new group, cluster-ids.ts).
 */
class OneVersionRefiner implements ModelRefiner {
  private next: ModelSnapshot | undefined;
  start(snapshot: ModelSnapshot): void {
    this.next = { ...snapshot, version: snapshot.version + 1, clusterIds: [0, 1, 3] };
  }
  observe(): void {}
  poll(): ModelSnapshot | undefined {
    const next = this.next;
    this.next = undefined;
    return next;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

void test('the clusters topic holds k profile records per serving version, keyed by published id, and deletes a retired id; DEC_OUTPUT_DETAIL=full labels carry runner_up and margin', async (t) => {
  const s = await scenario(t);
  const clusters = `${s.output}.clusters`;
  const { range } = mixtureMessages(260);
  await produce(s.kafka, s.input, range(0, 200));

  // Version 1 from the bootstrap (150 records), version 2 swapped in for the records after it.
  const env = s.env({ DEC_OUTPUT_DETAIL: 'full' });
  const first = await startWorker(loadConfig(env), {
    logger: silentLogger,
    http: false,
    refiner: new OneVersionRefiner(),
  });
  t.after(() => first.close());
  const labelled = await readTopic(s.kafka, s.output, 200, { settleMs: 0 });
  await first.close();
  // A restart serves the stored version 2 and publishes its profiles again.
  await produce(s.kafka, s.input, range(200, 260));
  const second = await runInProcess(t, env);
  await readTopic(s.kafka, s.output, 260, { settleMs: 0 });
  await second.close();

  const records = await readTopic(s.kafka, clusters, 10);
  assert.equal(
    records.length,
    10,
    'three clusters for version 1, three and a tombstone for 2, and 2 again after the restart',
  );
  const tombstones = records.filter((m) => m.value === null);
  assert.deepEqual(
    tombstones.map((m) => [m.key, m.headers['dec-model-version']]),
    [['2', '2']],
    'version 2 deletes the profile of the id it retired',
  );
  const profiles = records
    .filter((m) => m.value !== null)
    .map((m) => ({
      key: m.key,
      header: m.headers['dec-model-version'],
      value: JSON.parse(m.value?.toString() ?? 'null') as ClusterProfileRecord,
    }));
  for (const [version, ids] of [
    [1, ['0', '1', '2']],
    [2, ['0', '1', '3']],
  ] as const) {
    const ofVersion = profiles.filter((p) => p.value.model_version === version);
    assert.deepEqual(
      [...new Set(ofVersion.map((p) => p.key))].sort(),
      ids,
      `version ${version}: exactly k distinct keys, its published ids`,
    );
    for (const p of ofVersion) {
      assert.equal(p.key, String(p.value.cluster));
      assert.equal(p.header, String(version));
    }
  }
  // What compaction keeps: the last record per key, all of the serving version; none for id 2.
  const latest = new Map(records.map((m) => [m.key, m]));
  for (const m of tombstones) latest.delete(m.key);
  assert.deepEqual([...latest.keys()].sort(), ['0', '1', '3']);
  const kept = new Map(profiles.map((p) => [p.key, p.value]));
  kept.delete('2');
  assert.ok([...kept.values()].every((v) => v.model_version === 2));
  const shares = [...kept.values()].reduce((sum, v) => sum + v.share, 0);
  assert.ok(Math.abs(shares - 1) < 1e-9, `shares sum to ${shares}`);
  for (const v of kept.values()) {
    assert.deepEqual(
      v.prototype?.map((f) => f.field),
      ['f0', 'f1', 'f2', 'f3'],
    );
    assert.ok(v.mean_confidence !== null && v.mean_confidence > 0);
    assert.ok(v.top_features.length > 0);
    // Bootstrap members are named by partition:offset of the input topic.
    assert.match(v.nearest[0]?.id ?? '', /^0:\d+$/);
  }

  const admin = s.kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: clusters,
          configNames: ['cleanup.policy'],
        },
      ],
    });
    const policy = described.resources[0]?.configEntries.find(
      (e) => e.configName === 'cleanup.policy',
    );
    assert.equal(policy?.configValue, 'compact');
  } finally {
    await admin.disconnect();
  }

  // Labels carry the serving version's published ids: 2 under version 1, 3 under version 2.
  const labels = labelled.map(
    (m) => JSON.parse(m.value?.toString() ?? '{}') as { cluster: number; model_version: number },
  );
  const idsOf = (version: number): number[] =>
    [...new Set(labels.filter((l) => l.model_version === version).map((l) => l.cluster))].sort();
  assert.deepEqual(idsOf(1), [0, 1, 2]);
  assert.ok(
    idsOf(2).every((id) => [0, 1, 3].includes(id)) && idsOf(2).includes(3),
    `version 2 labels ${idsOf(2).join(', ')}`,
  );
  const label = JSON.parse(labelled[0]?.value?.toString() ?? '{}') as Record<string, unknown>;
  assert.equal(typeof label.runner_up, 'number');
  assert.notEqual(label.runner_up, label.cluster);
  assert.ok((label.margin as number) >= 0 && (label.margin as number) <= 1);
});
