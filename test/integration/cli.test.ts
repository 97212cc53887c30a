import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'src', 'cli.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      env: { ...process.env, DEC_STREAM_DEBUG: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Three well separated Gaussian blobs in 4 dimensions, 50 points each, from a fixed seed. */
function blobs(): { f0: number; f1: number; f2: number; f3: number; label: string }[] {
  let state = 12345;
  const uniform = (): number => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = [
    [0, 0, 0, 0],
    [6, 6, 0, 0],
    [0, 6, 6, 6],
  ];
  const names = ['red', 'green', 'blue'];
  return Array.from({ length: 150 }, (_, i) => {
    const c = centres[i % 3] as number[];
    const [f0, f1, f2, f3] = c.map((v) => v + gaussian() * 0.5) as [number, number, number, number];
    return { f0, f1, f2, f3, label: names[i % 3] as string };
  });
}

/** An error run: non-zero exit, nothing on stdout, stderr ends with one `dec-stream:` line. */
function assertOneLineError(run: Run, pattern: RegExp): void {
  assert.notEqual(run.code, 0, `exit code ${run.code}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  assert.match(last, /^dec-stream: \S/);
  assert.match(last, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(run.stderr, /unexpected error/);
}

let dir = '';
let csv = '';
let jsonl = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dec-cli-'));
  const rows = blobs();
  csv = join(dir, 'blobs.csv');
  jsonl = join(dir, 'blobs.jsonl');
  await writeFile(
    csv,
    `f0,f1,f2,f3,label\n${rows.map((r) => [r.f0, r.f1, r.f2, r.f3, r.label].join(',')).join('\n')}\n`,
  );
  await writeFile(jsonl, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test('train, assign and evaluate recover three separated blobs (ACC >= 0.95)', async () => {
  const models = join(dir, 'models');
  const train = await runCli([
    'train',
    '--input',
    csv,
    '--features',
    'f0,f1,f2,f3',
    '--clusters',
    '3',
    '--model-dir',
    models,
    '--seed',
    '3',
    '--hidden',
    '16,16',
    '--embedding',
    '3',
    '--epochs',
    '30',
    '--kmeans-restarts',
    '5',
    '--max-iterations',
    '300',
  ]);
  assert.equal(train.code, 0, train.stderr);
  const summary = JSON.parse(train.stdout) as {
    version: number;
    clusters: number;
    samples: number;
  };
  assert.deepEqual([summary.version, summary.clusters, summary.samples], [1, 3, 150]);
  assert.match(train.stderr, /pretrain epoch 30\/30/);

  const labelled = join(dir, 'labelled.jsonl');
  const assign = await runCli([
    'assign',
    '--model-dir',
    models,
    '--input',
    jsonl,
    '--output',
    labelled,
  ]);
  assert.equal(assign.code, 0, assign.stderr);
  const lines = (await readFile(labelled, 'utf8')).trimEnd().split('\n');
  assert.equal(lines.length, 150);
  const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(first.label, 'red');
  assert.equal(first.model_version, 1);
  assert.ok(Number.isInteger(first.cluster) && (first.cluster as number) < 3);
  assert.ok((first.confidence as number) > 1 / 3 && (first.confidence as number) <= 1);

  const evaluate = await runCli(['evaluate', '--input', labelled, '--truth', 'label']);
  assert.equal(evaluate.code, 0, evaluate.stderr);
  const scores = JSON.parse(evaluate.stdout) as { n: number; acc: number; nmi: number };
  assert.equal(scores.n, 150);
  assert.ok(scores.acc >= 0.95, `ACC ${scores.acc}`);

  const inspect = await runCli(['inspect', '--model-dir', models, '--json']);
  assert.equal(inspect.code, 0, inspect.stderr);
  const info = JSON.parse(inspect.stdout) as Record<string, unknown>;
  // The profiles: one per cluster, prototypes in the input's fields, members named by position.
  const profiles = info.profiles as {
    share: number;
    prototype: { field: string; values: number[] }[];
    nearest: { id: string }[];
    topFeatures: { feature: string }[];
  }[];
  assert.equal(profiles.length, 3);
  assert.ok(Math.abs(profiles.reduce((sum, p) => sum + p.share, 0) - 1) < 1e-9);
  for (const p of profiles) {
    assert.deepEqual(
      p.prototype.map((f) => f.field),
      ['f0', 'f1', 'f2', 'f3'],
    );
    assert.equal(p.nearest.length, 5);
    assert.ok(p.nearest.every((m) => Number(m.id) >= 0 && Number(m.id) < 150));
    assert.equal(p.topFeatures.length, 4);
  }
  const table = await runCli(['inspect', '--model-dir', models]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^model version 1 \(kmeans, 3 clusters, 4 inputs/);
  assert.match(table.stdout, /\ncluster +share +size +confidence +sets it apart most\n/);
  assert.match(table.stdout, /\n {2}prototype +f0=\S+ {2}f1=/);
  assertOneLineError(
    await runCli(['inspect', '--model-dir', models, '--png', join(dir, 'blobs.png')]),
    /--png needs a model whose records hold an image/,
  );
  assert.equal(info.inputDims, 4);
  assert.equal(info.clusters, 3);
  // Three separated blobs are k-means' home ground: the guard serves it, an identity map plus
  // k-means' centres, and says so with both candidates' scores.
  assert.equal(info.modelKind, 'kmeans');
  assert.equal(info.architecture, '4-4');
  const guard = info.guard as { chosen: string; candidates: { kind: string; score: number }[] };
  assert.equal(guard.chosen, 'kmeans');
  assert.deepEqual(
    guard.candidates.map((c) => c.kind),
    ['kmeans', 'dec'],
  );
  assert.equal(
    (info.clusterSizes as number[]).reduce((a, b) => a + b, 0),
    150,
  );
  assert.equal(typeof info.backend, 'string');

  // A record without a feature stops assign with its line, unless --skip-invalid is given.
  const holes = `${JSON.stringify({ f0: 0, f1: 0, f2: 0, f3: 0 })}\n${JSON.stringify({ f0: 1 })}\n`;
  const stopped = await runCli(['assign', '--model-dir', models, '--input', '-'], holes);
  assertOneLineError(stopped, /stdin:2: field "f1" is missing .*--skip-invalid/);
  const skipped = await runCli(
    ['assign', '--model-dir', models, '--input', '-', '--skip-invalid'],
    holes,
  );
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.equal(skipped.stdout.trimEnd().split('\n').length, 1);
  assert.match(skipped.stderr, /skipping stdin:2: field "f1" is missing/);

  // assign also reads CSV from stdin and writes to stdout.
  const piped = await runCli(
    ['assign', '--model-dir', models, '--input', '-'],
    await readFile(csv, 'utf8'),
  );
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout.trimEnd().split('\n').length, 150);
});

void test('suggest-k prints a score table and recommends the three blobs', async () => {
  const run = await runCli([
    'suggest-k',
    '--input',
    csv,
    '--features',
    'f0,f1,f2,f3',
    '--max',
    '6',
    '--quiet',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rows = run.stdout.split('\n').filter((line) => /^ +\d+ /.test(line));
  assert.equal(rows.length, 5);
  assert.match(run.stdout, /^ +k +silhouette/);
  assert.match(run.stdout, /recommended k: 3 /);
});

void test('train --clusters auto trains on the k it chose and says so', async () => {
  const models = join(dir, 'auto-models');
  const run = await runCli([
    'train',
    '--input',
    csv,
    '--features',
    'f0,f1,f2,f3',
    '--clusters',
    'auto',
    '--clusters-max',
    '5',
    '--model-dir',
    models,
    '--epochs',
    '30',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as { clusters: number }).clusters, 3);
  assert.match(run.stderr, /recommended k: 3 /);
});

void test('every command answers --help on stdout with exit 0', async () => {
  const runs = await Promise.all(
    ['train', 'assign', 'evaluate', 'inspect', 'suggest-k', 'run'].map((c) =>
      runCli([c, '--help']),
    ),
  );
  for (const run of runs) {
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: dec-stream [\w-]+/);
  }
  const top = await runCli(['--help']);
  assert.match(top.stdout, /Commands:/);
});

void describe('error paths give one clear line and a non-zero exit', { concurrency: 4 }, () => {
  const train = (...extra: string[]): string[] => [
    'train',
    '--input',
    csv,
    '--features',
    'f0,f1',
    '--clusters',
    '3',
    '--model-dir',
    join(dir, 'unused'),
    ...extra,
  ];
  const replace = (args: string[], flag: string, value: string): string[] =>
    args.map((a, i) => (args[i - 1] === flag ? value : a));

  const cases: { name: string; args: () => string[]; stdin?: string; pattern: RegExp }[] = [
    {
      name: 'an unknown command',
      args: () => ['frobnicate'],
      pattern: /unknown command "frobnicate"/,
    },
    { name: 'no command at all', args: () => [], pattern: /no command given/ },
    {
      name: 'a model directory that is a file',
      args: () => replace(train(), '--model-dir', csv),
      pattern: /cannot store models in ".*blobs\.csv"/,
    },
    {
      name: 'an unknown flag',
      args: () => train('--colour', 'red'),
      pattern: /unknown option --colour/,
    },
    {
      name: 'a missing required flag',
      args: () => ['train', '--input', csv],
      pattern: /--features is required/,
    },
    {
      name: 'a missing input file',
      args: () => replace(train(), '--input', join(dir, 'nope.csv')),
      pattern: /no such file/,
    },
    {
      name: 'a bad feature spec',
      args: () => replace(train(), '--features', 'f0,,f1'),
      pattern: /empty field name/,
    },
    { name: 'k < 2', args: () => replace(train(), '--clusters', '1'), pattern: /at least 2/ },
    {
      name: 'a non-numeric k',
      args: () => replace(train(), '--clusters', 'three'),
      pattern: /--clusters must be a number/,
    },
    {
      name: 'k larger than the data',
      args: () => replace(train(), '--clusters', '151'),
      pattern: /151 clusters in 150 records/,
    },
    {
      name: 'an empty input',
      args: () => replace(train(), '--input', '-'),
      stdin: '',
      pattern: /holds no records/,
    },
    {
      name: 'a feature field that the records lack',
      args: () => replace(train(), '--features', 'f0,nope'),
      pattern: /field "nope" is missing/,
    },
    {
      name: 'records without usable features, every one named with its line',
      args: () => replace(train(), '--input', '-'),
      stdin: '{"f0":1,"f1":2}\n{"f0":1}\n{"f0":"x","f1":2}\n{"f0":3,"f1":4}\n',
      pattern:
        /2 of 4 records have no usable features \(stdin:2: field "f1" is missing; stdin:3: field "f0" is not numeric.*\); use --skip-invalid to train on the other 2/,
    },
    {
      name: 'a malformed JSONL line',
      args: () => replace(train(), '--input', '-'),
      stdin: '{"f0":1,"f1":2}\n{"f0":\n',
      pattern: /stdin:2: invalid JSON/,
    },
    {
      name: 'an invalid training option',
      args: () => train('--hidden', '16,x'),
      pattern: /--hidden must be a comma-separated list/,
    },
    {
      name: 'a malformed image size',
      args: () => train('--augment-image', '28by28'),
      pattern: /--augment-image must be a size such as 28x28, got "28by28"/,
    },
    {
      name: 'an image size that does not match the features',
      args: () => train('--augment-image', '3x3', '--scaling', 'global'),
      pattern: /image 3x3 has 9 pixels but records have 2 features/,
    },
    {
      name: 'assign without a model',
      args: () => ['assign', '--model-dir', join(dir, 'empty'), '--input', jsonl],
      pattern: /no usable model/,
    },
    {
      name: 'evaluate with a missing truth field',
      args: () => ['evaluate', '--input', jsonl, '--truth', 'klass', '--pred', 'label'],
      pattern: /blobs\.jsonl:1: the record has no "klass" field/,
    },
    {
      name: 'inspect of a directory that holds no model',
      args: () => ['inspect', '--model-dir', dir],
      pattern: /no usable model/,
    },
  ];
  for (const c of cases) {
    void test(`${c.name}`, async () => {
      assertOneLineError(await runCli(c.args(), c.stdin), c.pattern);
    });
  }

  void test('a corrupted model file is skipped with a warning and then reported', async () => {
    const models = join(dir, 'corrupted');
    await rm(models, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(models, { recursive: true }));
    await writeFile(join(models, 'model-000003.decsnap'), 'not a snapshot at all');
    const run = await runCli(['assign', '--model-dir', models, '--input', jsonl]);
    assertOneLineError(run, /no usable model/);
    assert.match(run.stderr, /skipping model snapshot .*model-000003\.decsnap/);
  });
});
