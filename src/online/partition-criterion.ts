/**
 * Whether a retrained (shadow) model replaces the serving one, by the shared criterion
 * (model/shared-graphs.ts) of both partitions of records neither trained on, each charged for the
 * separate groups it merges that the other keeps apart (`SharedGraphs.scorePair`).
 */

/**
 * How steeply the bar falls with the share r of judged records a shadow would move to another id:
 * the bar is multiplied by (1 − r)^charge. With 3, a shadow that moves 8 % of the records must
 * score 24 % below the serving model (margin included), one that gives a merged group its own
 * cluster and moves 40 % of them 79 % below. Off (0) by default: on the drift benchmark's
 * touching-cluster streams a charge of 3 stopped the promotions that lowered ACC on the streams it
 * was chosen on, and on two streams held out of that choice it moved ACC by −0.002 to +0.001,
 * once by stopping a promotion that had raised ACC (docs/benchmarks.md). It stays for users who
 * weigh stable ids above the criterion's gains.
 */
export const DEFAULT_RELABEL_CHARGE = 0;

/**
 * Most of the judged records a promotion may move from one id to another id that both versions
 * publish (id-mapping.ts, `reassignedShare`); 1, no cap, by default. A shadow that gives a new group
 * a fresh id is never held back by a cap; one that redraws the borders between the groups both
 * models hold is. With 0.02 every promotion on the drift benchmark's stationary streams of touching
 * clusters kept at least 98 % of the records on their ids, where uncapped promotions moved up to
 * 14 %; but on the held-out drifting stream drawn shorter (faster drift), the cap held back the
 * shadows that followed the drift and cost 3.6 points of accuracy (docs/benchmarks.md), so it is
 * an option for consumers who store ids, not the default.
 */
export const DEFAULT_MAX_REASSIGNED_SHARE = 1;

/** How a promotion weighs the records it would move to another id. */
export interface RelabelPolicy {
  /** The exponent of (1 − changed share) in the bar (RelabelCost.charge). */
  readonly charge: number;
  /** The cap on the share moved between ids both versions keep; 1: no cap. */
  readonly maxReassignedShare: number;
}

export const DEFAULT_RELABEL_POLICY: RelabelPolicy = {
  charge: DEFAULT_RELABEL_CHARGE,
  maxReassignedShare: DEFAULT_MAX_REASSIGNED_SHARE,
};

export interface PromotionDecision {
  readonly promote: boolean;
  /** Criterion of the serving model's partition (lower is better). */
  readonly servingScore: number;
  readonly shadowScore: number;
  /** The shadow must score below servingScore × (1 − margin) × (1 − changed share)^charge. */
  readonly margin: number;
  /** It would move more records between ids both versions keep than the cap allows. */
  readonly overCap: boolean;
  readonly detail: string;
}

/** The price a shadow pays for the records whose id it would change. */
export interface RelabelCost {
  /** Share of the judged records that would change id were the shadow promoted (after matching). */
  readonly changedShare: number;
  /** The exponent of (1 − changed share) in the bar; 0 ignores relabelling. */
  readonly charge: number;
  /** Share of the judged records that would move between ids both versions keep. */
  readonly reassignedShare?: number;
  /** Above this reassigned share the shadow is not promoted, whatever its criterion; 1: no cap. */
  readonly maxReassignedShare?: number;
}

/**
 * Promote the shadow only when its criterion beats the serving model's by the relative margin and
 * pays for the records it relabels: a retrain that is merely as good would renumber nothing useful
 * and cost a version, and where clusters touch, two equally good models draw their borders
 * differently, so a shadow that moves many records must show a gain to match. Downstream consumers
 * that store ids see every moved record as a changed answer. The price is a factor, not a term, so
 * a shadow that fixes a merge (moving a third of the records, scoring near 0) can still pass.
 * Whatever the criterion says, a shadow that would move more than `maxReassignedShare` of the
 * records between ids both versions keep is not promoted.
 */
export function decidePromotion(
  servingScore: number,
  shadowScore: number,
  margin: number,
  relabel: RelabelCost = { changedShare: 0, charge: 0 },
): PromotionDecision {
  const kept = Math.max(0, 1 - relabel.changedShare) ** relabel.charge;
  const bar = servingScore * (1 - margin) * kept;
  const reassigned = relabel.reassignedShare ?? 0;
  const cap = relabel.maxReassignedShare ?? 1;
  const withinCap = !(reassigned > cap);
  const promote =
    withinCap && Number.isFinite(shadowScore) && Number.isFinite(bar) && shadowScore < bar;
  const price =
    kept < 1
      ? `, × ${kept.toFixed(3)} for the ${(100 * relabel.changedShare).toFixed(1)}% of records it relabels`
      : '';
  const detail =
    `criterion (mean normalised cut plus merged share, lower is better): shadow ${shadowScore.toFixed(4)}, ` +
    `serving ${servingScore.toFixed(4)}, bar ${bar.toFixed(4)} (margin ${(100 * margin).toFixed(1)}%${price})` +
    (withinCap
      ? ''
      : `; it would move ${(100 * reassigned).toFixed(1)}% of the records between ids both versions keep, ` +
        `above the cap of ${(100 * cap).toFixed(1)}%`);
  return { promote, servingScore, shadowScore, margin, overCap: !withinCap, detail };
}
