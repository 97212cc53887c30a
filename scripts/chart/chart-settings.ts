/**
 * Keeps the Helm chart in step with the worker's settings (src/config/settings.ts):
 *   - every setting has one value: config.<helmValue>, or secretEnv.<helmValue> for secret ones;
 *   - no config value names an unknown setting;
 *   - a default written in values.yaml is the worker's own default (or a listed chart override);
 *   - ci/all-features.yaml sets every setting, and its rendered Deployment has an env entry for each;
 *   - values.schema.json's config properties and the README's value tables are generated here.
 *
 *   node --import tsx scripts/chart/chart-settings.ts --write          regenerate schema + README
 *   node --import tsx scripts/chart/chart-settings.ts [--rendered F]   check (exit 1 on a mismatch)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { settings } from '../../src/config/settings.js';
import type { SettingInfo } from '../../src/config/settings.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const chartDir = join(root, 'helm', 'dec-stream');
const valuesPath = join(chartDir, 'values.yaml');
const schemaPath = join(chartDir, 'values.schema.json');
const readmePath = join(chartDir, 'README.md');
const allFeaturesPath = join(chartDir, 'ci', 'all-features.yaml');

/** config values whose chart default differs from the worker's, and why. */
const chartOverrides: Readonly<Record<string, string>> = {
  kafkaBrokers: 'an in-cluster Service name instead of 127.0.0.1',
  modelDir: 'the mount path of the model volume (the root filesystem is read-only)',
  inputTopic: 'required by the worker; the chart gives an example',
  outputTopic: 'required by the worker; the chart gives an example',
  features: 'required by the worker; the chart gives an example',
  clusters: 'required by the worker; the chart gives an example',
};

/** Values shown as one README row (their default as JSON) instead of one row per leaf. */
const objectValues = new Set([
  'strategy',
  'podSecurityContext',
  'securityContext',
  'resources',
  'startupProbe',
  'livenessProbe',
  'readinessProbe',
]);

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isSet(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '';
}

/** Values text → what the chart puts in the environment (numbers as written, booleans as words). */
function asEnvText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function section(value: unknown, name: string): Plain {
  if (!isPlainObject(value)) throw new Error(`${name} must be a map`);
  return value;
}

interface ValueRow {
  readonly path: string;
  readonly value: unknown;
  readonly comment: string;
}

