import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initBackend } from '../../../src/model/backend.js';
import { ModelVersion } from '../../../src/model/model-version.js';
import {
  applyIdMapping,
  describeIdMapping,
  idMappingReport,
  matchClusterIds,
  reassignedShare,
} from '../../../src/online/id-mapping.js';
import { permuteRows } from '../../../src/online/refinement-policy.js';
import { blobs, tinySnapshot } from '../../fixtures/refinement.js';

void describe('matchClusterIds', () => {
  before(async () => {
    await initBackend('cpu');
  });

  void test('the Hungarian mapping gives a permuted model back its ids: no record changes id', () => {
    const serving = tinySnapshot([-4, 0, 4, 0, 0, 5]);
    const { x } = blobs(50, 4);
    // The same model with its clusters numbered 2, 0, 1: its raw labels are all shuffled.
    const shuffled = {
      ...serving.parameters,
      centroids: permuteRows(serving.parameters.centroids, [2, 0, 1], 2),
    };
    const before = ModelVersion.ofParameters(serving.parameters);
    const permuted = ModelVersion.ofParameters(shuffled);
    const oldLabels = before.labels(x);
    const rawLabels = permuted.labels(x);
    assert.ok(
      oldLabels.some((c, i) => c !== rawLabels[i]),
      'the raw labels differ',
    );

    const mapping = matchClusterIds(oldLabels, rawLabels, 3);
    assert.equal(mapping.labelChangeRatio, 0);
    assert.deepEqual(
      mapping.overlap.map((o) => o.kept),
      [1, 1, 1],
    );
    const mapped = ModelVersion.ofParameters(applyIdMapping(shuffled, mapping));
    assert.deepEqual(mapped.labels(x), oldLabels);
    for (const m of [before, permuted, mapped]) m.dispose();
  });

  void test('the report counts, per id, the records that keep it', () => {
    // Old: 4 records in 0, 4 in 1. New (own numbering): 0 → 1 for three of them, one goes astray.
    const oldLabels = [0, 0, 0, 0, 1, 1, 1, 1];
    const newLabels = [1, 1, 1, 0, 0, 0, 0, 0];
    const mapping = matchClusterIds(oldLabels, newLabels, 2);
    assert.deepEqual(Array.from(mapping.permutation), [1, 0]);
    assert.equal(mapping.overlap[0]?.kept, 0.75);
    assert.equal(mapping.overlap[1]?.kept, 1);
    assert.equal(mapping.labelChangeRatio, 1 / 8);
    assert.match(
      describeIdMapping(mapping),
      /12\.50% of 8 recent records change id; 0←1 \(75\.0%\) 1←0/,
    );
    const renewed = idMappingReport(mapping, { renewed: [{ retired: 1, id: 4 }] });
    assert.match(describeIdMapping(renewed), /; new groups, ids retired→new: 1→4$/);
    assert.equal('renewed' in idMappingReport(mapping), false, 'no pairs when no id is renewed');
  });

  void test('an id no recent record had is reported with no overlap instead of a made-up one', () => {
    const mapping = matchClusterIds([0, 0, 1], [1, 1, 0], 3);
    assert.equal(mapping.overlap[2]?.records, 0);
    assert.equal(mapping.overlap[2]?.kept, null);
    assert.equal(mapping.labelChangeRatio, 0);
  });
});

void describe('reassignedShare', () => {
  void test('counts the records that move between two kept ids, not those into or out of a renewed one', () => {
    // Ten records. Cluster 0 and 1 keep their ids; cluster 2 is renewed (a fresh id).
    const before = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 0, 1]);
    const after = Int32Array.from([0, 0, 1, 1, 1, 0, 2, 0, 2, 1]);
    const keepsId = [true, true, false];
    // Moved 0→1 (record 2) and 1→0 (record 5) count; 2→0 (record 7) left a retired id and 0→2
    // (record 8) went to a fresh one: neither counts.
    assert.equal(reassignedShare(before, after, keepsId), 0.2);
    assert.equal(reassignedShare(before, after, [true, true, true]), 0.4);
    assert.equal(reassignedShare(before, before, keepsId), 0);
    assert.equal(reassignedShare([], [], keepsId), 0);
  });
});
