/**
 * Time from a new version on the models topic to every replica labelling with it: while records
 * keep arriving, the benchmark publishes a copy of the serving model under the next version
 * number and waits for each replica's labeller to log that it serves it (which it does between
 * two batches, just before labelling the next one with it).
 */
import type { KafkaModelPublisher } from '../../src/kafka/kafka-model-publisher.js';
import type { ModelSnapshot } from '../../src/model/types.js';
import type { Replica } from './replica.js';

export interface SwapLatency {
  readonly version: number;
  /** How long the publishing transaction took (chunks, manifest, commit). */
  readonly publishMs: number;
  /** Milliseconds from the start of publishing (its transaction included) to each replica's swap. */
  readonly perReplicaMs: readonly number[];
  /** The slowest replica's: when every replica labels with the new version. */
  readonly everyReplicaMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** When the replica's labeller logged serving `version` (epoch ms), or undefined before then. */
function servingSince(replica: Replica, version: number): number | undefined {
  const line = replica.logs.find(
    (l) => l.msg === 'model serving' && l.modelVersion === version && l.role !== 'trainer',
  );
  return typeof line?.ts === 'string' ? Date.parse(line.ts) : undefined;
}

export async function measureSwaps(options: {
  readonly publisher: KafkaModelPublisher;
  readonly snapshot: ModelSnapshot;
  readonly firstVersion: number;
  readonly swaps: number;
  readonly replicas: readonly Replica[];
  /** Pause before each publication, so the previous swap has settled. */
  readonly pauseMs: number;
}): Promise<SwapLatency[]> {
  const results: SwapLatency[] = [];
  for (let i = 0; i < options.swaps; i++) {
    const version = options.firstVersion + i;
    await sleep(options.pauseMs);
    // Timed from before the publication: a replica may read the committed version before the
    // commit's answer reaches the publisher.
    const publishedMs = Date.now();
    await options.publisher.publish({ ...options.snapshot, version });
    const publishMs = Date.now() - publishedMs;
    const deadline = publishedMs + 60_000;
    let since = options.replicas.map((r) => servingSince(r, version));
    while (since.some((s) => s === undefined)) {
      if (Date.now() > deadline) throw new Error(`not every replica took up version ${version}`);
      await sleep(20);
      since = options.replicas.map((r) => servingSince(r, version));
    }
    const perReplicaMs = since.map((s) => (s as number) - publishedMs);
    results.push({ version, publishMs, perReplicaMs, everyReplicaMs: Math.max(...perReplicaMs) });
  }
  return results;
}
