import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configurationDocPath, renderConfigurationDoc } from '../../../scripts/gen-config-doc.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { helmValueName, settings } from '../../../src/config/settings.js';

void test('docs/configuration.md is the output of npm run docs:config', async () => {
  assert.equal(readFileSync(configurationDocPath, 'utf8'), await renderConfigurationDoc());
});

void test('every setting has a description and a unique Helm value', () => {
  const helmValues = new Set(settings.map((s) => s.helmValue));
  assert.equal(helmValues.size, settings.length);
  for (const s of settings) assert.ok(s.description.length > 0, s.name);
});

void test('the doc shows every setting with its default, and marks the required ones', () => {
  const rows = readFileSync(configurationDocPath, 'utf8').split('\n');
  for (const s of settings) {
    const row = rows.find((line) => line.startsWith(`| \`${s.name}\``));
    assert.ok(row !== undefined, `${s.name} has a row in docs/configuration.md`);
    if (s.required) assert.match(row, /\*\*required\*\*/, `${s.name} is marked required`);
    else if (s.default !== undefined && !/\s|\(/.test(s.default)) {
      assert.ok(row.includes(s.default), `${s.name} shows its default ${s.default}`);
    }
  }
});

void test('helmValueName drops the DEC_ prefix and camel-cases the rest', () => {
  assert.equal(helmValueName('DEC_REFINE_EVERY_RECORDS'), 'refineEveryRecords');
  assert.equal(helmValueName('KAFKA_SSL_CA_FILE'), 'kafkaSslCaFile');
});

void test('every literal default in the list is accepted by the loader', () => {
  const env: Record<string, string> = {
    DEC_INPUT_TOPIC: 'in',
    DEC_OUTPUT_TOPIC: 'out',
    DEC_FEATURES: 'f0',
    DEC_CLUSTERS: '2',
  };
  for (const s of settings) {
    if (s.default !== undefined && !s.default.includes(' ') && !s.default.startsWith('`')) {
      env[s.name] = s.default;
    }
  }
  assert.doesNotThrow(() => loadConfig(env));
});
