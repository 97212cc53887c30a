import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixProduceGrouping, linearGrouping } from '../../../scripts/patch-dependencies.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nodeModules = join(root, 'node_modules');
const groupingPath = join(
  nodeModules,
  'kafkajs',
  'src',
  'producer',
  'groupMessagesPerPartition.js',
);

interface Message {
  readonly key: string;
}
type Grouping = (args: {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;

void test('the installed kafkajs groups produce messages with the one-pass version', () => {
  assert.equal(fixProduceGrouping(nodeModules), 'present');
  assert.equal(readFileSync(groupingPath, 'utf8'), linearGrouping);
});

void test("kafkajs's grouping puts each message under its partition, in the order given", () => {
  const group = createRequire(import.meta.url)(groupingPath) as Grouping;
  const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}` }));
  const partitionOf = (m: Message): number => Number(m.key.slice(1)) % 3;
  const grouped = group({
    topic: 'out',
    partitionMetadata: [{}, {}, {}],
    messages,
    partitioner: ({ message }) => partitionOf(message),
  });
  assert.deepEqual(Object.keys(grouped).sort(), ['0', '1', '2']);
  for (const partition of [0, 1, 2]) {
    assert.deepEqual(
      grouped[partition],
      messages.filter((m) => partitionOf(m) === partition),
    );
  }
  assert.deepEqual(
    group({ topic: 'out', partitionMetadata: [], messages, partitioner: () => 0 }),
    {},
  );
});

void test('the fix leaves a file it was not written for alone, and a missing kafkajs too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'patch-deps-'));
  try {
    assert.equal(fixProduceGrouping(dir), 'absent');
    const path = join(dir, 'kafkajs', 'src', 'producer', 'groupMessagesPerPartition.js');
    mkdirSync(dirname(path), { recursive: true });
    const other = 'module.exports = () => ({})\n';
    writeFileSync(path, other);
    assert.equal(fixProduceGrouping(dir), 'unknown-version');
    assert.equal(readFileSync(path, 'utf8'), other);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
