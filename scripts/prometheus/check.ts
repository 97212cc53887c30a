// The real-Prometheus check of the dashboard and the alert rules.
//
//   node --import tsx scripts/prometheus/check.ts --target 127.0.0.1:9464 [--scrapes 6]
//
// 1. `promtool check rules` on the alert rules file, and `promtool check metrics` on the target's
//    decstream_ series.
// 2. Starts `prometheus` on a free port with a temporary storage directory and a generated config
//    that scrapes the target every second (static labels namespace/pod, as a ServiceMonitor would
//    add) and loads the alert rules file.
// 3. Waits for a few scrapes, then sends every PromQL expression of the dashboard (panels,
//    annotations, variables) and of the loaded alert rules to the HTTP query API, with the
//    dashboard variables replaced by values that match the scrape.
// 4. Fails naming each expression that does not parse and each panel that returns no data
//    (no series with a finite value). Stops Prometheus and removes its directory in every case.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DefaultDashboardPath = join(root, 'helm/dec-stream/dashboards/dec-stream.json');
export const DefaultRulesPath = join(root, 'helm/dec-stream/rules/dec-stream-alerts.yaml');

/** The labels the generated scrape config gives the target; the dashboard variables take these. */
export const CheckLabels = { namespace: 'dec-stream-check', pod: 'dec-stream-check-0' } as const;

export interface CheckOptions {
  /** host:port serving /metrics. */
  readonly target: string;
  readonly dashboardPath?: string;
  readonly rulesPath?: string;
  /** Scrapes to wait for before querying; default 6. */
  readonly scrapes?: number;
  readonly prometheusBin?: string;
  readonly promtoolBin?: string;
  readonly log?: (message: string) => void;
}

export interface CheckResult {
  /** One line per problem; empty when the check passed. */
  readonly failures: string[];
  /** Expressions sent to the query API. */
  readonly queried: number;
  /** Dashboard panels that returned data. */
  readonly panelsWithData: number;
  readonly panels: number;
}

interface Expression {
  /** Where it comes from, for messages: 'panel "Throughput" (A)', 'rule DecStreamNotReady'. */
  readonly origin: string;
  readonly expr: string;
  /** Panel title when the expression feeds a panel that must show data. */
  readonly panel?: string;
}

interface DashboardPanel {
  readonly type?: string;
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string }[];
  readonly panels?: readonly DashboardPanel[];
}

interface Dashboard {
  readonly panels?: readonly DashboardPanel[];
  readonly annotations?: {
    readonly list?: readonly { readonly name?: string; readonly expr?: string }[];
  };
  readonly templating?: {
    readonly list?: readonly {
      readonly name?: string;
      readonly type?: string;
      readonly query?: string | { readonly query?: string };
    }[];
  };
}

/** Every PromQL expression of a Grafana dashboard, with its origin. */
export function dashboardExpressions(dashboard: Dashboard): Expression[] {
  const found: Expression[] = [];
  const visit = (panels: readonly DashboardPanel[]): void => {
    for (const panel of panels) {
      if (panel.panels !== undefined) visit(panel.panels);
      const title = panel.title ?? '(untitled)';
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined || target.expr.trim() === '') continue;
        found.push({
          origin: `panel "${title}" (${target.refId ?? '?'})`,
          expr: target.expr,
          panel: title,
        });
      }
    }
  };
  visit(dashboard.panels ?? []);
  for (const annotation of dashboard.annotations?.list ?? []) {
    if (annotation.expr !== undefined) {
      found.push({ origin: `annotation "${annotation.name ?? '?'}"`, expr: annotation.expr });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    // label_values(SELECTOR, label) is Grafana's; the selector inside it is PromQL.
    const match = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/.exec(query?.trim() ?? '');
    if (match?.[1] !== undefined) {
      found.push({ origin: `variable $${variable.name ?? '?'}`, expr: match[1] });
    }
  }
  return found;
}

