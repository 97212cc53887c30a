/**
 * Measures one consumer from its first record to its N-th published record: wall time, CPU time of
 * this process (process.cpuUsage), and resident memory sampled on a timer and every `sampleEvery`
 * records.
 */
import { readFileSync } from 'node:fs';

export interface MeterResult {
  readonly records: number;
  /** First record consumed → last record published (and committed). */
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly cpuUserSeconds: number;
  readonly cpuSystemSeconds: number;
  /** CPU seconds per wall second (1.0 = one core busy). */
  readonly cpuCores: number;
  /** CPU time of this process per record, µs: on a shared machine the steadier cost figure. */
  readonly cpuMicrosPerRecord: number;
  /**
   * CPU time of the main thread alone per record, µs (Linux; undefined elsewhere): with a
   * labelling thread, the part of the cost that bounds throughput when a second core is free.
   */
  readonly mainThreadCpuMicrosPerRecord: number | undefined;
  /** Highest RSS sampled during the measurement, MiB. */
  readonly peakRssMiB: number;
  /** process.resourceUsage().maxRSS at the end, MiB (the process's lifetime peak). */
  readonly maxRssMiB: number;
  /** RSS (MiB) after every `sampleEvery` records, when asked for. */
  readonly rssSamples: readonly RssSample[];
  /** Named event counts noted during the run (e.g. retried transaction requests). */
  readonly events: Readonly<Record<string, number>>;
}

const MiB = 1024 * 1024;

/** CPU seconds the main thread has used (its /proc task entry), or undefined off Linux. */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name in parentheses: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux platform Node supports. */
const clockTicksPerSecond = 100;

export interface RssSample {
  readonly records: number;
  readonly rssMiB: number;
  /** V8 heap in use, MiB. */
  readonly heapUsedMiB: number;
  /** Memory outside the V8 heap (Buffers, the wasm memory of tfjs), MiB. */
  readonly externalMiB: number;
}

function sample(records: number): RssSample {
  const m = process.memoryUsage();
  const mib = (v: number) => Math.round((v / MiB) * 10) / 10;
  return {
    records,
    rssMiB: mib(m.rss),
    heapUsedMiB: mib(m.heapUsed),
    externalMiB: mib(m.external),
  };
}

export class Meter {
  private count = 0;
  private startedAt = 0;
  private cpuStart: NodeJS.CpuUsage | undefined;
  private mainCpuStart: number | undefined;
  private peakRss = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextSample: number;
  private readonly samples: RssSample[] = [];
  private resolveDone!: (result: MeterResult) => void;
  /** Settles once `expected` records were counted (never when expected is 0: call finish()). */
  readonly done: Promise<MeterResult>;

  constructor(
    private readonly expected: number,
    private readonly sampleEvery = 0,
    private readonly onStart: () => void = () => undefined,
  ) {
    this.nextSample = sampleEvery;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  private readonly events: Record<string, number> = {};

  /** Notes one occurrence of a named event. */
  note(event: string): void {
    this.events[event] = (this.events[event] ?? 0) + 1;
  }

  get counted(): number {
    return this.count;
  }

  /** The first record was read: the clock starts. Later calls do nothing. */
  start(): void {
    if (this.cpuStart !== undefined) return;
    this.startedAt = performance.now();
    this.cpuStart = process.cpuUsage();
    this.mainCpuStart = mainThreadCpuSeconds();
    this.sampleRss();
    this.timer = setInterval(() => this.sampleRss(), 200);
    this.timer.unref();
    this.onStart();
  }

  /** `n` more records were published. */
  add(n: number): void {
    this.start();
    this.count += n;
    while (this.sampleEvery > 0 && this.count >= this.nextSample) {
      this.samples.push(sample(this.nextSample));
      this.nextSample += this.sampleEvery;
    }
    if (this.expected > 0 && this.count >= this.expected) this.finish();
  }

  private finished = false;

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.start();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.sampleRss();
    const seconds = (performance.now() - this.startedAt) / 1000;
    const cpu = process.cpuUsage(this.cpuStart);
    const user = cpu.user / 1e6;
    const system = cpu.system / 1e6;
    const mainCpuEnd = mainThreadCpuSeconds();
    const mainCpu =
      mainCpuEnd === undefined || this.mainCpuStart === undefined
        ? undefined
        : mainCpuEnd - this.mainCpuStart;
    this.resolveDone({
      records: this.count,
      seconds,
      recordsPerSecond: seconds > 0 ? this.count / seconds : 0,
      cpuUserSeconds: user,
      cpuSystemSeconds: system,
      cpuCores: seconds > 0 ? (user + system) / seconds : 0,
      cpuMicrosPerRecord: this.count > 0 ? ((user + system) * 1e6) / this.count : 0,
      mainThreadCpuMicrosPerRecord:
        mainCpu === undefined || this.count === 0 ? undefined : (mainCpu * 1e6) / this.count,
      peakRssMiB: this.peakRss / MiB,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      rssSamples: this.samples,
      events: { ...this.events },
    });
  }

  private sampleRss(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
  }
}
