import type { ModelSnapshot } from '../model/types.js';

/** Where model versions live between runs. Implementations must write atomically. */
export interface ModelStore {
  /** Stores one model version; a later save of the same version replaces it. */
  save(snapshot: ModelSnapshot): Promise<void>;
  /** The newest snapshot that decodes and verifies, skipping corrupted ones; undefined if none. */
  loadLatest(): Promise<ModelSnapshot | undefined>;
  /** Stored versions, oldest first, read from their headers (not verified). */
  list(): Promise<{ version: number; createdAt: string }[]>;
}
