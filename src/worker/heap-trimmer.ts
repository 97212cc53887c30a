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
 * collection. The swing is then bounded by the headroom, at the cost of a short pause of the main
 * thread (tens of milliseconds on that heap) every few seconds at full load. Only the main thread's
 * heap is collected: the labelling and publishing threads keep small heaps of their own.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export interface HeapTrimmerOptions {
  /** Growth past the lowest level since the last collection that triggers one, in bytes (> 0). */
  readonly headroomBytes: number;
  readonly intervalMs?: number;
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
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(options: HeapTrimmerOptions) {
    if (!(options.headroomBytes > 0)) {
      throw new RangeError(`headroomBytes must be above 0 (got ${options.headroomBytes})`);
    }
    this.headroomBytes = options.headroomBytes;
    this.intervalMs = options.intervalMs ?? 100;
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
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample: collects when the heap grew past the headroom. Returns whether it collected. */
  check(): boolean {
    const beforeBytes = this.read();
    if (beforeBytes < this.floorBytes) this.floorBytes = beforeBytes;
    if (beforeBytes - this.floorBytes <= this.headroomBytes) return false;
    const started = performance.now();
    this.collect();
    const pauseMs = performance.now() - started;
    // What survived is the new floor: a heap that really grows (a larger model, a longer window)
    // raises it, so the trimmer never collects over and over for memory that is in use.
    const afterBytes = this.read();
    this.floorBytes = afterBytes;
    this.count++;
    this.onCollect?.({ beforeBytes, afterBytes, pauseMs });
    return true;
  }
}