/** Replaces Grafana's variables with values that match the check's scrape. */
export function substituteVariables(expr: string, scrapeIntervalSeconds: number): string {
  const interval = `${Math.max(1, scrapeIntervalSeconds)}s`;
  // Grafana's $__rate_interval is at least four scrape intervals.
  const rateInterval = `${Math.max(4, 4 * scrapeIntervalSeconds) + 1}s`;
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval_ms', String(scrapeIntervalSeconds * 1000))
    .replaceAll('$__interval', interval)
    .replaceAll('$__range', '1h')
    .replaceAll(/\$\{?namespace\}?/g, CheckLabels.namespace)
    .replaceAll(/\$\{?pod(:regex)?\}?/g, CheckLabels.pod)
    .replaceAll(/\$\{?datasource\}?/g, 'prometheus');
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface QueryResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

async function query(base: string, expr: string): Promise<QueryResponse> {
  const response = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }).toString(),
  });
  return (await response.json()) as QueryResponse;
}

/** True when a query result holds at least one finite sample. */
function hasFiniteData(data: QueryResponse['data']): boolean {
  if (data === undefined) return false;
  const finite = (value: unknown): boolean => Number.isFinite(Number(value));
  if (data.resultType === 'scalar') return finite((data.result as [number, string])[1]);
  if (data.resultType === 'vector') {
    return (data.result as { value: [number, string] }[]).some((s) => finite(s.value[1]));
  }
  if (data.resultType === 'matrix') {
    return (data.result as { values: [number, string][] }[]).some((s) =>
      s.values.some((v) => finite(v[1])),
    );
  }
  return false;
}

function promtool(args: string[], options: CheckOptions, input?: string) {
  return spawnSync(options.promtoolBin ?? 'promtool', args, {
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  });
}

