import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  ReadmeMarker,
  configurationDocPath,
  readmePath,
  renderConfigurationDoc,
  renderReadmeSettings,
  replaceReadmeSettings,
} from '../../../scripts/gen-config-doc.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { helmValueName, settings } from '../../../src/config/settings.js';

void test('docs/configuration.md is the output of npm run docs:config', async () => {
  assert.equal(readFileSync(configurationDocPath, 'utf8'), await renderConfigurationDoc());
});

void test('every setting has a description, a unique Helm value and a row in the doc', () => {
  const doc = readFileSync(configurationDocPath, 'utf8');
  const helmValues = new Set(settings.map((s) => s.helmValue));
  assert.equal(helmValues.size, settings.length);
  for (const s of settings) {
    assert.ok(s.description.length > 0, s.name);
    assert.ok(doc.includes(`| \`${s.name}\``), `${s.name} has a row`);
  }
});

void test('the settings table in README.md is the output of npm run docs:config', async () => {
  const readme = readFileSync(readmePath, 'utf8');
  assert.equal(readme, replaceReadmeSettings(readme, await renderReadmeSettings()));
});

void test('the README table lists every setting with its default', () => {
  const readme = readFileSync(readmePath, 'utf8');
  const block = readme.slice(
    readme.indexOf(ReadmeMarker.Start),
    readme.indexOf(ReadmeMarker.End) + ReadmeMarker.End.length,
  );
  for (const s of settings) {
    const row = block.split('\n').find((line) => line.startsWith(`| \`${s.name}\``));
    assert.ok(row !== undefined, `${s.name} has a row in the README`);
    if (s.required) assert.match(row, /\*\*required\*\*/, `${s.name} is marked required`);
    else if (s.default !== undefined && !/\s|\(/.test(s.default)) {
      assert.ok(row.includes(s.default), `${s.name} shows its default ${s.default}`);
    }
  }
});

void test('replaceReadmeSettings() swaps only the text between the markers', () => {
  const readme = `# t\n\n${ReadmeMarker.Start}\nold\n${ReadmeMarker.End}\n\nafter\n`;
  assert.equal(
    replaceReadmeSettings(readme, '| a |\n'),
    `# t\n\n${ReadmeMarker.Start}\n\n| a |\n\n${ReadmeMarker.End}\n\nafter\n`,
  );
  assert.throws(() => replaceReadmeSettings('# no markers\n', '| a |'), /markers/);
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
