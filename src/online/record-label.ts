/**
 * The label of one assigned row, as the codecs write it: cluster, confidence and model version,
 * and with output detail 'full' why: the runner-up cluster and the margin between the two.
 */
import type { Label, OutputDetail } from '../codec/record-codec.js';
import type { AssignmentBatch } from '../model/types.js';

export function recordLabel(
  assignment: AssignmentBatch,
  row: number,
  modelVersion: number,
  detail: OutputDetail = 'basic',
): Label {
  const cluster = assignment.cluster[row] as number;
  const confidence = assignment.confidence[row] as number;
  if (detail === 'basic') return { cluster, confidence, modelVersion };
  // The largest q_ij over j ≠ cluster. With one cluster there is none: -1, and the margin is q itself.
  const k = assignment.clusters;
  const base = row * k;
  let runnerUp = -1;
  let second = 0;
  for (let j = 0; j < k; j++) {
    if (j === cluster) continue;
    const q = assignment.q[base + j] as number;
    if (runnerUp < 0 || q > second) {
      runnerUp = j;
      second = q;
    }
  }
  return { cluster, confidence, modelVersion, runnerUp, margin: confidence - second };
}
