import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { checkBoundaries } from '../../../scripts/check-boundaries.js';
import type { BoundaryViolation } from '../../../scripts/check-boundaries.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A tiny source tree with one module per layer, each importing the layer below it. */
const layered: Record<string, string> = {
  'src/errors.ts': 'export const code = 1;\n',
  'src/feature-list.ts': "import { code } from './errors.js';\nexport const fields = code;\n",
  'src/runtime/logger.ts': "import { code } from '../errors.js';\nexport const log = code;\n",
  'src/config/settings.ts':
    "import { fields } from '../feature-list.js';\nexport const s = fields;\n",
  'src/model/types.ts': "import { code } from '../errors.js';\nexport const model = code;\n",
  'src/model/build-snapshot.ts':
    "import { model } from './types.js';\nexport const build = model;\n",
  'src/online/assigner.ts':
    "import { model } from '../model/types.js';\nexport const assign = model;\n",
  'src/codec/json.ts': "import { code } from '../errors.js';\nexport const json = code;\n",
  'src/store/model-store.ts': 'export interface ModelStore { save(): void }\n',
  'src/registry/client.ts': "export const registry = 'http';\n",
  'src/worker/worker.ts': [
    "import { assign } from '../online/assigner.js';",
    "import { log } from '../runtime/logger.js';",
    "import type { ModelStore } from '../store/model-store.js';",
    'export const work = (store: ModelStore) => [assign, log, store];',
    '',
  ].join('\n'),
  'src/kafka/sink.ts': [
    "import { log } from '../runtime/logger.js';",
    "import { work } from '../worker/worker.js';",
    "import { s } from '../config/settings.js';",
    'export const sink = [log, work, s];',
    '',
  ].join('\n'),
  'src/run-worker.ts': "import { sink } from './kafka/sink.js';\nexport const run = sink;\n",
};

/** Writes `files` with a NodeNext tsconfig (imports name `.js`, files are `.ts`) into a temp dir. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dec-boundaries-'));
  dirs.push(dir);
  const tsconfig = {
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    include: ['src'],
  };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** Each violation as `rule: from → to`; a cycle as `rule: a ⇄ b`, whichever end it is found from. */
const pairs = (violations: readonly BoundaryViolation[]): string[] =>
  violations
    .map((v) =>
      v.rule === 'no-circular'
        ? `${v.rule}: ${[v.from, v.to].sort().join(' ⇄ ')}`
        : `${v.rule}: ${v.from} → ${v.to}`,
    )
    .sort();

void test('a tree whose imports all point down passes', async () => {
  const check = await checkBoundaries(['src'], await tree(layered));
  assert.deepEqual(pairs(check.violations), [], check.report);
});

void test('upward imports, I/O in pure code and runtime cycles each break their rule', async () => {
  const bad: Record<string, string> = {
    ...layered,
    // The core importing an adapter's type: type-only imports count.
    'src/model/uses-kafka.ts':
      "import type { sink } from '../kafka/sink.js';\nexport type S = typeof sink;\n",
    'src/codec/reads-files.ts':
      "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    'src/config/parses-with-model.ts':
      "import { model } from '../model/types.js';\nexport const m = model;\n",
    'src/worker/calls-registry.ts':
      "import { registry } from '../registry/client.js';\nexport const r = registry;\n",
    'src/runtime/needs-worker.ts':
      "import { work } from '../worker/worker.js';\nexport const w = work;\n",
    'src/model/uses-online.ts':
      "import { assign } from '../online/assigner.js';\nexport const a = assign;\n",
    'src/online/loop-a.ts': "import { b } from './loop-b.js';\nexport const a = () => b;\n",
    'src/online/loop-b.ts': "import { a } from './loop-a.js';\nexport const b = () => a;\n",
  };
  const check = await checkBoundaries(['src'], await tree(bad));
  assert.deepEqual(
    pairs(check.violations),
    [
      'config-imports-only-plain-types: src/config/parses-with-model.ts → src/model/types.ts',
      'core-imports-no-layer-above-it: src/model/uses-kafka.ts → src/kafka/sink.ts',
      'model-does-not-import-online: src/model/uses-online.ts → src/online/assigner.ts',
      'no-circular: src/online/loop-a.ts ⇄ src/online/loop-b.ts',
      'pure-code-does-no-io: src/codec/reads-files.ts → fs',
      'runtime-imports-nothing-above-it: src/runtime/needs-worker.ts → src/worker/worker.ts',
      'worker-sees-adapters-only-as-interfaces: src/worker/calls-registry.ts → src/registry/client.ts',
    ],
    check.report,
  );
});
