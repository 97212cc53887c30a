/** In-memory stand-ins for the worker's ports, for unit tests of the lifecycle. */
import type { ModelSnapshot } from '../../../src/model/types.js';
import type { ModelStore } from '../../../src/store/model-store.js';
import type {
  BatchHandler,
  OutputSink,
  PartitionBatch,
  PublishUnit,
  RecordStream,
  RecordStreamOptions,
  SourceRecord,
} from '../../../src/worker/ports.js';

export function jsonRecord(offset: number, value: unknown, partition = 0): SourceRecord {
  return {
    topic: 'in',
    partition,
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value:
      value === null
        ? null
        : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: { origin: 'unit' },
    timestampMs: Date.now(),
  };
}

export class FakeStream implements RecordStream {
  handler: BatchHandler | undefined;
  paused = false;
  running = false;
  stopped = false;
  closed = false;
  resolved = new Map<number, string>();
  private failure: ((error: unknown) => void) | undefined;
  private assignment: ((partitions: readonly number[]) => void) | undefined;
  private contactListener: (() => void) | undefined;

  /** What the worker asked for when it started the stream. */
  startOptions: RecordStreamOptions | undefined;

  start(handler: BatchHandler, options?: RecordStreamOptions): Promise<void> {
    this.handler = handler;
    this.startOptions = options;
    this.running = true;
    this.assignment?.([0]);
    return Promise.resolve();
  }
  pauseAll(): void {
    this.paused = true;
  }
  resumeAll(): void {
    this.paused = false;
  }
  stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  onFailure(listener: (error: unknown) => void): void {
    this.failure = listener;
  }
  onAssignment(listener: (partitions: readonly number[]) => void): void {
    this.assignment = listener;
  }
  onContact(listener: () => void): void {
    this.contactListener = listener;
  }
  /** The brokers answered (a heartbeat or a fetch came back). */
  contact(): void {
    this.contactListener?.();
  }
  /** A rebalance handed this member `partitions`. */
  assign(partitions: readonly number[]): void {
    this.assignment?.(partitions);
  }
  crash(error: unknown): void {
    this.failure?.(error);
  }

  /** Hands `records` to the worker as one fetched batch; `stopAfter` units ends isRunning(). */
  async deliver(records: SourceRecord[], options: { runningFor?: number } = {}): Promise<void> {
    let heartbeats = 0;
    const batch: PartitionBatch = {
      topic: 'in',
      partition: records[0]?.partition ?? 0,
      records,
      highWatermark: String(Number(records[records.length - 1]?.offset ?? 0) + 1),
      resolve: (offset) => this.resolved.set(records[0]?.partition ?? 0, offset),
      heartbeat: () => {
        heartbeats++;
        return Promise.resolve();
      },
      isRunning: () =>
        this.running && (options.runningFor === undefined || heartbeats < options.runningFor),
      isStale: () => false,
    };
    await (this.handler as BatchHandler)(batch);
  }
}

export class FakeSink implements OutputSink {
  delivery: OutputSink['delivery'] = 'at-least-once';
  units: PublishUnit[] = [];
  committed: string | undefined;
  closed = false;
  failClose = false;
  start(): Promise<void> {
    return Promise.resolve();
  }
  claim(): Promise<string | undefined> {
    return Promise.resolve(this.committed);
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
  /** Offsets (nextOffset) whose publish fails. */
  failAt = new Set<string>();
  /**
   * Queue units in order, as the publishing thread does: `publish` hands a unit over at once, units
   * are written one after the other in call order, and after a failed one none of the later ones is.
   */
  queuesInOrder = false;
  /** nextOffset of every unit handed over, in call order. */
  handed: string[] = [];
  /** Units handed over and not yet settled, at most. */
  maxConcurrent = 0;
  private active = 0;
  private queue: Promise<void> = Promise.resolve();
  private halted: Error | undefined;
  publish(unit: PublishUnit): Promise<void> {
    this.handed.push(unit.nextOffset);
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    const write = async (): Promise<void> => {
      if (this.halted !== undefined) throw new Error(`not written after: ${this.halted.message}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.failAt.has(unit.nextOffset)) {
        const error = new Error(`publish of ${unit.nextOffset} failed`);
        if (this.queuesInOrder) this.halted = error;
        throw error;
      }
      this.units.push(unit);
    };
    const written = this.queuesInOrder ? this.queue.then(write) : write();
    if (this.queuesInOrder) this.queue = written.catch(() => undefined);
    const settle = (): void => {
      this.active--;
    };
    written.then(settle, settle);
    return written;
  }
  close(): Promise<void> {
    this.closed = true;
    return this.failClose ? Promise.reject(new Error('close failed')) : Promise.resolve();
  }
  get labelled(): number {
    return this.units.reduce((n, u) => n + u.labelled.length, 0);
  }
}

export class MemoryStore implements ModelStore {
  saved: ModelSnapshot[] = [];
  constructor(private latest?: ModelSnapshot) {}
  save(snapshot: ModelSnapshot): Promise<void> {
    this.saved.push(snapshot);
    this.latest = snapshot;
    return Promise.resolve();
  }
  loadLatest(): Promise<ModelSnapshot | undefined> {
    return Promise.resolve(this.latest);
  }
  list(): Promise<{ version: number; createdAt: string }[]> {
    return Promise.resolve(this.saved.map((s) => ({ version: s.version, createdAt: s.createdAt })));
  }
}
