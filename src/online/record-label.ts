/**
 * The label of one assigned row, as the codecs write it: cluster, confidence and model version,
 * and with output detail 'full' why: the runner-up cluster and the margin between the two.
 * Clusters are written as the ids they are published under (`ids[c]`, cluster-ids.ts); without
 * `ids`, as their indices.
 */
import type { Label, OutputDetail } from '../codec/record-codec.js';
import type { AssignmentBatch } from '../model/types.js';

export function recordLabel(
  assignment: AssignmentBatch,
  row: number,
  modelVersion: number,
  detail: OutputDetail = 'basic',
  ids?: readonly number[],
): Label {
  const index = assignment.cluster[row] as number;
  const cluster = ids?.[index] ?? index;
  const confidence = assignment.confidence[row] as number;
  if (detail === 'basic') return { cluster, confidence, modelVersion };
  // The largest q_ij over j ≠ cluster. With one cluster there is none: -1, and the margin is q itself.
  const k = assignment.clusters;
  const base = row * k;
  let runnerUp = -1;
  let second = 0;
  for (let j = 0; j < k; j++) {
    if (j === index) continue;
    const q = assignment.q[base + j] as number;
    if (runnerUp < 0 || q > second) {
      runnerUp = j;
      second = q;
    }
  }
  const runnerUpId = runnerUp < 0 ? -1 : (ids?.[runnerUp] ?? runnerUp);
  return { cluster, confidence, modelVersion, runnerUp: runnerUpId, margin: confidence - second };
}
