/**
 * The statistics a new model version keeps about the records it was made on (bootstrap, `train`,
 * refinement): those records labelled by the version itself, then summarised per cluster.
 */
import type { ClusterStatistics } from '../model/cluster-statistics.js';
import { clusterStatistics } from '../model/cluster-statistics.js';
import type { DecParameters, Matrix, Standardisation } from '../model/types.js';
import { Assigner } from './assigner.js';

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
  const assigner = new Assigner(parameters);
  try {
    const assignment = assigner.assign(x);
    return clusterStatistics(x, assignment, standardisation, ids === undefined ? {} : { ids });
  } finally {
    assigner.dispose();
  }
}
