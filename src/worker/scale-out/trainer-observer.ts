import type { WorkerObserver } from '../observer.js';
import { silentObserver } from '../observer.js';

/**
 * What the trainer reports, in scale-out: its training (bootstrap progress, refinements, drift,
 * re-seeds, snapshot writes) and nothing of the records it reads, which the
 * labelling worker of the same process already counts as the ones it publishes.
 */
export function trainerObserver(observer: WorkerObserver): WorkerObserver {
  return {
    ...silentObserver,
    bootstrap: (report) => observer.bootstrap(report),
    refinement: (report) => observer.refinement(report),
    clusterReseeded: (cluster) => observer.clusterReseeded(cluster),
    drift: (report) => observer.drift(report),
    snapshotWritten: (ok) => observer.snapshotWritten(ok),
  };
}
