/**
 * Keeps the main thread's memory flat while records stream through it.
 *
 * The main thread holds every fetched batch until it is published. That is long enough for the
 * decoded records to survive two scavenges and be promoted, and their values are views into the
 * fetch responses, which stay alive with them. V8 lets the old generation grow to several times its
 * live size before it collects it (on the tabular soak: about 52 MiB live, collected near 160 MiB,
 * with 50 MiB of fetch buffers on top), so RSS saws up and down by 100–150 MiB under load.
 *
 * The trimmer samples the heap and external memory every `intervalMs`. Once they have grown by more
 * than `headroomBytes` past their lowest level since the last collection, it runs a full
 * collection. The swing is then bounded by the headroom. Only the main thread's heap is collected:
 * the labelling and publishing threads keep small heaps of their own.
 *
 * A full collection is atomic: it pauses the thread for as long as marking what is alive takes
 * (about 30 ms on the main heap in the middle of a fetched batch), and a pause there stalls the
 * threads waiting on it. So where the caller can say when the thread is quiet (`quietPoint`: the
 * consumer has handled every batch of a fetch and is about to fetch the next), the trimmer
 * collects there instead: the last fetch's records are garbage by then, and the pause overlaps
 * the next fetch's round trip, when nothing waits on this thread. While quiet points keep coming,
 * the timer only collects past twice the headroom, a safety net for a fetch that grows the heap
 * further on its own.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export interface HeapTrimmerOptions {
  /** Growth past the lowest level since the last collection that triggers one, in bytes (> 0). */
  readonly headroomBytes: number;
  readonly intervalMs?: number;
  /**
   * How long after a quiet point the timer still counts quiet points as coming (and collects only
   * past twice the headroom). Default 2 s: a few fetches even at the longest fetch wait.
   */
  readonly quietWindowMs?: number;
  /** Heap used plus external memory, in bytes. Default: this thread's, from process.memoryUsage. */
  readonly read?: () => number;
  /** Runs a full collection. Default: V8's, see `fullCollection`. */
  readonly collect?: () => void;
  /** Called after each collection the trimmer ran. */
  readonly onCollect?: (event: HeapTrimEvent) => void;
}

export interface HeapTrimEvent {
  readonly beforeBytes: number;
  readonly afterBytes: number;
  readonly pauseMs: number;
  /** Whether a quiet point ran it (rather than the timer). */
  readonly atQuietPoint: boolean;
}

/** Heap used plus external memory (ArrayBuffers and Buffers included) of this thread. */
export function heapAndExternalBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * V8's full, synchronous garbage collection, as a function. Node exposes it only to a process
 * started with --expose-gc: when that flag was not given, it is turned on just long enough to take
 * the function from a fresh context, then off again, so no other code sees a global `gc`.
 */
export function fullCollection(): () => void {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') {
    const exposed = existing as () => unknown;
    return () => void exposed();
  }
  v8.setFlagsFromString('--expose-gc');
  let gc: unknown;
  try {
    gc = vm.runInNewContext('gc');
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  if (typeof gc !== 'function') throw new Error('V8 did not expose its garbage collector');
  return () => void (gc as () => unknown)();
}

export class HeapTrimmer {
  private readonly headroomBytes: number;
  private readonly intervalMs: number;
  private readonly read: () => number;
  private readonly collect: () => void;
  private readonly onCollect: ((event: HeapTrimEvent) => void) | undefined;
  /** The lowest reading since the last collection: what the heap holds live, or close above it. */
  private floorBytes = Number.POSITIVE_INFINITY;
  private readonly quietWindowMs: number;
  private timer: NodeJS.Timeout | undefined;
  private count = 0;
  /** performance.now() of the last quiet point; -Infinity before the first. */
  private lastQuietMs = Number.NEGATIVE_INFINITY;
  private quietCheckQueued = false;

  constructor(options: HeapTrimmerOptions) {
    if (!(options.headroomBytes > 0)) {
      throw new RangeError(`headroomBytes must be above 0 (got ${options.headroomBytes})`);
    }
    this.headroomBytes = options.headroomBytes;
    this.intervalMs = options.intervalMs ?? 100;
    this.quietWindowMs = options.quietWindowMs ?? 2_000;
    this.read = options.read ?? heapAndExternalBytes;
    this.collect = options.collect ?? fullCollection();
    this.onCollect = options.onCollect;
  }

  /** Collections run so far. */
  get collections(): number {
    return this.count;
  }

  /** Samples on a timer of its own; unref'd, so it never keeps the process alive. Idempotent. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reports a quiet point: the thread has let go of what it was working on and is about to wait
   * (the consumer is sending its next fetch). The check runs once the current turn is over, so
   * the fetch goes out first and the collection overlaps its round trip. Cheap enough to call on
   * every fetch.
   */
  quietPoint(): void {
    this.lastQuietMs = performance.now();
    if (this.quietCheckQueued) return;
    this.quietCheckQueued = true;
    setImmediate(() => {
      this.quietCheckQueued = false;
      this.check(this.headroomBytes, true);
    });
  }

  /** The timer's sample: the safety net while quiet points come, the only trigger otherwise. */
  tick(): boolean {
    const quiet = performance.now() - this.lastQuietMs < this.quietWindowMs;
    return this.check(quiet ? 2 * this.headroomBytes : this.headroomBytes, false);
  }

  /** One sample: collects when the heap grew past `limitBytes`. Returns whether it collected. */
  check(limitBytes: number = this.headroomBytes, atQuietPoint = false): boolean {
    const beforeBytes = this.read();
    if (beforeBytes < this.floorBytes) this.floorBytes = beforeBytes;
    if (beforeBytes - this.floorBytes <= limitBytes) return false;
    const started = performance.now();
    this.collect();
    const pauseMs = performance.now() - started;
    // What survived is the new floor: a heap that really grows (a larger model, a longer window)
    // raises it, so the trimmer never collects over and over for memory that is in use.
    const afterBytes = this.read();
    this.floorBytes = afterBytes;
    this.count++;
    this.onCollect?.({ beforeBytes, afterBytes, pauseMs, atQuietPoint });
    return true;
  }
}
