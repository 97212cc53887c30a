/** What one chaos scenario reports: whether it held, its figures, and what they mean. */
export interface ScenarioResult {
  readonly name: string;
  readonly passed: boolean;
  /** True when the scenario could not run here (say why in notes); it then neither passes nor fails. */
  readonly skipped?: boolean;
  readonly figures: Record<string, number | string>;
  readonly notes: readonly string[];
}
