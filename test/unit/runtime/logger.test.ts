import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../../src/runtime/logger.js';
import { ConfigError } from '../../../src/errors.js';

function capture(level?: 'debug' | 'info' | 'warn' | 'error'): {
  lines: Record<string, unknown>[];
  log: ReturnType<typeof createLogger>;
} {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    ...(level === undefined ? {} : { level }),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    clock: () => new Date('2026-01-01T00:00:00Z'),
  });
  return { lines, log };
}

void test('each line is one JSON object with ts, level, msg and the fields', () => {
  const { lines, log } = capture();
  log.child({ component: 'kafka' }).info('phase', { phase: 'online' });
  assert.deepEqual(lines, [
    {
      ts: '2026-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'phase',
      component: 'kafka',
      phase: 'online',
    },
  ]);
});

void test('lines below the level are dropped', () => {
  const { lines, log } = capture('warn');
  log.info('quiet');
  log.debug('quieter');
  log.error('loud');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['loud'],
  );
});

void test('secret-looking fields are masked at any depth and errors keep name, code and message', () => {
  const { lines, log } = capture();
  log.error('failed', {
    sasl: { username: 'u', password: 'hunter2' },
    nested: { apiToken: 'abc' },
    error: new ConfigError([{ path: 'DEC_CLUSTERS', message: 'must be an integer >= 2' }]),
  });
  const text = JSON.stringify(lines);
  assert.ok(!text.includes('hunter2') && !text.includes('abc'));
  assert.deepEqual(lines[0]?.error, {
    name: 'ConfigError',
    code: 'CONFIG_INVALID',
    message: 'invalid configuration: DEC_CLUSTERS: must be an integer >= 2',
  });
});
