import type { ModelSnapshot } from '../../model/types.js';
import type { Logger } from '../../runtime/logger.js';
import type { ModelStore } from '../../store/model-store.js';
import type { ModelFeed, ModelPublisher } from '../ports.js';

/**
 * The trainer's model store in scale-out: a version is saved by publishing it for every replica
 * (the models topic), then written to the local cache. The newest version is the feed's, once it
 * has read the topic to its end; only when the topic holds none does the local cache answer, and
 * that version is published at once so the labellers can serve it too (a deployment that moves
 * from one replica to several keeps its model).
 */
export class SharedModelStore implements ModelStore {
  constructor(
    private readonly feed: ModelFeed,
    private readonly publisher: ModelPublisher,
    private readonly cache: ModelStore,
    private readonly log: Logger,
  ) {}

  async save(snapshot: ModelSnapshot): Promise<void> {
    await this.publisher.publish(snapshot);
    try {
      await this.cache.save(snapshot);
    } catch (error) {
      // The topic is the truth; the cache only saves a later start reading it back.
      this.log.warn('caching a published model version failed', {
        modelVersion: snapshot.version,
        error,
      });
    }
  }

  async loadLatest(): Promise<ModelSnapshot | undefined> {
    await this.feed.caughtUp;
    const published = this.feed.latest();
    if (published !== undefined) return published;
    const cached = await this.cache.loadLatest();
    if (cached === undefined) return undefined;
    this.log.info('the models topic is empty: publishing the cached version', {
      modelVersion: cached.version,
    });
    await this.publisher.publish(cached);
    return cached;
  }

  list(): Promise<{ version: number; createdAt: string }[]> {
    return this.cache.list();
  }
}
