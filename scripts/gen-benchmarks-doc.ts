/**
 * Writes the result tables of docs/benchmarks.md (and the headline in README.md) from
 * bench/results/*.json. Only the text between `<!-- bench:NAME:start -->` and
 * `<!-- bench:NAME:end -->` is replaced; everything outside the markers is prose and stays as is.
 * A missing file or field prints "not measured" instead of failing. `--check` exits 1 instead of
 * writing when a document is out of date.
 *
 *   npm run docs:benchmarks            regenerate
 *   npm run docs:benchmarks -- --check verify
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_METHOD } from '../src/model/defaults.js';
import { externalSection } from './benchmarks/external-section.js';
import { scaleSection } from './benchmarks/scale-section.js';
import { suggestKSection } from './benchmarks/suggest-k-section.js';

const benchmarksDocPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const resultsDir = new URL('../bench/results/', import.meta.url);

export const NotMeasured = 'not measured';

/** Parsed result files by benchmark name; a missing or unreadable file is undefined. */
export type Results = Readonly<Record<string, unknown>>;

const benchmarkNames = [
  'train',
  'quality',
  'stream',
  'drift',
  'throughput',
  'codecs',
  'suite',
  'suggest-k',
  'scale',
  'external',
] as const;

function readResults(dir: URL = resultsDir): Results {
  const out: Record<string, unknown> = {};
  for (const name of benchmarkNames) {
    try {
      out[name] = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as unknown;
    } catch {
      out[name] = undefined;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading fields that may be missing

/** The value at a dotted path (`a.b.0.c`), or undefined when any step is missing. */
export function at(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function numberAt(root: unknown, path: string): number | undefined {
  const value = at(root, path);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function textAt(root: unknown, path: string): string | undefined {
  const value = at(root, path);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function arrayAt(root: unknown, path: string): unknown[] {
  const value = at(root, path);
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** The entries of an object, or none when `value` is not one. */
function entriesOf(value: unknown): [string, unknown][] {
  return value !== null && typeof value === 'object' ? Object.entries(value) : [];
}

/** A number with `digits` decimals, or "not measured". */
function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? NotMeasured : value.toFixed(digits);
}

/** A whole number with thousands separators, or "not measured". */
function whole(value: number | undefined): string {
  return value === undefined
    ? NotMeasured
    : Math.round(value).toLocaleString('en-US', { maximumFractionDigits: 0 });
}

function withUnit(text: string, unit: string): string {
  return text === NotMeasured ? text : `${text} ${unit}`;
}

/** The number at `path` with `digits` decimals and an optional unit, or "not measured". */
function num(root: unknown, path: string, digits: number, unit?: string): string {
  const text = fixed(numberAt(root, path), digits);
  return unit === undefined ? text : withUnit(text, unit);
}

/** The whole number at `path` with thousands separators and an optional unit, or "not measured". */
function count(root: unknown, path: string, unit?: string): string {
  const text = whole(numberAt(root, path));
  return unit === undefined ? text : withUnit(text, unit);
}

/** "median (min–max)" of a {median, min, max} object. */
function spread(root: unknown, path: string, digits = 3): string {
  const median = numberAt(root, `${path}.median`);
  if (median === undefined) return NotMeasured;
  const min = numberAt(root, `${path}.min`);
  const max = numberAt(root, `${path}.max`);
  const range =
    min === undefined || max === undefined ? '' : ` (${fixed(min, digits)}–${fixed(max, digits)})`;
  return `${fixed(median, digits)}${range}`;
}

export type Verdict = 'yes' | 'no' | typeof NotMeasured | '—';

/** Whether a figure meets its target: yes, no, or not measured when the figure is missing. */
export function verdict(value: number | undefined, meets: (v: number) => boolean): Verdict {
  if (value === undefined) return NotMeasured;
  return meets(value) ? 'yes' : 'no';
}

function verdictOf(flag: unknown, value: unknown): Verdict {
  if (typeof value !== 'number' || !Number.isFinite(value)) return NotMeasured;
  if (flag === true) return 'yes';
  if (flag === false) return 'no';
  return NotMeasured;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

function day(iso: string | undefined): string {
  return iso === undefined ? 'date not recorded' : iso.slice(0, 10);
}

/**
 * "_Measured <day> · <n> vCPU <model> · Node <v> · tfjs backend <b> · load…_" for a result or a
 * part of one. Results written through bench/common keep these under `date` and `machine`; older
 * committed ones kept some at the top level or under other names, read here as fallbacks.
 */
function machineLine(r: unknown, backend: string | undefined): string {
  const cpus = numberAt(r, 'machine.cores') ?? numberAt(r, 'machine.cpus') ?? numberAt(r, 'cpus');
  const cpuModel = textAt(r, 'machine.cpuModel') ?? textAt(r, 'cpuModel');
  const node = textAt(r, 'machine.node') ?? textAt(r, 'node');
  const load = numberAt(r, 'machine.loadAverageAtStart.0');
  const date = textAt(r, 'date') ?? textAt(r, 'updatedAt') ?? textAt(r, 'createdAt');
  const pieces = [
    `Measured ${day(date)}`,
    cpus === undefined && cpuModel === undefined
      ? undefined
      : `${cpus ?? '?'} vCPU ${cpuModel ?? ''}`.trim(),
    node === undefined ? undefined : `Node ${node.replace(/^v/, '')}`,
    backend === undefined ? undefined : `tfjs backend ${backend}`,
    load === undefined ? undefined : `1-min load average at start ${load.toFixed(1)}`,
  ].filter((p): p is string => p !== undefined);
  return `_${pieces.join(' · ')}._`;
}

/** A table row with a target: `row` holds figure, result and target; `met` is the last column. */
interface JudgedRow {
  readonly name: string;
  readonly row: readonly string[];
  readonly met: Verdict;
}

/** A row that reports a figure and has no target. */
function info(figure: string, result: string): JudgedRow {
  return { name: figure, row: [figure, result, '—'], met: '—' };
}

/** The table of figures against their targets: figure, result, target, met. */
function judgedTable(rows: readonly JudgedRow[], columns = ['Figure', 'Result']): string {
  return table(
    [...columns, 'Target', 'Met'],
    rows.map((r) => [...r.row, r.met]),
  );
}

/** One line naming the rows whose target column says "no" (or that all measured targets are met). */
function missedLine(rows: readonly { name: string; met: Verdict }[]): string {
  const judged = rows.filter((r) => r.met === 'yes' || r.met === 'no');
  if (judged.length === 0) return 'No target was measured in this run.';
  const missed = judged.filter((r) => r.met === 'no').map((r) => r.name);
  if (missed.length === 0) {
    return judged.length === 1
      ? 'The one measured target is met.'
      : `All ${judged.length} measured targets are met.`;
  }
  return `Targets missed: ${missed.join('; ')}.`;
}

function notMeasuredSection(file: string): string {
  return `_${NotMeasured}: bench/results/${file}.json is missing or unreadable._`;
}

// ---------------------------------------------------------------------------------------------
// Sections

function trainSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('train');
  const architecture = arrayAt(r, 'architecture').join('-') || NotMeasured;
  const rows = [
    ['Autoencoder', architecture],
    ['Training rows × epochs', `${count(r, 'rows')} × ${count(r, 'epochs')}`],
    ['Mini-batch', count(r, 'batchSize')],
    ['Work per sample per step', withUnit(fixed(mflop(numberAt(r, 'flopsPerSample')), 1), 'MFLOP')],
    ['Pretraining, seconds per epoch', num(r, 'pretrain.secondsPerEpoch', 2, 's')],
    ['Pretraining, samples per second', count(r, 'pretrain.samplesPerSecond')],
    ['Pretraining, achieved rate', num(r, 'pretrain.gflops', 1, 'GFLOP/s')],
    ['Backend matMul on the same shapes', num(r, 'matMul.gflops', 1, 'GFLOP/s')],
    ['Training rate ÷ matMul rate', num(r, 'ratioToMatMul', 2)],
    ['Assignment (embed + soft assign), rows per second', count(r, 'assignRowsPerSecond')],
  ];
  return [machineLine(r, textAt(r, 'backend')), '', table(['Figure', 'Result'], rows)].join('\n');
}

function mflop(flops: number | undefined): number | undefined {
  return flops === undefined ? undefined : flops / 1e6;
}

/** Published anchors beside our MNIST-10k numbers (they are on MNIST-70k). */
const mnistAnchors: Record<string, string> = {
  kmeansRaw: '~0.53 (k-means, MNIST-70k)',
  aeKmeans: '—',
  dec: '0.843 (DEC paper, MNIST-70k)',
  idec: '0.881 (IDEC paper, MNIST-70k)',
};
const mnistMethods: readonly [string, string][] = [
  ['kmeansRaw', 'k-means on raw pixels'],
  ['aeKmeans', 'autoencoder + k-means'],
  ['dec', 'DEC'],
  ['idec', 'IDEC'],
];
const mnistTargetAcc = 0.85;

/** The result keys of MNIST runs: `mnist` first, then any other run stored beside it. */
function mnistKeys(r: unknown): string[] {
  const others = entriesOf(r).map(([k]) => k);
  return ['mnist', ...others.filter((k) => /^mnist/.test(k) && k !== 'mnist').sort()];
}

/** How a run's training images were augmented, if they were. */
function augmentationText(run: unknown): string {
  const shift = numberAt(run, 'settings.imageAugmentation.maxShift');
  const degrees = numberAt(run, 'settings.imageAugmentation.maxRotationDegrees');
  if (shift === undefined || degrees === undefined) return 'no augmentation';
  return (
    `training images augmented (DEC-DA: random shifts up to ${whole(shift)} px and rotations ` +
    `up to ${whole(degrees)}°, \`DEC_AUGMENT_IMAGE=28x28\`)`
  );
}

/** One MNIST run: settings, the per-method table against the anchors and target, the seeds. */
function mnistRun(r: unknown, key: string, judged: { name: string; met: Verdict }[]): string[] {
  const m = at(r, key);
  const title = key === 'mnist' ? '**MNIST-10k**' : `**MNIST-10k, run \`${key}\`**`;
  if (m === undefined) return [title, '', `_${NotMeasured}._`];
  const seeds = arrayAt(m, 'seeds');
  const first = seeds[0];
  const defaultMethod = DEFAULT_METHOD;
  const suffix = key === 'mnist' ? '' : ` (${key})`;
  const parts: string[] = [
    title,
    '',
    `${whole(seeds.length || undefined)} seed${seeds.length === 1 ? '' : 's'} on ` +
      `${count(first, 'rows')} digits, k = 10; ` +
      `${count(m, 'settings.epochs')} pretraining epochs, at most ` +
      `${count(m, 'settings.maxIterations')} clustering steps, target distribution ` +
      `updated every ${count(m, 'settings.updateInterval')} steps; ` +
      augmentationText(m) +
      '. ' +
      `Wall time ${withUnit(fixed(minutes(numberAt(m, 'wallSeconds')), 0), 'min')}.`,
    '',
  ];
  const rows = mnistMethods.map(([method, label]) => {
    const acc = numberAt(m, `summary.${method}.acc.median`);
    // Only the main run is judged; the others are kept for comparison.
    const targeted = key === 'mnist' && (method === 'dec' || method === 'idec');
    const met: Verdict = targeted ? verdict(acc, (v) => v >= mnistTargetAcc) : '—';
    if (targeted) judged.push({ name: `${label} ACC on MNIST-10k${suffix}`, met });
    return [
      method === defaultMethod ? `${label} (default)` : label,
      spread(m, `summary.${method}.acc`),
      spread(m, `summary.${method}.nmi`),
      mnistAnchors[method] ?? '—',
      targeted ? `≥ ${mnistTargetAcc.toFixed(2)} median` : '—',
      met,
    ];
  });
  parts.push(
    table(
      ['Method', 'ACC median (min–max)', 'NMI median (min–max)', 'Published ACC', 'Target', 'Met'],
      rows,
    ),
    '',
    'Per seed:',
    '',
    table(
      ['Seed', 'k-means raw', 'AE + k-means', 'DEC', 'IDEC', 'Pretraining loss', 'Wall'],
      seeds.map((s) => [
        String(numberAt(s, 'seed') ?? NotMeasured),
        num(s, 'kmeansRaw.acc', 3),
        num(s, 'aeKmeans.acc', 3),
        num(s, 'dec.acc', 3),
        num(s, 'idec.acc', 3),
        num(s, 'pretrain.loss', 4),
        withUnit(fixed(minutes(numberAt(s, 'wallSeconds')), 0), 'min'),
      ]),
    ),
  );
  return parts;
}

function qualitySection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('quality');
  const judged: { name: string; met: Verdict }[] = [];
  const parts: string[] = [machineLine(r, textAt(r, 'mnist.seeds.0.backend'))];
  for (const key of mnistKeys(r)) parts.push('', ...mnistRun(r, key, judged));

  const t = at(r, 'tabular');
  parts.push('', '**Tabular (synthetic non-linear mixture)**', '');
  if (t === undefined) {
    parts.push(`_${NotMeasured}._`);
  } else {
    parts.push(
      `${count(t, 'spec.samples')} records, ${count(t, 'spec.dims')} features, ` +
        `${count(t, 'spec.clusters')} clusters; ${count(t, 'settings.seeds')} seeds ` +
        `per row. "Fresh" is a new sample of the same distribution labelled by the trained model. ` +
        `Target: the median fresh ACC beats k-means (${count(t, 'settings.kmeansRestarts')} ` +
        `restarts) on the same fresh sample.`,
      '',
    );
    const kmeansFresh = numberAt(t, 'kmeans.fresh.acc');
    const rows: string[][] = [
      [
        'k-means (standardised features)',
        num(t, 'kmeans.train.acc', 3),
        fixed(kmeansFresh, 3),
        num(t, 'kmeans.fresh.nmi', 3),
        '—',
      ],
    ];
    for (const run of arrayAt(t, 'runs')) {
      const arch = arrayAt(run, 'hiddenSizes').join('-') || NotMeasured;
      const method = textAt(run, 'method') ?? NotMeasured;
      const fresh = numberAt(run, 'freshAcc.median');
      const met: Verdict =
        kmeansFresh === undefined ? NotMeasured : verdict(fresh, (v) => v > kmeansFresh);
      judged.push({ name: `tabular ${method.toUpperCase()} ${arch} vs k-means`, met });
      rows.push([
        `${method.toUpperCase()} ${arch}${at(run, 'isDefaultArchitecture') === true && method === DEFAULT_METHOD ? ' (default)' : ''}`,
        spread(run, 'trainAcc'),
        spread(run, 'freshAcc'),
        num(run, 'freshNmi.median', 3),
        met,
      ]);
    }
    parts.push(
      table(
        [
          'Model',
          'Train ACC median (min–max)',
          'Fresh ACC median (min–max)',
          'Fresh NMI',
          'Beats k-means',
        ],
        rows,
      ),
    );
  }
  parts.push('', missedLine(judged));
  return parts.join('\n');
}

function minutes(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds / 60;
}

function streamSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('stream');
  const online = numberAt(r, 'quality.prequential.acc');
  const offline = numberAt(r, 'quality.offlineSameTraining.acc');
  const agreement =
    online === undefined || offline === undefined ? undefined : Math.abs(online - offline);
  const versions = arrayAt(r, 'quality.modelVersions');
  const rate = numberAt(r, 'latency.inputRecordsPerSecond');
  const rows: JudgedRow[] = [
    info(
      `Bootstrap on ${count(r, 'bootstrapRecords')} records (of which training)`,
      `${num(r, 'bootstrap.wallSeconds', 1, 's')} (${num(r, 'bootstrap.trainingSeconds', 1, 's')})`,
    ),
    info(
      `Backlog drained once online (${count(r, 'throughput.records')} records)`,
      count(r, 'throughput.recordsPerSecond', 'records/s'),
    ),
    info(
      `End-to-end latency p50 / p99 / max at ${whole(rate)} records/s`,
      `${num(r, 'latency.p50Ms', 0)} / ${num(r, 'latency.p99Ms', 0)} / ${num(r, 'latency.maxMs', 0, 'ms')}`,
    ),
    info(
      `Published labels vs true digits, ACC / NMI (n = ${count(r, 'quality.prequential.n')})`,
      `${fixed(online, 3)} / ${num(r, 'quality.prequential.nmi', 3)}`,
    ),
    {
      name: 'online labels equal the offline model',
      row: [
        'Same training run offline, ACC / NMI',
        `${fixed(offline, 3)} / ${num(r, 'quality.offlineSameTraining.nmi', 3)}`,
        'online ACC within 0.005 of offline',
      ],
      met: verdict(agreement, (v) => v <= 0.005),
    },
    info(
      'ACC on the bootstrap window / on records after it',
      `${num(r, 'quality.bootstrapWindow.acc', 3)} / ${num(r, 'quality.onlineOnly.acc', 3)}`,
    ),
    info(
      'Model versions that labelled records',
      versions.length > 0 ? versions.join(', ') : NotMeasured,
    ),
    info(
      'Peak resident memory of the worker, every thread (VmHWM)',
      count(r, 'memory.workerPeakResidentMiB', 'MiB'),
    ),
    {
      name: 'clean exit',
      row: [
        'Worker exit code after SIGTERM',
        String(numberAt(r, 'workerExitCode') ?? NotMeasured),
        '0',
      ],
      met: verdict(numberAt(r, 'workerExitCode'), (v) => v === 0),
    },
  ];
  const settings = entriesOf(at(r, 'workerSettings'));
  const settingText =
    settings.length > 0 ? settings.map(([k, v]) => `\`${k}=${String(v)}\``).join(' ') : NotMeasured;
  return [
    machineLine(r, textAt(r, 'backend')),
    '',
    `${textAt(r, 'dataset') ?? NotMeasured}; delivery ${textAt(r, 'delivery') ?? NotMeasured}. Worker settings: ${settingText}.`,
    '',
    judgedTable(rows),
    '',
    missedLine(rows),
  ].join('\n');
}

const driftChecks: Record<string, { what: string; target: string }> = {
  driftingRefinedBeatsFrozenBy10Points: {
    what: 'Drifting stream: refined ACC minus frozen ACC, second half',
    target: '≥ 0.10',
  },
  stationaryRefinedWithin1Point: {
    what: 'Stationary stream: refined ACC minus frozen ACC',
    target: '≥ −0.01',
  },
  mnistRefinedAtLeastFrozen: {
    what: 'MNIST stream: refined ACC minus frozen ACC',
    target: '≥ 0',
  },
  p99LatencyRatioAtMost1_5: {
    what: 'p99 labelling latency, refinement on ÷ off',
    target: '≤ 1.5',
  },
};

/** Names the bootstrap models a drift run read from its cache instead of training them. */
function cachedBootstrapLine(r: unknown): string {
  const names = arrayAt(r, 'bootstrapsFromCache').filter((n): n is string => typeof n === 'string');
  if (names.length === 0) return '';
  return (
    `\nBootstrap model${names.length === 1 ? '' : 's'} ${names.map((n) => `\`${n}\``).join(', ')} ` +
    'read from `BENCH_DRIFT_CACHE`: trained earlier by the same code on the same records and seed ' +
    '(training is deterministic), to save the half hour it takes on two shared cores.'
  );
}

function driftSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('drift');
  const scenarios: [string, string][] = [
    ['synthetic.drifting', 'Drifting synthetic mixture'],
    ['synthetic.stationary', 'Stationary synthetic mixture'],
    ['mnist', 'MNIST-10k after a 3,000-record bootstrap'],
  ];
  const models: [string, string][] = [
    ['frozen', 'frozen bootstrap model'],
    ['refined', 'refined (dec-stream)'],
    ['onlineKmeans', 'online k-means, constant step'],
  ];
  const accuracyRows: string[][] = [];
  for (const [path, label] of scenarios) {
    for (const [key, model] of models) {
      const base = `${path}.${key}`;
      if (at(r, base) === undefined) continue;
      const accepted = numberAt(r, `${base}.accepted`);
      const rejected = numberAt(r, `${base}.rejected`);
      accuracyRows.push([
        label,
        model,
        num(r, `${base}.accFirstHalf`, 3),
        num(r, `${base}.accSecondHalf`, 3),
        num(r, `${base}.accWholeStream`, 3),
        accepted === undefined ? '—' : `${accepted} / ${rejected ?? 0}`,
      ]);
    }
  }
  const checkRows = entriesOf(at(r, 'checks')).map(([key, check]): JudgedRow => {
    const name = driftChecks[key]?.what ?? key;
    return {
      name,
      row: [name, num(check, 'value', 4), driftChecks[key]?.target ?? '—'],
      met: verdictOf(at(check, 'pass'), at(check, 'value')),
    };
  });
  const latencyRows = [
    [
      'Refinement off',
      num(r, 'latency.p50OffMs', 1, 'ms'),
      num(r, 'latency.p99OffMs', 1, 'ms'),
      '—',
    ],
    [
      'Refinement on',
      num(r, 'latency.p50OnMs', 1, 'ms'),
      num(r, 'latency.p99OnMs', 1, 'ms'),
      `${count(r, 'latency.refinementsDuringOn')} (${count(r, 'latency.refinementsAccepted')} accepted)`,
    ],
  ];
  return [
    machineLine(r, textAt(r, 'backend')),
    at(r, 'quick') === true ? '\n_Quick mode: shortened streams._' : '',
    cachedBootstrapLine(r),
    '',
    'Prequential ACC (each batch labelled by the current model before it is learned from):',
    '',
    accuracyRows.length > 0
      ? table(
          [
            'Stream',
            'Model',
            'ACC first half',
            'ACC second half',
            'ACC whole stream',
            'Refinements accepted / rejected',
          ],
          accuracyRows,
        )
      : `_${NotMeasured}._`,
    '',
    `Labelling latency per ${count(r, 'latency.batchRecords')}-record batch on the main thread, refinement thread off and on:`,
    '',
    table(['', 'p50', 'p99', 'Refinements while measured'], latencyRows),
    '',
    checkRows.length > 0 ? judgedTable(checkRows, ['Check', 'Value']) : `_Checks ${NotMeasured}._`,
    '',
    missedLine(checkRows),
  ]
    .join('\n')
    .replace(/\n\n\n+/g, '\n\n');
}

const throughputTargets: Record<string, { what: string; unit: 'ratio' | 'rate' }> = {
  tabularModelOverPassThrough: {
    what: 'Tabular: worker (at-least-once) ÷ pass-through, records/s',
    unit: 'ratio',
  },
  exactlyOnceOverAtLeastOnce: {
    what: 'Tabular: exactly-once ÷ at-least-once, records/s',
    unit: 'ratio',
  },
  mnistRecordsPerSecond: { what: 'MNIST: worker (at-least-once), records/s', unit: 'rate' },
  tabularModelOverPassThroughByCpu: {
    what: 'Tabular: worker ÷ pass-through, by CPU per record',
    unit: 'ratio',
  },
  exactlyOnceOverAtLeastOnceByCpu: {
    what: 'Tabular: exactly-once ÷ at-least-once, by CPU per record',
    unit: 'ratio',
  },
  mnistRecordsPerCpuSecond: { what: 'MNIST: worker records per CPU second', unit: 'rate' },
};

function throughputRows(dataset: unknown): string[][] {
  return arrayAt(dataset, 'throughput').map((t) => [
    textAt(t, 'phase') ?? NotMeasured,
    textAt(t, 'client') ?? NotMeasured,
    textAt(t, 'delivery') ?? NotMeasured,
    at(t, 'model') === true ? 'yes' : at(t, 'model') === false ? 'no' : NotMeasured,
    count(t, 'recordsPerSecond'),
    num(t, 'cpuMicrosPerRecord', 1),
    num(t, 'cpuCores', 2),
    num(t, 'peakRssMiB', 0),
    num(t, 'brokerCpuCores', 2),
  ]);
}

function throughputSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('throughput');
  const parts: string[] = [
    machineLine(r, textAt(r, 'backend')),
    textAt(r, 'env.BENCH_QUICK') === '1'
      ? '\n_Quick mode (`BENCH_QUICK=1`): fewer records per phase, so noisier figures._'
      : '',
    '',
    `Broker: local single node, ${count(r, 'broker.partitions')} input partitions.`,
  ];
  for (const [key, label] of [
    ['tabular', 'Tabular'],
    ['mnist', 'MNIST'],
  ] as const) {
    const d = at(r, key);
    parts.push('', `**${label}**: `);
    if (d === undefined) {
      parts[parts.length - 1] += `_${NotMeasured}._`;
      continue;
    }
    parts[parts.length - 1] +=
      `${count(d, 'records')} records of ${count(d, 'meanValueBytes')} bytes on average; ` +
      `model: ${textAt(d, 'model.description') ?? NotMeasured}.`;
    parts.push(
      '',
      table(
        [
          'Phase',
          'Client',
          'Delivery',
          'Model',
          'Records/s',
          'CPU µs/record',
          'CPU cores',
          'Peak RSS MiB',
          'Broker cores',
        ],
        throughputRows(d),
      ),
    );
    const latency = arrayAt(d, 'latency');
    if (latency.length > 0) {
      parts.push(
        '',
        table(
          ['Delivery', 'Input rate', 'Share of max', 'p50', 'p90', 'p99', 'max'],
          latency.map((l) => [
            textAt(l, 'delivery') ?? NotMeasured,
            count(l, 'ratePerSecond', 'records/s'),
            num(l, 'fractionOfMax', 2),
            num(l, 'p50Ms', 0, 'ms'),
            num(l, 'p90Ms', 0, 'ms'),
            num(l, 'p99Ms', 0, 'ms'),
            num(l, 'maxMs', 0, 'ms'),
          ]),
        ),
      );
    }
  }

  const targetRows = entriesOf(at(r, 'targets')).map(([key, target]): JudgedRow => {
    const known = throughputTargets[key];
    const value = numberAt(target, 'value');
    const min = numberAt(target, 'min');
    const shown = (v: number | undefined): string =>
      known?.unit === 'rate' ? whole(v) : fixed(v, 2);
    const name = known?.what ?? key;
    const goal = min === undefined ? '—' : `≥ ${shown(min)}`;
    return { name, row: [name, shown(value), goal], met: verdictOf(at(target, 'met'), value) };
  });
  parts.push(
    '',
    targetRows.length > 0
      ? judgedTable(targetRows, ['Figure', 'Value'])
      : `_Targets ${NotMeasured}._`,
  );
  return parts.join('\n').replace(/\n\n\n+/g, '\n\n');
}

function clientsSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('throughput');
  const rows: string[][] = [];
  for (const [key, label] of [
    ['tabular', 'Tabular'],
    ['mnist', 'MNIST'],
  ] as const) {
    const phases = arrayAt(r, `${key}.throughput`);
    const find = (phase: string): unknown => phases.find((p) => at(p, 'phase') === phase);
    const kafkajs = find(`${key}-pass-kafkajs`);
    const platformatic = find(`${key}-pass-platformatic`);
    rows.push([
      label,
      count(kafkajs, 'recordsPerSecond'),
      count(platformatic, 'recordsPerSecond'),
      num(r, `ratios.${key}PlatformaticOverKafkajs`, 2),
      num(kafkajs, 'cpuMicrosPerRecord', 1),
      num(platformatic, 'cpuMicrosPerRecord', 1),
      num(r, `ratios.${key}PlatformaticOverKafkajsByCpu`, 2),
    ]);
  }
  return table(
    [
      'Data',
      'kafkajs records/s',
      '@platformatic/kafka records/s',
      'Ratio',
      'kafkajs CPU µs/record',
      '@platformatic/kafka CPU µs/record',
      'Ratio by CPU',
    ],
    rows,
  );
}

function soakSection(r: unknown): string {
  const s = at(r, 'soak');
  if (s === undefined) return `_${NotMeasured}: no soak result in bench/results/throughput.json._`;
  const flat = at(s, 'flatWithin15Percent');
  const deviation = numberAt(s, 'maxDeviationFromMedian');
  const met = verdictOf(flat, deviation);
  const samples = arrayAt(s, 'samples');
  return [
    machineLine(s, textAt(r, 'backend')),
    '',
    judgedTable([
      info('Records', count(s, 'records')),
      info('Records/s over the run', count(s, 'recordsPerSecond')),
      info(
        `RSS after ${count(s, 'warmupRecords')} warm-up records: median (min–peak)`,
        `${num(s, 'medianRssAfterWarmupMiB', 0)} MiB (${num(s, 'minRssAfterWarmupMiB', 0)}–${num(s, 'peakRssAfterWarmupMiB', 0)})`,
      ),
      {
        name: 'soak memory flat',
        row: [
          'Largest RSS deviation from the median',
          deviation === undefined ? NotMeasured : `${(deviation * 100).toFixed(1)} %`,
          '≤ 15 %',
        ],
        met,
      },
      info(
        'Second-half RSS vs first half',
        withUnit(fixed(percent(numberAt(s, 'secondHalfOverFirstHalf')), 1), '%'),
      ),
      info('Heap used, last sample', num(samples[samples.length - 1], 'heapUsedMiB', 0, 'MiB')),
    ]),
  ].join('\n');
}

function percent(ratio: number | undefined): number | undefined {
  return ratio === undefined ? undefined : ratio * 100;
}

function profileSection(r: unknown): string {
  const p = at(r, 'profile');
  if (p === undefined) return `_${NotMeasured}: no profile in bench/results/throughput.json._`;
  const topShares = (shares: unknown): string =>
    entriesOf(shares)
      .filter((e): e is [string, number] => typeof e[1] === 'number')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([name, share]) => `${name} ${share.toFixed(0)} %`)
      .join(', ') || NotMeasured;
  const phaseRows = arrayAt(p, 'phases').flatMap((phase) => {
    const records = numberAt(phase, 'records');
    const busyPerRecord = (busyMs: number | undefined): string =>
      busyMs === undefined || records === undefined || records <= 0
        ? NotMeasured
        : ((1000 * busyMs) / records).toFixed(1);
    const name = textAt(phase, 'phase') ?? NotMeasured;
    return [
      [
        name,
        'main',
        count(phase, 'recordsPerSecond'),
        num(phase, 'cpuMicrosPerRecord', 1),
        busyPerRecord(numberAt(phase, 'profile.busyMs')),
        topShares(at(phase, 'profile.sharePercent')),
      ],
      ...arrayAt(phase, 'profile.threads').map((thread) => [
        name,
        textAt(thread, 'thread') ?? NotMeasured,
        '',
        '',
        busyPerRecord(numberAt(thread, 'busyMs')),
        topShares(at(thread, 'sharePercent')),
      ]),
    ];
  });
  const hot = arrayAt(p, 'hotPath');
  const steps = new Set(hot.flatMap((h) => entriesOf(at(h, 'microsPerRecord')).map(([k]) => k)));
  const hotRows = [...steps].map((step) => [
    step.replace(/^(.*), (.*) \((?:before|proposed)\)$/, '$1, alternative: $2'),
    // Step names may hold dots ("ServingModel.label"), so they are looked up whole, not as paths.
    ...hot.map((h) => {
      const micros = entriesOf(at(h, 'microsPerRecord')).find(([k]) => k === step)?.[1];
      return typeof micros === 'number' ? micros.toFixed(2) : NotMeasured;
    }),
  ]);
  return [
    machineLine(p, textAt(r, 'backend')),
    textAt(p, 'env.BENCH_QUICK') === '1' ? '\n_Quick mode: fewer records per phase._' : '',
    '',
    phaseRows.length > 0
      ? table(
          [
            'Phase (profiled)',
            'Thread',
            'Records/s',
            'CPU µs/record',
            'Busy µs/record (profiled)',
            'Largest shares of its busy time',
          ],
          phaseRows,
        )
      : `_Phases ${NotMeasured}._`,
    '',
    hotRows.length > 0
      ? table(
          ['Hot-path step, µs per record', ...hot.map((h) => textAt(h, 'dataset') ?? '?')],
          hotRows,
        )
      : `_Hot path ${NotMeasured}._`,
  ]
    .join('\n')
    .replace(/\n\n\n+/g, '\n\n');
}

function headline(results: Results): string {
  const q = results.quality;
  const t = results.throughput;
  const d = results.drift;
  const method = DEFAULT_METHOD;
  const acc = numberAt(q, `mnist.summary.${method}.acc.median`);
  const raw = numberAt(q, 'mnist.summary.kmeansRaw.acc.median');
  const seeds = arrayAt(q, 'mnist.seeds').length;
  const tabAlo = numberAt(
    arrayAt(t, 'tabular.throughput').find((p) => at(p, 'phase') === 'tabular-worker-alo'),
    'recordsPerSecond',
  );
  const tabEos = numberAt(
    arrayAt(t, 'tabular.throughput').find((p) => at(p, 'phase') === 'tabular-worker-eos'),
    'recordsPerSecond',
  );
  const mnist = numberAt(t, 'targets.mnistRecordsPerSecond.value');
  const frozen = numberAt(d, 'synthetic.drifting.frozen.accSecondHalf');
  const refined = numberAt(d, 'synthetic.drifting.refined.accSecondHalf');
  return [
    `- Clustering quality, MNIST-10k: ${method.toUpperCase()}${at(q, 'mnist.settings.imageAugmentation.width') === undefined ? '' : ' with image augmentation'} ACC ${fixed(acc, 3)} (median of ${seeds || NotMeasured} seeds; target ${mnistTargetAcc.toFixed(2)}, ${acc === undefined ? NotMeasured : acc >= mnistTargetAcc ? 'met' : 'not met'}), k-means on raw pixels ${fixed(raw, 3)}.`,
    `- Throughput: ${withUnit(whole(tabAlo), 'records/s')} tabular at-least-once, ${withUnit(whole(tabEos), 'records/s')} exactly-once; ${withUnit(whole(mnist), 'records/s')} for 784-pixel MNIST records.`,
    `- Under drift, refinement keeps second-half ACC at ${fixed(refined, 3)} where the frozen model falls to ${fixed(frozen, 3)}.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Output compression (bench:codecs)

function codecsSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('codecs');
  const rows = ['gzip', 'snappy', 'lz4', 'zstd'].map((name) => [
    name,
    count(r, `codecs.${name}.compressRecordsPerS`),
    count(r, `codecs.${name}.decompressRecordsPerS`),
    count(r, `codecs.${name}.roundTripRecordsPerS`),
    num(r, `codecs.${name}.ratio`, 2),
  ]);
  const records = count(r, 'batch.records');
  const bytes = count(r, 'batch.bytes');
  return [
    `One batch of ${records} labelled JSON records (${bytes} bytes as kafkajs encodes them); ${textAt(r, 'machine.cpuModel') ?? NotMeasured}, Node ${textAt(r, 'machine.node') ?? NotMeasured}, ${day(textAt(r, 'date'))}.`,
    '',
    table(
      ['Codec', 'Compress (records/s)', 'Decompress (records/s)', 'Both (records/s)', 'Ratio'],
      rows,
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The quality suite (bench:suite)

interface SuiteRow {
  readonly set: string;
  readonly half: string;
  readonly kmeansBest: number;
  readonly aeKmeansMedian: number;
  readonly deepMedian: number;
  readonly defaultMedian: number;
  readonly spread: number;
  readonly gainOverKmeans: number;
  readonly servedKinds: readonly string[];
  readonly criterionSpearman: number;
  readonly trainSecondsMedian: number;
  readonly orderInvariant: boolean;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function signed(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return NotMeasured;
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

function suiteHalf(rows: readonly SuiteRow[], half: string): string {
  const mine = rows.filter((r) => r.half === half);
  if (mine.length === 0) return `_No ${half} set in this run._`;
  const body = mine.map((r) => [
    r.set,
    fixed(r.kmeansBest, 3),
    fixed(r.aeKmeansMedian, 3),
    fixed(r.deepMedian, 3),
    fixed(r.defaultMedian, 3),
    signed(r.gainOverKmeans),
    fixed(r.spread, 3),
    `${r.servedKinds.filter((k) => k === 'dec').length} of ${r.servedKinds.length}`,
    fixed(r.criterionSpearman, 2),
    whole(r.trainSecondsMedian),
  ]);
  const gains = mine.map((r) => r.gainOverKmeans);
  return [
    table(
      [
        'data set',
        'k-means (best of raw, standardised)',
        'AE + k-means',
        'deep model',
        'default (served)',
        'gain',
        'spread',
        'deep served',
        'criterion ρ',
        'train s',
      ],
      body,
    ),
    '',
    `${half}: median gain over k-means ${signed(median(gains))}; at or above k-means on ` +
      `${gains.filter((g) => g >= -0.0005).length} of ${mine.length} sets; largest spread ` +
      `${fixed(Math.max(...mine.map((r) => r.spread)), 3)}; median criterion ρ ` +
      `${fixed(median(mine.map((r) => r.criterionSpearman)), 2)}; every record order of a seed gave the same model: ` +
      `${mine.every((r) => r.orderInvariant) ? 'yes' : 'no'}.`,
  ].join('\n');
}

function suiteSection(r: unknown): string {
  if (r === undefined) return notMeasuredSection('suite');
  const rows = arrayAt(r, 'summary') as SuiteRow[];
  const seeds = count(r, 'seeds');
  const orders = count(r, 'orders');
  return [
    `${seeds} seeds × ${orders} record orders per set; ACC medians; spread = max − min of the served ACC over them; ${day(textAt(r, 'date'))}.`,
    '',
    '**Tuning half** (defaults were chosen on these):',
    '',
    suiteHalf(rows, 'tuning'),
    '',
    '**Held-out half** (never used to choose):',
    '',
    suiteHalf(rows, 'held-out'),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Markers

/** Every block this script writes, by marker name. */
export function renderBlocks(results: Results): Record<string, string> {
  return {
    train: trainSection(results.train),
    quality: qualitySection(results.quality),
    stream: streamSection(results.stream),
    drift: driftSection(results.drift),
    throughput: throughputSection(results.throughput),
    clients: clientsSection(results.throughput),
    soak: soakSection(results.throughput),
    profile: profileSection(results.throughput),
    codecs: codecsSection(results.codecs),
    suite: suiteSection(results.suite),
    'suggest-k': suggestKSection(results['suggest-k']),
    scale: scaleSection(results.scale),
    external: externalSection(results.external),
    headline: headline(results),
  };
}

const startMarker = (name: string): string => `<!-- bench:${name}:start -->`;
const endMarker = (name: string): string => `<!-- bench:${name}:end -->`;

/**
 * `text` with the content of every `bench:NAME` marker pair found in it replaced by `blocks[NAME]`.
 * Unknown names and text outside the markers are left alone; a start without its end is an error.
 */
export function fillMarkers(text: string, blocks: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [name, block] of Object.entries(blocks)) {
    const start = out.indexOf(startMarker(name));
    if (start < 0) continue;
    const end = out.indexOf(endMarker(name), start);
    if (end < 0) throw new Error(`${startMarker(name)} has no ${endMarker(name)}`);
    out = `${out.slice(0, start + startMarker(name).length)}\n\n${block.trim()}\n\n${out.slice(end)}`;
  }
  return out;
}

function main(): void {
  const blocks = renderBlocks(readResults());
  const check = process.argv.includes('--check');
  let stale = false;
  for (const file of [benchmarksDocPath, readmePath]) {
    const current = readFileSync(file, 'utf8');
    const next = fillMarkers(current, blocks);
    if (current === next) continue;
    if (check) {
      console.error(`${file} is out of date: run npm run docs:benchmarks`);
      stale = true;
    } else {
      writeFileSync(file, next);
      console.log(`wrote ${file}`);
    }
  }
  if (stale) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