/** Leaves of values.yaml with the comment written above each (or above its parent map). */
function valueRows(node: YamlNode | null, path: string[], rows: ValueRow[]): ValueRow[] {
  if (!isMap(node)) return rows;
  node.items.forEach((pair, index) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const keyPath = [...path, key];
    // The comment above a map's first key belongs to the map node itself.
    const keyComment = isScalar(pair.key) ? pair.key.commentBefore : undefined;
    const comment = (keyComment ?? (index === 0 && path.length > 0 ? node.commentBefore : '') ?? '')
      .split('\n')
      .map((line) => line.trim())
      .join(' ')
      .trim();
    const value = pair.value as YamlNode | null;
    const name = keyPath.join('.');
    if (isMap(value) && value.items.length > 0 && !objectValues.has(name)) {
      if (comment) rows.push({ path: `${name}.*`, value: undefined, comment });
      valueRows(value, keyPath, rows);
    } else {
      const plain: unknown =
        isMap(value) || isSeq(value) || isScalar(value) ? value.toJSON() : null;
      rows.push({ path: name, value: plain, comment });
    }
  });
  return rows;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${cell(text.replace(/`/g, ''))}\``;
}

function chartValuesTable(rows: readonly ValueRow[]): string {
  const lines = ['| Value | Default | Description |', '| --- | --- | --- |'];
  for (const row of rows) {
    if (row.path === 'config' || row.path.startsWith('config.')) continue;
    lines.push(`| \`${row.path}\` | ${code(row.value)} | ${cell(row.comment)} |`);
  }
  return lines.join('\n');
}

function configTable(config: Plain): string {
  const lines = [
    '| Value | Variable | Chart default | Worker default | Description |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const s of settings) {
    const value = s.secret ? `secretEnv.${s.helmValue}` : `config.${s.helmValue}`;
    const chartDefault = s.secret ? '(Secret reference)' : code(config[s.helmValue]);
    const required = s.required ? '**Required.** ' : '';
    lines.push(
      `| \`${value}\` | \`${s.name}\` | ${chartDefault} | ${code(s.default)} | ${required}${cell(s.description)} |`,
    );
  }
  return lines.join('\n');
}

function replaceBetween(text: string, marker: string, body: string): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** Stricter schemas for the config values that the templates compute with. */
const schemaOverrides: Readonly<Record<string, Plain>> = {
  metricsPort: { type: 'integer', minimum: 1, maximum: 65535 },
  shutdownGraceMs: { type: 'integer', minimum: 0 },
  modelDir: { type: 'string', pattern: '^/' },
};

function configSchema(): Plain {
  const properties: Plain = {};
  const required: string[] = [];
  for (const s of settings) {
    if (s.secret) continue;
    const property: Plain = {
      description: `${s.name}: ${s.description}`,
      type: ['string', 'number', 'boolean', 'null'],
      ...schemaOverrides[s.helmValue],
    };
    if (s.required) {
      property.not = { enum: ['', null] };
      required.push(s.helmValue);
    }
    properties[s.helmValue] = property;
  }
  return { type: 'object', additionalProperties: false, required, properties };
}

async function formatted(text: string, file: string): Promise<string> {
  const options = (await resolveConfig(file)) ?? {};
  return format(text, { ...options, filepath: file });
}

function checkSettings(values: Plain, allFeatures: Plain, problems: string[]): void {
  const config = section(values.config, 'config');
  const secretEnv = section(values.secretEnv, 'secretEnv');
  const allConfig = section(allFeatures.config, 'ci/all-features.yaml config');
  const allSecretEnv = section(allFeatures.secretEnv, 'ci/all-features.yaml secretEnv');
  const known = new Set(settings.map((s) => s.helmValue));
  for (const s of settings) {
    if (s.secret) {
      if (!(s.helmValue in secretEnv))
        problems.push(`values.yaml: secretEnv.${s.helmValue} (${s.name}) is missing`);
      if (s.helmValue in config)
        problems.push(`values.yaml: ${s.name} is secret; use secretEnv.${s.helmValue}, not config`);
      if (!isSet(section(allSecretEnv[s.helmValue] ?? {}, s.helmValue).name)) {
        problems.push(`ci/all-features.yaml: secretEnv.${s.helmValue}.name is not set`);
      }
      continue;
    }
    if (!(s.helmValue in config)) {
      problems.push(`values.yaml: config.${s.helmValue} (${s.name}) is missing`);
      continue;
    }
    const value = config[s.helmValue];
    if (isSet(value) && asEnvText(value) !== s.default && !(s.helmValue in chartOverrides)) {
      problems.push(
        `values.yaml: config.${s.helmValue} is ${asEnvText(value)} but the worker's default is ${s.default ?? '(none)'}; ` +
          `leave it empty or list it in chartOverrides with a reason`,
      );
    }
    if (!isSet(allConfig[s.helmValue]))
      problems.push(`ci/all-features.yaml: config.${s.helmValue} is not set`);
  }
  for (const key of Object.keys(config)) {
    if (!known.has(key)) problems.push(`values.yaml: config.${key} is not a worker setting`);
  }
  for (const key of Object.keys(chartOverrides)) {
    if (!known.has(key)) problems.push(`chartOverrides: ${key} is not a worker setting`);
  }
}

/** Every setting must reach the container of the rendered Deployment as an env entry. */
function checkRendered(file: string, problems: string[]): number {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as unknown);
  const deployment = docs.find((d) => isPlainObject(d) && d.kind === 'Deployment');
  if (!isPlainObject(deployment)) {
    problems.push(`${file}: no Deployment`);
    return 0;
  }
  const spec = section(
    section(section(deployment.spec, 'spec').template, 'template').spec,
    'pod spec',
  );
  const containers = spec.containers as Plain[];
  const env = (containers[0]?.env ?? []) as { name: string }[];
  const names = new Set(env.map((e) => e.name));
  const missing = settings.filter((s: SettingInfo) => !names.has(s.name));
  for (const s of missing) problems.push(`${file}: the Deployment has no env entry ${s.name}`);
  return settings.length - missing.length;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  const renderedIndex = args.indexOf('--rendered');
  const rendered = renderedIndex >= 0 ? args[renderedIndex + 1] : undefined;

  const valuesDoc = parseDocument(readFileSync(valuesPath, 'utf8'));
  const values = section(valuesDoc.toJS() as unknown, 'values.yaml');
  const allFeatures = section(
    parseDocument(readFileSync(allFeaturesPath, 'utf8')).toJS() as unknown,
    'ci/all-features.yaml',
  );
  const problems: string[] = [];

  checkSettings(values, allFeatures, problems);

  const schema = section(
    JSON.parse(readFileSync(schemaPath, 'utf8')) as unknown,
    'values.schema.json',
  );
  const properties = section(schema.properties, 'values.schema.json properties');
  properties.config = configSchema();
  const schemaText = await formatted(JSON.stringify(schema, null, 2), schemaPath);

  const rows = valueRows(valuesDoc.contents, [], []);
  let readme = readFileSync(readmePath, 'utf8');
  readme = replaceBetween(readme, 'chart-values', chartValuesTable(rows));
  readme = replaceBetween(readme, 'config-values', configTable(section(values.config, 'config')));

  if (write) {
    writeFileSync(schemaPath, schemaText);
    writeFileSync(readmePath, readme);
    console.log('  wrote values.schema.json (config) and README.md (value tables)');
  } else {
    if (readFileSync(schemaPath, 'utf8') !== schemaText) {
      problems.push('values.schema.json is out of date: run npm run chart:sync');
    }
    if (readFileSync(readmePath, 'utf8') !== readme) {
      problems.push('README.md value tables are out of date: run npm run chart:sync');
    }
  }
  const rowsWithoutText = rows.filter((r) => !r.path.startsWith('config.') && r.comment === '');
  let envChecked = 0;
  if (rendered !== undefined) envChecked = checkRendered(rendered, problems);

  for (const p of problems) console.log(`  FAIL  ${p}`);
  if (problems.length > 0) {
    process.exitCode = 1;
    return;
  }
  console.log(
    `  ok    ${settings.length} worker settings: each has one chart value` +
      (rendered !== undefined ? `, and ${envChecked} env entries in the rendered Deployment` : '') +
      `; ${rows.length} values documented (${rowsWithoutText.length} described by their group)`,
  );
}

await main();
