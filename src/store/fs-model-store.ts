import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { SnapshotError } from '../errors.js';
import {
  SNAPSHOT_PREFIX_BYTES,
  decodeSnapshot,
  encodeSnapshot,
  readSnapshotSummary,
  snapshotHeaderBytes,
} from '../model/snapshot-codec.js';
import type { ModelSnapshot } from '../model/types.js';
import type { ModelStore } from './model-store.js';

const FILE_PATTERN = /^model-(\d+)\.decsnap$/;
const TEMPORARY_PATTERN = /^\.model-\d+\.\d+\.[0-9a-f]+\.tmp$/;
/** A temporary file this old belongs to a writer that died (a live save takes seconds at most). */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

export interface FsModelStoreOptions {
  /** How many versions to keep; older files are deleted after each save. Default 5. */
  readonly keep?: number;
  /** Where to report skipped (corrupted) files. */
  readonly log?: (message: string) => void;
}

/**
 * Keeps one file per model version in a directory: model-000042.decsnap. Each save writes a temporary
 * file, flushes it to disk and renames it into place, so a reader never sees half a snapshot.
 */
export class FsModelStore implements ModelStore {
  readonly dir: string;
  private readonly keep: number;
  private readonly log: (message: string) => void;

  constructor(dir: string, options: FsModelStoreOptions = {}) {
    const keep = options.keep ?? 5;
    if (!Number.isInteger(keep) || keep < 1) {
      throw new RangeError(`keep must be a positive integer, got ${keep}`);
    }
    this.dir = dir;
    this.keep = keep;
    this.log = options.log ?? (() => undefined);
  }

  /** The file that holds (or would hold) a version. */
  fileFor(version: number): string {
    return join(this.dir, `model-${String(version).padStart(6, '0')}.decsnap`);
  }

  async save(snapshot: ModelSnapshot): Promise<void> {
    const bytes = encodeSnapshot(snapshot);
    await mkdir(this.dir, { recursive: true });
    const target = this.fileFor(snapshot.version);
    const temporary = join(
      this.dir,
      `.model-${snapshot.version}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await this.syncDirectory();
    await this.prune();
  }

  async loadLatest(): Promise<ModelSnapshot | undefined> {
    const versions = await this.versions();
    for (let i = versions.length - 1; i >= 0; i--) {
      const version = versions[i] as number;
      const file = this.fileFor(version);
      try {
        const snapshot = decodeSnapshot(await readFile(file));
        if (snapshot.version !== version) {
          throw new SnapshotError(`holds version ${snapshot.version}, not ${version}`);
        }
        return snapshot;
      } catch (error) {
        if (!(error instanceof SnapshotError) && !isMissing(error)) throw error;
        this.log(`skipping model snapshot ${file}: ${(error as Error).message}`);
      }
    }
    return undefined;
  }

  async list(): Promise<{ version: number; createdAt: string }[]> {
    const out: { version: number; createdAt: string }[] = [];
    for (const version of await this.versions()) {
      const file = this.fileFor(version);
      try {
        const summary = readSnapshotSummary(await readPrefix(file));
        out.push({ version: summary.version, createdAt: summary.createdAt });
      } catch (error) {
        if (!(error instanceof SnapshotError) && !isMissing(error)) throw error;
        this.log(`skipping model snapshot ${file}: ${(error as Error).message}`);
      }
    }
    return out;
  }

  /** Version numbers with a file in the directory, ascending. */
  async versions(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const versions: number[] = [];
    for (const name of names) {
      const match = FILE_PATTERN.exec(name);
      if (match !== null) versions.push(Number(match[1]));
    }
    return versions.sort((a, b) => a - b);
  }

  /** Deletes versions beyond `keep`, and temporary files that a crashed writer left behind. */
  private async prune(): Promise<void> {
    const versions = await this.versions();
    for (const version of versions.slice(0, Math.max(0, versions.length - this.keep))) {
      await rm(this.fileFor(version), { force: true });
    }
    const cutoff = Date.now() - STALE_TEMPORARY_MS;
    for (const name of await readdir(this.dir)) {
      if (!TEMPORARY_PATTERN.test(name)) continue;
      const file = join(this.dir, name);
      try {
        if ((await stat(file)).mtimeMs < cutoff) await rm(file, { force: true });
      } catch {
        // Another writer finished or removed it meanwhile.
      }
    }
  }

  /** Makes the rename durable; some platforms cannot open a directory, which is fine to skip. */
  private async syncDirectory(): Promise<void> {
    try {
      const handle = await open(this.dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Best effort only.
    }
  }
}

async function readPrefix(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const prefix = new Uint8Array(SNAPSHOT_PREFIX_BYTES);
    const { bytesRead } = await handle.read(prefix, 0, prefix.length, 0);
    const length = snapshotHeaderBytes(prefix.subarray(0, bytesRead));
    const bytes = new Uint8Array(length);
    const read = await handle.read(bytes, 0, length, 0);
    return bytes.subarray(0, read.bytesRead);
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
