/**
 * Measures how late the event loop runs a timer: every `intervalMs` a timer is due, and the
 * difference between when it fires and when it was due is the loop's delay. The largest delay of
 * the last `windowMs` is what /healthz compares with its bound. The timer is unref'd, so it never
 * keeps the process alive.
 */
export class EventLoopMonitor {
  private readonly intervalMs: number;
  private readonly slots: Float64Array;
  private slot = 0;
  private expectedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { intervalMs?: number; windowMs?: number } = {}) {
    this.intervalMs = options.intervalMs ?? 500;
    const windowMs = options.windowMs ?? 10_000;
    this.slots = new Float64Array(Math.max(1, Math.ceil(windowMs / this.intervalMs)));
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.expectedAt = performance.now() + this.intervalMs;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The largest delay seen in the window, in milliseconds, including the delay of a tick that is
   * overdue right now (a loop blocked for longer than the window still shows up).
   */
  maxDelayMs(): number {
    let max = 0;
    for (const delay of this.slots) if (delay > max) max = delay;
    if (this.timer !== undefined) max = Math.max(max, performance.now() - this.expectedAt);
    return max;
  }

  private tick(): void {
    const now = performance.now();
    this.slots[this.slot] = Math.max(0, now - this.expectedAt);
    this.slot = (this.slot + 1) % this.slots.length;
    this.expectedAt = now + this.intervalMs;
  }
}
