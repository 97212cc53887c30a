import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { before, test } from 'node:test';

import { JsonCodec } from '../../../src/codec/json-codec.js';
import { PoisonReason, UsageError } from '../../../src/errors.js';
import { initBackend } from '../../../src/model/backend.js';
import type { ModelSnapshot } from '../../../src/model/types.js';
import { runAssignCommand } from '../../../src/offline/assign-command.js';
import type { CommandIo } from '../../../src/offline/command-io.js';
import { FsModelStore } from '../../../src/store/fs-model-store.js';
import { DeadLetterHeader } from '../../../src/worker/dead-letter.js';
import { InProcessLabeller } from '../../../src/worker/labeller/in-process-labeller.js';
import type { SourceRecord } from '../../../src/worker/ports.js';
import { tinySnapshot } from '../worker/tiny-snapshot.js';

/**
 * The tiny model with feature x scaled by a std of 1e-6 (a feature nearly constant in training):
 * x = 3e38 is a finite float32 as read, and overflows once divided by that std.
 */
function tinyStdSnapshot(): ModelSnapshot {
  const snapshot = tinySnapshot(4);
  return {
    ...snapshot,
    standardisation: { mean: new Float32Array(2), std: Float32Array.from([1e-6, 1]) },
  };
}

const lines = ['{"x":0.000009,"y":9}', '{"x":3e38,"y":0}'];
const overflow = 'a feature overflows after standardisation';

function captureIo(): { io: CommandIo; stdout: () => string; stderr: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  err.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return {
    io: { stdout: out, stderr: err, stdin: Readable.from([]) },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

async function modelDirWith(
  t: { after: (fn: () => Promise<void>) => void },
  snapshot: ModelSnapshot,
): Promise<{ dir: string; input: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dec-assign-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await new FsModelStore(dir).save(snapshot);
  const input = join(dir, 'records.jsonl');
  await writeFile(input, `${lines.join('\n')}\n`);
  return { dir, input };
}

before(async () => {
  await initBackend('cpu');
});

void test('assign stops at a record whose feature overflows after standardisation', async (t) => {
  const { dir, input } = await modelDirWith(t, tinyStdSnapshot());
  const { io } = captureIo();
  await assert.rejects(
    runAssignCommand(['--model-dir', dir, '--input', input, '--backend', 'cpu'], io),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === `${input}:2: ${overflow} (use --skip-invalid to skip such records)`,
  );
});

void test('assign and the worker agree on a record that overflows after standardisation', async (t) => {
  const snapshot = tinyStdSnapshot();
  const { dir, input } = await modelDirWith(t, snapshot);
  const cli = captureIo();
  const args = ['--model-dir', dir, '--input', input, '--skip-invalid', '--backend', 'cpu'];
  assert.equal(await runAssignCommand(args, cli.io), 0);
  const assigned = cli
    .stdout()
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.match(cli.stderr(), new RegExp(`skipping ${input}:2: ${overflow}`));

  const labeller = new InProcessLabeller(new JsonCodec());
  t.after(() => labeller.close());
  await labeller.serve(snapshot);
  const records: SourceRecord[] = lines.map((line, i) => ({
    topic: 'in',
    partition: 0,
    offset: String(i),
    key: null,
    value: Buffer.from(line),
    headers: {},
    timestampMs: 0,
  }));
  const chunk = await labeller.label(records);

  // The same record is labelled by both, with the same cluster and confidence ...
  assert.equal(assigned.length, 1);
  assert.equal(chunk.labelled.length, 1);
  const worker = JSON.parse(chunk.labelled[0]?.value?.toString() ?? '') as Record<string, unknown>;
  assert.equal(assigned[0]?.cluster, worker.cluster);
  assert.equal(assigned[0]?.cluster, 1);
  assert.ok(Math.abs((assigned[0]?.confidence as number) - (worker.confidence as number)) < 1e-6);
  // ... and the other is rejected by both, for the same reason.
  assert.equal(chunk.deadLetters.length, 1);
  const headers = chunk.deadLetters[0]?.headers ?? {};
  assert.equal(headers[DeadLetterHeader.Reason], PoisonReason.NonFinite);
  assert.equal(headers[DeadLetterHeader.Error], overflow);
  assert.equal(headers[DeadLetterHeader.SourceOffset], '1');
});
