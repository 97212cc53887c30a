import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import type { Schema } from 'avsc';
import {
  clusterProfileEncoder,
  clusterProfileRecord,
  clusterProfileSchema,
} from '../../../src/codec/cluster-profile-codec.js';
import { InMemorySchemaRegistry } from '../../../src/codec/in-memory-schema-registry.js';
import type { ClusterProfile } from '../../../src/model/cluster-profile.js';

const profile: ClusterProfile = {
  cluster: 2,
  modelVersion: 7,
  share: 0.25,
  size: 50,
  meanConfidence: 0.875,
  prototype: [
    { field: 'income', values: [52000] },
    { field: 'pixels', values: [0, 0.5, 1] },
  ],
  nearest: [
    { id: '0:12', distance: 0.5 },
    { id: null, distance: 0.75 },
  ],
  topFeatures: [{ feature: 'income', z: 1.5, clusterMean: 52000, overallMean: 40000 }],
  topPositions: [
    {
      field: 'pixels',
      positions: [{ feature: 'pixels[2]', z: -2, clusterMean: 1, overallMean: 3 }],
    },
  ],
};

const expected = {
  cluster: 2,
  model_version: 7,
  share: 0.25,
  size: 50,
  mean_confidence: 0.875,
  prototype: [
    { field: 'income', values: [52000] },
    { field: 'pixels', values: [0, 0.5, 1] },
  ],
  nearest: [
    { id: '0:12', distance: 0.5 },
    { id: null, distance: 0.75 },
  ],
  top_features: [{ feature: 'income', z: 1.5, cluster_mean: 52000, overall_mean: 40000 }],
  top_positions: [
    {
      field: 'pixels',
      positions: [{ feature: 'pixels[2]', z: -2, cluster_mean: 1, overall_mean: 3 }],
    },
  ],
};

void test('a profile record is the profile in snake_case, the same for JSON and Avro', async () => {
  assert.deepEqual(clusterProfileRecord(profile), expected);
  const json = await clusterProfileEncoder({ format: 'json', topic: 'out.clusters' });
  assert.deepEqual(JSON.parse(json(profile).toString()), expected);

  const type = avro.Type.forSchema(clusterProfileSchema as unknown as Schema);
  const plain = await clusterProfileEncoder({ format: 'avro', topic: 'out.clusters' });
  // avsc decodes records as instances of generated classes: compare their plain JSON form.
  assert.deepEqual(JSON.parse(JSON.stringify(type.fromBuffer(plain(profile)))), expected);
  // An older version's profile has no confidence and no prototype: both are nullable.
  const bare = { ...profile, meanConfidence: null, prototype: null };
  const decoded = type.fromBuffer(plain(bare)) as Record<string, unknown>;
  assert.equal(decoded.mean_confidence, null);
  assert.equal(decoded.prototype, null);
});

void test('with a schema registry the profile schema is registered as <topic>-value and values carry its id', async () => {
  const registry = new InMemorySchemaRegistry();
  // Another subject first, so the id cannot be 1 by accident.
  await registry.register('other-value', JSON.stringify({ type: 'string' }));
  const encode = await clusterProfileEncoder({ format: 'avro', registry, topic: 'out.clusters' });
  const bytes = encode(profile);
  assert.equal(bytes[0], 0);
  const id = bytes.readUInt32BE(1);
  const stored = await registry.getSchema(id);
  assert.deepEqual(JSON.parse(stored), clusterProfileSchema);
  const latest = await registry.getLatestSchema('out.clusters-value');
  assert.equal(latest.id, id);
  const type = avro.Type.forSchema(JSON.parse(stored) as Schema);
  assert.equal((type.fromBuffer(bytes.subarray(5)) as { cluster: number }).cluster, 2);
});
