/**
 * Whether a retrained (shadow) model replaces the serving one, by the shared criterion
 * (model/shared-graphs.ts) of both partitions of records neither trained on, each charged for the
 * separate groups it merges that the other keeps apart (`SharedGraphs.scorePair`).
 */

export interface PromotionDecision {
  readonly promote: boolean;
  /** Criterion of the serving model's partition (lower is better). */
  readonly servingScore: number;
  readonly shadowScore: number;
  /** The shadow must score below servingScore × (1 − margin). */
  readonly margin: number;
  readonly detail: string;
}

/**
 * Promote the shadow only when its criterion beats the serving model's by the relative margin:
 * a retrain that is merely as good would renumber nothing useful and cost a version.
 */
export function decidePromotion(
  servingScore: number,
  shadowScore: number,
  margin: number,
): PromotionDecision {
  const bar = servingScore * (1 - margin);
  const promote = Number.isFinite(shadowScore) && shadowScore < bar;
  const detail =
    `criterion (mean normalised cut plus merged share, lower is better): shadow ${shadowScore.toFixed(4)}, ` +
    `serving ${servingScore.toFixed(4)}, bar ${bar.toFixed(4)} (margin ${(100 * margin).toFixed(1)}%)`;
  return { promote, servingScore, shadowScore, margin, detail };
}