async function waitForScrapes(base: string, scrapes: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const result = await query(base, 'count_over_time(up{job="dec-stream"}[5m])');
      const sample = (result.data?.result as { value: [number, string] }[] | undefined)?.[0];
      const up = await query(base, 'up{job="dec-stream"}');
      const upValue = (up.data?.result as { value: [number, string] }[] | undefined)?.[0]?.value[1];
      last = `${sample?.value[1] ?? 0} scrapes, up=${upValue ?? '?'}`;
      if (sample !== undefined && Number(sample.value[1]) >= scrapes && upValue === '1') return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(500);
  }
  throw new Error(`Prometheus did not scrape the target ${scrapes} times in time (${last})`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Runs the whole check against `options.target`; never throws for a failed expression. */
export async function checkAgainstPrometheus(options: CheckOptions): Promise<CheckResult> {
  const log = options.log ?? ((m: string) => console.log(m));
  const dashboardPath = options.dashboardPath ?? DefaultDashboardPath;
  const rulesPath = options.rulesPath ?? DefaultRulesPath;
  const scrapes = options.scrapes ?? 6;
  const scrapeIntervalSeconds = 1;
  const failures: string[] = [];

  const rulesCheck = promtool(['check', 'rules', rulesPath], options);
  if (rulesCheck.status !== 0) {
    failures.push(`promtool check rules failed:\n${rulesCheck.stdout}${rulesCheck.stderr}`);
  }

  try {
    const exposition = await (await fetch(`http://${options.target}/metrics`)).text();
    const ours = exposition
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?decstream_/.test(line))
      .join('\n');
    if (ours === '') failures.push(`${options.target}/metrics has no decstream_ metrics`);
    const metricsCheck = promtool(['check', 'metrics'], options, `${ours}\n`);
    if (metricsCheck.status !== 0) {
      failures.push(
        `promtool check metrics found problems:\n${metricsCheck.stdout}${metricsCheck.stderr}`,
      );
    }
  } catch (error) {
    failures.push(`cannot read http://${options.target}/metrics: ${String(error)}`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'dec-stream-prometheus-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = [
    'global:',
    `  scrape_interval: ${scrapeIntervalSeconds}s`,
    `  evaluation_interval: ${scrapeIntervalSeconds}s`,
    'rule_files:',
    `  - ${JSON.stringify(rulesPath)}`,
    'scrape_configs:',
    '  - job_name: dec-stream',
    `    scrape_timeout: ${scrapeIntervalSeconds}s`,
    '    static_configs:',
    `      - targets: [${JSON.stringify(options.target)}]`,
    '        labels:',
    `          namespace: ${CheckLabels.namespace}`,
    `          pod: ${CheckLabels.pod}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const output: string[] = [];
  const prometheus = spawn(
    options.prometheusBin ?? 'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  prometheus.stdout?.on('data', keep);
  prometheus.stderr?.on('data', keep);
  const spawnError = new Promise<never>((_, reject) => prometheus.once('error', reject));
  spawnError.catch(() => undefined);

  try {
    log(`Prometheus on ${base} scrapes ${options.target} every ${scrapeIntervalSeconds}s`);
    await Promise.race([waitForScrapes(base, scrapes, 60_000 + scrapes * 2_000), spawnError]);

    const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
    const expressions = dashboardExpressions(dashboard);
    const rules = (await (await fetch(`${base}/api/v1/rules`)).json()) as {
      data?: {
        groups?: {
          rules?: { name: string; query: string; health?: string; lastError?: string }[];
        }[];
      };
    };
    const loadedRules = (rules.data?.groups ?? []).flatMap((g) => g.rules ?? []);
    if (loadedRules.length === 0) failures.push(`Prometheus loaded no rules from ${rulesPath}`);
    for (const rule of loadedRules) {
      expressions.push({ origin: `rule ${rule.name}`, expr: rule.query });
      if (rule.health === 'err')
        failures.push(`rule ${rule.name} fails to evaluate: ${rule.lastError ?? ''}`);
    }

    const panelData = new Map<string, boolean>();
    for (const item of expressions) {
      const expr = substituteVariables(item.expr, scrapeIntervalSeconds);
      const result = await query(base, expr);
      if (result.status !== 'success') {
        failures.push(
          `${item.origin} does not run: ${result.errorType ?? ''} ${result.error ?? ''}\n  ${expr}`,
        );
        continue;
      }
      if (item.panel !== undefined) {
        panelData.set(
          item.panel,
          (panelData.get(item.panel) ?? false) || hasFiniteData(result.data),
        );
      }
    }
    for (const [panel, hasData] of panelData) {
      if (!hasData) failures.push(`panel "${panel}" returns no data`);
    }
    const panelsWithData = [...panelData.values()].filter(Boolean).length;
    log(
      `Queried ${expressions.length} expressions; ${panelsWithData} of ${panelData.size} panels have data`,
    );
    return { failures, queried: expressions.length, panelsWithData, panels: panelData.size };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failures.push(`${message}\nPrometheus said:\n${output.join('')}`);
    return { failures, queried: 0, panelsWithData: 0, panels: 0 };
  } finally {
    await stopProcess(prometheus);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True when `prometheus` and `promtool` can be run. */
export function prometheusAvailable(): boolean {
  return ['prometheus', 'promtool'].every(
    (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0,
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const target = arg('target');
  if (target === undefined) {
    console.error(
      'usage: check.ts --target HOST:PORT [--scrapes N] [--dashboard FILE] [--rules FILE]',
    );
    return 2;
  }
  const scrapes = arg('scrapes');
  const dashboardPath = arg('dashboard');
  const rulesPath = arg('rules');
  const result = await checkAgainstPrometheus({
    target,
    ...(scrapes === undefined ? {} : { scrapes: Number(scrapes) }),
    ...(dashboardPath === undefined ? {} : { dashboardPath }),
    ...(rulesPath === undefined ? {} : { rulesPath }),
  });
  for (const failure of result.failures) console.error(`FAIL ${failure}`);
  if (result.failures.length === 0) console.log('Prometheus check passed');
  return result.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
