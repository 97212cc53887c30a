import type { Metric, Registry } from 'prom-client';

export interface BulkHistogramOptions {
  readonly name: string;
  readonly help: string;
  /** Upper bounds, strictly increasing; `+Inf` is implied. */
  readonly buckets: readonly number[];
  readonly registers?: readonly Registry[];
}

interface SampleValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

/**
 * A label-less Prometheus histogram that takes a whole batch of values in one call.
 *
 * prom-client's `Histogram.observe` validates and hashes labels on every value (about half a
 * microsecond each); a batch of confidences or end-to-end latencies would pay that per record.
 * Here `observeMany` is one tight loop over a typed array of bucket counts, and the exposition is
 * built only when Prometheus scrapes. The object speaks the same collector protocol as prom-client's
 * own metrics (`name`, `help`, `type`, `get()`, `reset()`), so any Registry serves it.
 */
export class BulkHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly upperBounds: readonly number[];
  /** counts[i] = values in (upperBounds[i-1], upperBounds[i]]; the last slot holds values above every bound. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(options: BulkHistogramOptions) {
    const bounds = [...options.buckets];
    for (let i = 0; i < bounds.length; i++) {
      const bound = bounds[i]!;
      if (!Number.isFinite(bound) || (i > 0 && bound <= bounds[i - 1]!)) {
        throw new RangeError(`${options.name}: buckets must be finite and strictly increasing`);
      }
    }
    this.name = options.name;
    this.help = options.help;
    this.upperBounds = Object.freeze(bounds);
    this.counts = new Float64Array(bounds.length + 1);
    for (const registry of options.registers ?? []) {
      // The registry reads metrics through the collector protocol only (name, type, get, reset).
      registry.registerMetric(this as unknown as Metric);
    }
  }

  /** Counts every finite value of `values`; NaN and infinities are skipped. */
  observeMany(values: ArrayLike<number>): void {
    const bounds = this.upperBounds;
    const last = bounds.length;
    const counts = this.counts;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      let b = 0;
      while (b < last && v > bounds[b]!) b++;
      counts[b]! += 1;
      sum += v;
      n++;
    }
    this.sum += sum;
    this.count += n;
  }

  observe(value: number): void {
    this.observeMany([value]);
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** Total observations so far (for tests and logs). */
  get observations(): number {
    return this.count;
  }

  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: SampleValue[];
  }> {
    const bucketName = `${this.name}_bucket`;
    const values: SampleValue[] = [];
    let cumulative = 0;
    for (let b = 0; b < this.upperBounds.length; b++) {
      cumulative += this.counts[b]!;
      values.push({
        value: cumulative,
        labels: { le: this.upperBounds[b]! },
        metricName: bucketName,
      });
    }
    values.push({ value: this.count, labels: { le: '+Inf' }, metricName: bucketName });
    values.push({ value: this.sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.count, labels: {}, metricName: `${this.name}_count` });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
