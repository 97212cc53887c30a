/** What one chaos scenario reports: whether it held, its figures, and what they mean. */
export interface ScenarioResult {
  readonly name: string;
  readonly passed: boolean;
  /** True when the scenario could not run here (say why in notes); it then neither passes nor fails. */
  readonly skipped?: boolean;
  readonly figures: Record<string, number | string>;
  readonly notes: readonly string[];
  /** When it ran and the machine's 1-minute load average then (set by the suite's runner). */
  readonly ranAt?: string;
  readonly loadAverage?: number;
}
