/**
 * Training where k may be `auto`: first suggest k on the same records (suggest-clusters.ts), then
 * train with it as usual. The worker's bootstrap (DEC_CLUSTERS=auto) and `dec-stream train
 * --clusters auto` both go through here.
 */
import { initBackend } from './backend.js';
import {
  trainSnapshot,
  type TrainSnapshotHooks,
  type TrainSnapshotOptions,
} from './build-snapshot.js';
import { PretrainCache } from './pretrain-cache.js';
import {
  DEFAULT_CLUSTER_COUNT_RANGE,
  suggestClustersForRecords,
  type ClusterCountSuggestion,
} from './suggest-clusters.js';
import type { ClusterCountRange } from './suggest-k.js';
import type { ModelSnapshot } from './types.js';

export interface ClusterChoiceOptions extends Omit<TrainSnapshotOptions, 'clusters'> {
  readonly clusters: number | 'auto';
  /** The k considered with clusters `auto` (default 2 to 20). */
  readonly clusterRange?: ClusterCountRange;
}

export interface ClusterChoiceHooks extends TrainSnapshotHooks {
  /** Called with the suggestion before training starts (clusters `auto` only). */
  readonly onSuggestion?: (suggestion: ClusterCountSuggestion) => void;
}

/** Trains a snapshot; with clusters `auto`, on the k suggested for these records. */
export async function trainWithClusterChoice(
  records: readonly unknown[],
  featureFields: readonly string[],
  options: ClusterChoiceOptions,
  hooks: ClusterChoiceHooks = {},
): Promise<ModelSnapshot> {
  const { clusters, clusterRange, ...rest } = options;
  const { onSuggestion, ...trainHooks } = hooks;
  if (clusters !== 'auto')
    return trainSnapshot(records, featureFields, { ...rest, clusters }, trainHooks);
  // The backend asked for, before the suggestion's pretraining would pick the default one.
  await initBackend(rest.backend ?? 'auto', hooks.log);
  const { backend: _backend, version: _version, ...suggestOptions } = rest;
  void _backend;
  void _version;
  // The suggestion pretrains the autoencoder exactly as training would; training reuses it.
  const pretrainCache = new PretrainCache();
  const suggestion = await suggestClustersForRecords(
    records,
    featureFields,
    { ...suggestOptions, range: clusterRange ?? DEFAULT_CLUSTER_COUNT_RANGE },
    {
      pretrainCache,
      ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
      ...(hooks.onProgress === undefined ? {} : { onProgress: hooks.onProgress }),
    },
  );
  onSuggestion?.(suggestion);
  hooks.signal?.throwIfAborted();
  return trainSnapshot(
    records,
    featureFields,
    { ...rest, clusters: suggestion.clusters },
    { ...trainHooks, pretrainCache },
  );
}
