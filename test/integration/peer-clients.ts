/**
 * What the peer clients of the integration tests (the Java client, java-client.ts; librdkafka,
 * rdkafka-client.ts) share: running one as a child process, reading the records its consumer
 * prints, and checking the worker's output for the codec batches it produced.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/**
 * Runs `command` with `args`, `stdin` as its input; resolves with its standard output, rejects
 * with its standard error when it exits non-zero. `name` names it in that error.
 */
export function runPeer(
  name: string,
  command: string,
  args: readonly string[],
  stdin = '',
): Promise<string> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${name} exited ${code}: ${Buffer.concat(err).toString()}`));
    });
  });
}

/**
 * Produces `values` to partition 0 of `topic` as one batch compressed with `codec`, keys
 * `<keyPrefix>-<i>`, each with a header naming the client and codec.
 */
export type ProduceBatch = (
  brokers: readonly string[],
  topic: string,
  codec: string,
  values: readonly string[],
  keyPrefix: string,
) => Promise<void>;

/** Reads `count` records of `topic` from the start (read_committed). */
export type ConsumeRecords = (
  brokers: readonly string[],
  topic: string,
  count: number,
) => Promise<PeerRecord[]>;

/** Values as a peer client reads them from its standard input: one per line. */
export const valueLines = (values: readonly string[]): string => `${values.join('\n')}\n`;

/** A record as a peer client's consumer prints it: key, value, headers. */
export interface PeerRecord {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The records a peer client printed, one per line: key, value and headers (name=value,
 * comma-separated), tab-separated.
 */
export function parsePeerRecords(text: string): PeerRecord[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [key = '', value = '', headerText = ''] = line.split('\t');
      const headers: Record<string, string> = {};
      for (const pair of headerText.split(',').filter((p) => p.length > 0)) {
        const at = pair.indexOf('=');
        headers[pair.slice(0, at)] = pair.slice(at + 1);
      }
      return { key, value, headers };
    });
}

/**
 * Checks what the worker made of one batch per codec that the peer `client` produced (keys
 * `<codec>-<i>`, header source=<client>-<codec>, `perCodec` mixture records then one poison record
 * each): every record labelled once by model version 1 with its headers kept, and each poison
 * record dead-lettered.
 */
export function assertPeerBatchesLabelled(
  client: string,
  codecs: readonly string[],
  perCodec: number,
  out: readonly PeerRecord[],
  dead: readonly PeerRecord[],
): void {
  const total = codecs.length * perCodec;
  assert.equal(out.length, total, 'every record labelled');
  assert.equal(new Set(out.map((r) => r.key)).size, total, 'no record twice');
  for (const record of out) {
    const codec = record.key.split('-')[0] as string;
    assert.equal(record.headers.source, `${client}-${codec}`, 'the input headers are kept');
    assert.equal(record.headers['dec-model-version'], '1');
    const value = JSON.parse(record.value) as { cluster: number; f0: number };
    assert.ok(Number.isInteger(value.cluster) && value.cluster >= 0 && value.cluster < 3);
    assert.equal(typeof value.f0, 'number');
  }
  assert.deepEqual(
    dead.map((r) => r.key).sort(),
    codecs.map((codec) => `${codec}-${perCodec}`).sort(),
    'the one poison record of each batch is a dead letter',
  );
}
