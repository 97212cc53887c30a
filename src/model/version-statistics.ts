/**
 * The statistics a new model version keeps about the records it was made on (bootstrap, `train`,
 * refinement): those records labelled by the version itself, then summarised per cluster.
 */
import type { ClusterStatistics } from './cluster-statistics.js';
import { clusterStatistics } from './cluster-statistics.js';
import { ModelVersion } from './model-version.js';
import type { DecParameters, Matrix, Standardisation } from './types.js';

/**
 * Labels standardised rows `x` with `parameters` and summarises them in input units. `ids`, when
 * given, names each row's source record (see ClusterMember.id).
 */
export function versionStatistics(
  parameters: DecParameters,
  x: Matrix,
  standardisation: Standardisation,
  ids?: readonly (string | undefined)[],
): ClusterStatistics {
  const model = ModelVersion.ofParameters(parameters);
  try {
    const assignment = model.assign(x);
    return clusterStatistics(x, assignment, standardisation, ids === undefined ? {} : { ids });
  } finally {
    model.dispose();
  }
}
