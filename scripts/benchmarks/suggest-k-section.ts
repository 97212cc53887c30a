/**
 * The `bench:suggest-k` block of docs/benchmarks.md, from bench/results/suggest-k.json: the hit
 * rates of every rule tried, on the tuning and held-out halves apart, and the chosen rule's k per
 * data set. A missing file or field renders "not measured".
 */
const NotMeasured = 'not measured';

interface HalfRates {
  readonly runs?: number;
  readonly exact?: number;
  readonly withinOne?: number;
}

interface Candidate {
  readonly rule?: string;
  readonly tuning?: HalfRates;
  readonly heldOut?: HalfRates;
  readonly all?: HalfRates;
}

interface PerSet {
  readonly set?: string;
  readonly half?: string;
  readonly clusters?: number;
  readonly chosen?: readonly number[];
  /** The default rule's k per seed (absent in results from before it was recorded). */
  readonly byDefault?: readonly number[];
}

interface SuggestKResult {
  readonly seeds?: readonly number[];
  readonly maxRows?: number;
  readonly range?: { readonly min?: number; readonly max?: number };
  readonly chosenRule?: { readonly rule?: string; readonly isDefault?: boolean };
  readonly defaultRule?: string;
  readonly secondsMedian?: number;
  readonly secondsMax?: number;
  readonly candidates?: readonly Candidate[];
  readonly perSet?: readonly PerSet[];
}

const percent = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? NotMeasured : `${(100 * v).toFixed(0)} %`;

const rates = (h: HalfRates | undefined): string =>
  `${percent(h?.exact)} | ${percent(h?.withinOne)}`;

export function suggestKSection(raw: unknown): string {
  const r = (raw ?? {}) as SuggestKResult;
  const candidates = r.candidates ?? [];
  if (candidates.length === 0) return `suggest-k: ${NotMeasured} (run npm run bench:suggest-k).`;
  const header = [
    `k from ${r.range?.min ?? '?'} to ${r.range?.max ?? '?'}; at most ${r.maxRows ?? '?'} rows per set; ` +
      `seeds ${(r.seeds ?? []).join(', ') || NotMeasured}. Time per set and seed (pretraining, layout, ` +
      `scoring of the default rule): median ${r.secondsMedian?.toFixed(0) ?? NotMeasured} s, ` +
      `longest ${r.secondsMax?.toFixed(0) ?? NotMeasured} s.`,
    '',
    '| Rule | Tuning exact | Tuning ±1 | Held-out exact | Held-out ±1 | All exact | All ±1 |',
    '| ---- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...candidates.map(
      (c) =>
        `| ${c.rule ?? '?'}${ruleNote(c.rule, r)} | ${rates(c.tuning)} | ${rates(c.heldOut)} | ${rates(c.all)} |`,
    ),
    '',
    r.chosenRule?.isDefault === true
      ? 'The chosen rule is the one `dec-stream suggest-k` and `DEC_CLUSTERS=auto` use.'
      : 'The rule the tuning half chooses is **not** the default of `dec-stream suggest-k`; the ' +
        "default's k is beside it below.",
    '',
    ...perSetTable(r),
  ];
  return header.join('\n');
}

function ruleNote(rule: string | undefined, r: SuggestKResult): string {
  const notes = [
    ...(rule === r.chosenRule?.rule ? ['chosen on the tuning half'] : []),
    ...(rule === r.defaultRule && r.chosenRule?.isDefault !== true ? ['the default'] : []),
  ];
  return notes.length === 0 ? '' : ` (${notes.join('; ')})`;
}

/** The default rule's k per set and seed, and the chosen rule's beside it when they differ. */
function perSetTable(r: SuggestKResult): string[] {
  const both = r.chosenRule?.isDefault !== true && (r.perSet ?? []).some((s) => s.byDefault);
  const pick = (s: PerSet): string => (both ? s.byDefault : s.chosen)?.join(', ') ?? '';
  return [
    both
      ? '| Set | Half | True k | Default rule: k per seed | Chosen rule: k per seed |'
      : '| Set | Half | True k | Chosen k per seed |',
    both ? '| --- | ---- | ---: | --- | --- |' : '| --- | ---- | ---: | --- |',
    ...(r.perSet ?? []).map(
      (s) =>
        `| ${s.set ?? '?'} | ${s.half ?? '?'} | ${s.clusters ?? '?'} | ${pick(s)} |` +
        (both ? ` ${(s.chosen ?? []).join(', ')} |` : ''),
    ),
  ];
}
