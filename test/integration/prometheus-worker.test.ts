import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { checkAgainstPrometheus, prometheusAvailable } from '../../scripts/prometheus/check.js';
import { waitFor } from './helpers.js';
import {
  mixtureRecord,
  produce,
  scenario,
  separatedMixture,
  spawnWorker,
} from './worker-harness.js';

const inCi = process.env.CI === 'true';
const available = prometheusAvailable();
const skip =
  !available && !inCi
    ? 'prometheus/promtool not installed (apt-get install -y prometheus); CI runs this check'
    : false;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

void test(
  'a running dec-stream worker serves every dashboard panel with data and every alert rule runs on a real Prometheus',
  { skip, timeout: 300_000 },
  async (t) => {
    assert.ok(
      available,
      'CI=true but prometheus/promtool are not installed: .ci/run installs them',
    );
    const s = await scenario(t, { partitions: 2 });
    const { points, labels } = separatedMixture(4_000, { clusters: 3, dims: 4, seed: 11 });
    let next = 0;
    /** The next `count` mixture records, plus one poison record of each kind every few calls. */
    const records = (count: number, poison: boolean) => {
      const messages: { key: string; value: string }[] = [];
      for (let i = 0; i < count; i++) {
        const at = next++ % points.length;
        messages.push({
          key: `k${at % 17}`,
          value: JSON.stringify(mixtureRecord(at, points[at]!, labels[at]!)),
        });
      }
      if (poison) {
        messages.push({ key: 'bad', value: 'not json' });
        messages.push({ key: 'bad', value: JSON.stringify({ f0: 1, f1: 2 }) });
      }
      return messages;
    };
    await produce(s.kafka, s.input, records(200, true));

    const port = await freePort();
    const worker = spawnWorker(
      t,
      s.env({
        DEC_METRICS_PORT: String(port),
        DEC_LOG_LEVEL: 'warn',
        DEC_REFINE_EVERY_RECORDS: '100',
        DEC_REFINE_INTERVAL_MS: '1000',
        DEC_REFINE_WINDOW: '200',
      }),
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await status(`${base}/healthz`)) === 200,
      60_000,
      'the worker answers /healthz',
    );
    assert.equal(
      await status(`${base}/readyz`),
      503,
      'not ready before the bootstrap has finished',
    );
    // Liveness holds through the bootstrap: /healthz stays 200 while the model trains.
    let maxDelayMs = 0;
    const unhealthy: string[] = [];
    await waitFor(
      async () => {
        const health = await fetch(`${base}/healthz`);
        const body = (await health.json()) as { status: string; eventLoopDelayMs: number };
        maxDelayMs = Math.max(maxDelayMs, body.eventLoopDelayMs);
        if (health.status !== 200) unhealthy.push(`${health.status} ${body.status}`);
        return (await status(`${base}/readyz`)) === 200;
      },
      180_000,
      'the worker is ready',
    );
    t.diagnostic(`largest event-loop delay seen during the bootstrap: ${maxDelayMs} ms`);
    assert.deepEqual(unhealthy, [], '/healthz stays 200 during the bootstrap');

    // A steady trickle while Prometheus scrapes, so rates and latency quantiles have samples.
    let ticks = 0;
    let producing = Promise.resolve();
    const trickle = setInterval(() => {
      ticks++;
      producing = producing.then(() => produce(s.kafka, s.input, records(25, ticks % 4 === 0)));
    }, 250);
    t.after(() => clearInterval(trickle));

    const result = await checkAgainstPrometheus({
      target: `127.0.0.1:${port}`,
      scrapes: 8,
      log: () => undefined,
    });
    clearInterval(trickle);
    await producing;
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.stderr.join(''));

    t.diagnostic(
      `${result.queried} expressions queried; ${result.panelsWithData} of ${result.panels} panels have data`,
    );
    assert.deepEqual(result.failures, []);
    assert.equal(result.panelsWithData, result.panels);
  },
);
