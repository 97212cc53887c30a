import type { SourceRecord } from './ports.js';

export interface BootstrapWindowOptions {
  /** Collect this many records, then train. */
  readonly records: number;
  /** After `maxWaitMs`, train as soon as at least this many records are in. */
  readonly minRecords: number;
  readonly maxWaitMs: number;
  /** How often the deadline is checked. */
  readonly checkIntervalMs?: number;
  readonly now?: () => number;
}

/**
 * The records the bootstrap trains on, kept raw in memory: exactly the first `records` records
 * offered (at most). `ready` settles when the window is full, or when the deadline passed with at
 * least `minRecords` collected, or when it is closed early.
 */
export class BootstrapWindow {
  readonly ready: Promise<void>;
  private readonly options: BootstrapWindowOptions;
  private readonly now: () => number;
  private readonly startedAt: number;
  private records: SourceRecord[] = [];
  /** Highest offset taken per partition: a batch fetched again after a rebalance is not taken twice. */
  private readonly highest = new Map<number, bigint>();
  private collecting = true;
  private timer: NodeJS.Timeout | undefined;
  private settle!: () => void;

  constructor(options: BootstrapWindowOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.ready = new Promise<void>((resolve) => {
      this.settle = resolve;
    });
    this.timer = setInterval(() => this.check(), options.checkIntervalMs ?? 250);
    this.timer.unref();
  }

  get size(): number {
    return this.records.length;
  }

  /** True until the window has closed; records offered later are refused. */
  get isCollecting(): boolean {
    return this.collecting;
  }

  /**
   * Takes records from the front of `records` until the window is full, and returns how many of
   * them it went through (0 once closed). The rest are not the window's: the caller leaves them to
   * be fetched again and labelled online.
   */
  add(records: readonly SourceRecord[]): number {
    if (!this.collecting) return 0;
    let used = 0;
    for (const record of records) {
      if (this.records.length >= this.options.records) break;
      used++;
      const offset = BigInt(record.offset);
      const highest = this.highest.get(record.partition);
      if (highest !== undefined && offset <= highest) continue;
      this.highest.set(record.partition, offset);
      this.records.push(record);
    }
    this.check();
    return used;
  }

  /** Stops collecting and settles `ready` (with whatever has been collected). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.collecting = false;
    this.settle();
  }

  /** Hands the collected records over and empties the window. */
  take(): SourceRecord[] {
    const records = this.records;
    this.records = [];
    return records;
  }

  private check(): void {
    if (!this.collecting) return;
    const full = this.records.length >= this.options.records;
    const late =
      this.now() - this.startedAt >= this.options.maxWaitMs &&
      this.records.length >= Math.max(1, this.options.minRecords);
    if (full || late) this.close();
  }
}
