import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import type { CommandIo } from '../../../src/offline/command-io.js';
import { runSuggestKCommand } from '../../../src/offline/suggest-k-command.js';
import { gaussianMixture } from '../model/mixture.js';

const dir = mkdtempSync(join(tmpdir(), 'dec-suggest-k-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A CSV of `clusters` well separated blobs in 5 columns. */
function mixtureCsv(clusters: number, rows: number): string {
  const { x } = gaussianMixture(rows, clusters, 5, 40 + clusters);
  const lines = ['a,b,c,d,e'];
  for (let i = 0; i < x.rows; i++) {
    lines.push(Array.from(x.data.subarray(i * 5, i * 5 + 5), (v) => v.toFixed(4)).join(','));
  }
  const path = join(dir, `mixture-${clusters}.csv`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function captureIo(): { io: CommandIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const io: CommandIo = {
    stdout,
    stderr: { write: (text: string) => (err += text) },
    stdin: new PassThrough(),
  };
  return { io, stdout: () => out, stderr: () => err };
}

/** A small autoencoder and few epochs: the test is about the command, not the model. */
const small = ['--hidden', '16', '--embedding', '4', '--epochs', '15', '--batch-size', '32'];

void describe('dec-stream suggest-k', () => {
  void test('prints one row per k and recommends the number of blobs', async () => {
    const input = mixtureCsv(4, 240);
    const { io, stdout } = captureIo();
    const args = ['--input', input, '--features', 'a,b,c,d,e', '--min', '2', '--max', '7'];
    const code = await runSuggestKCommand([...args, ...small, '--quiet'], io);
    assert.equal(code, 0);
    const lines = stdout().split('\n');
    assert.match(lines[0]!, /k +silhouette +calinski-harabasz +davies-bouldin/);
    const rows = lines.filter((line) => /^ +\d+ /.test(line));
    assert.deepEqual(
      rows.map((line) => Number(line.trim().split(/\s+/)[0])),
      [2, 3, 4, 5, 6, 7],
    );
    assert.match(rows[2]!, /<- recommended$/);
    assert.match(
      stdout(),
      /recommended k: 4 \(smallest k whose silhouette of k-means in the UMAP layout is within 0.01/,
    );
  });

  void test('--json prints the recommendation and the table as one object', async () => {
    const input = mixtureCsv(3, 180);
    const { io, stdout } = captureIo();
    const args = ['--input', input, '--features', 'a,b,c,d,e', '--max', '5', '--json', '-q'];
    // The default network: the small one merges two of these three blobs in its 4-d embedding.
    assert.equal(await runSuggestKCommand(args, io), 0);
    const result = JSON.parse(stdout()) as { recommended: number; scores: { k: number }[] };
    assert.equal(result.recommended, 3);
    assert.deepEqual(
      result.scores.map((s) => s.k),
      [2, 3, 4, 5],
    );
  });

  void test('names every record without usable features, and skips them only when asked', async () => {
    const clean = mixtureCsv(3, 180);
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(clean, 'utf8').trimEnd().split('\n');
    // Lines 3 and 6 of the file (records 2 and 5) lose a value; line 8 holds a word.
    lines[2] = lines[2]!.replace(/^[^,]*,/, ',');
    lines[5] = lines[5]!.replace(/,[^,]*$/, ',');
    lines[7] = lines[7]!.replace(/^[^,]*/, 'north');
    const input = join(dir, 'holes.csv');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const args = ['--input', input, '--features', 'a,b,c,d,e', '--max', '5', ...small, '-q'];
    await assert.rejects(
      runSuggestKCommand(args, captureIo().io),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.includes(`3 of 180 records have no usable features (${input}:3: field "a"`) &&
        e.message.includes(`${input}:6: field "e"`) &&
        e.message.includes(`${input}:8: field "a" is not numeric`) &&
        e.message.endsWith('use --skip-invalid to score k on the other 177'),
    );
    const { io, stdout } = captureIo();
    assert.equal(await runSuggestKCommand([...args, '--skip-invalid', '--json'], io), 0);
    assert.equal((JSON.parse(stdout()) as { rows: number }).rows, 177);
  });

  void test('refuses a range it cannot score, naming the flag', async () => {
    const input = mixtureCsv(2, 30);
    const base = ['--input', input, '--features', 'a,b,c,d,e'];
    const { io } = captureIo();
    await assert.rejects(
      runSuggestKCommand([...base, '--min', '6', '--max', '4'], io),
      (e: unknown) =>
        e instanceof UsageError && /--max must be at least --min \(6\)/.test(e.message),
    );
    await assert.rejects(
      runSuggestKCommand([...base, '--min', '1'], io),
      (e: unknown) => e instanceof UsageError && /--min must be at least 2/.test(e.message),
    );
    await assert.rejects(
      runSuggestKCommand([...base, '--max', '30'], io),
      (e: unknown) => e instanceof UsageError && /lower --max/.test(e.message),
    );
    await assert.rejects(
      runSuggestKCommand(['--features', 'a'], io),
      (e: unknown) => e instanceof UsageError && /--input is required/.test(e.message),
    );
  });
});
