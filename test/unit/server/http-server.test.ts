import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { PrometheusObserver } from '../../../src/metrics/prometheus-observer.js';
import { startHttpServer } from '../../../src/server/http-server.js';
import { Phase } from '../../../src/worker/observer.js';
import type { HealthSource } from '../../../src/worker/observer.js';

/** A worker as /readyz and /healthz see it, driven by the test. */
function fakeHealth(): HealthSource & { state: { phase: Phase; ready: boolean } } {
  const state: { phase: Phase; ready: boolean } = { phase: Phase.Starting, ready: false };
  return { state, isReady: () => state.ready, phase: () => state.phase };
}

async function started(
  t: { after: (fn: () => Promise<void>) => void },
  health: HealthSource,
  registry = new Registry(),
  maxEventLoopDelayMs?: number,
) {
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    registry,
    health,
    ...(maxEventLoopDelayMs === undefined ? {} : { maxEventLoopDelayMs }),
  });
  t.after(() => server.close());
  return { server, url: (path: string) => `http://127.0.0.1:${server.port}${path}` };
}

void test('/readyz is 503 during the bootstrap and 200 once the worker is online', async (t) => {
  const registry = new Registry();
  const observer = new PrometheusObserver(registry);
  let phase: Phase = Phase.Bootstrapping;
  const health: HealthSource = { isReady: () => observer.isReady(), phase: () => phase };
  const { url } = await started(t, health, registry);

  observer.phase(Phase.Bootstrapping);
  observer.consumerConnected(true);
  observer.partitionsAssigned(1);
  const during = await fetch(url('/readyz'));
  assert.equal(during.status, 503);
  assert.deepEqual(await during.json(), { ready: false, phase: 'bootstrapping' });

  observer.modelServing({
    version: 1,
    backend: 'cpu',
    inputDims: 3,
    clusters: 2,
    modelKind: 'dec',
  });
  observer.phase(Phase.Online);
  phase = Phase.Online;
  const online = await fetch(url('/readyz'));
  assert.equal(online.status, 200);
  assert.deepEqual(await online.json(), { ready: true, phase: 'online' });
});

void test('/healthz is 200 while the event loop is responsive, in any phase but failed', async (t) => {
  const health = fakeHealth();
  const { url } = await started(t, health);
  health.state.phase = Phase.Bootstrapping;
  const response = await fetch(url('/healthz'));
  assert.equal(response.status, 200);
  const body = (await response.json()) as { status: string; eventLoopDelayMs: number };
  assert.equal(body.status, 'ok');
  assert.equal(typeof body.eventLoopDelayMs, 'number');

  health.state.phase = Phase.Failed;
  assert.equal((await fetch(url('/healthz'))).status, 503);
});

void test('/healthz is 503 after the event loop was blocked for longer than the bound', async (t) => {
  const health = fakeHealth();
  const { url } = await started(t, health, new Registry(), 100);
  const until = Date.now() + 700;
  while (Date.now() < until) {
    // Block the loop the way a synchronous training step would.
  }
  const response = await fetch(url('/healthz'));
  assert.equal(response.status, 503);
  assert.equal(((await response.json()) as { status: string }).status, 'event loop delayed');
});

void test('/metrics serves the registry in the Prometheus text format', async (t) => {
  const registry = new Registry();
  const observer = new PrometheusObserver(registry);
  observer.recordsConsumed(42);
  const { url } = await started(t, fakeHealth(), registry);
  const response = await fetch(url('/metrics'));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(await response.text(), /^decstream_records_consumed_total 42$/m);
});

void test('unknown paths are 404 and other methods 405', async (t) => {
  const { url } = await started(t, fakeHealth());
  assert.equal((await fetch(url('/nope'))).status, 404);
  const post = await fetch(url('/metrics'), { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const head = await fetch(url('/healthz'), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

void test('close() can be called twice and frees the port', async () => {
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    registry: new Registry(),
    health: fakeHealth(),
  });
  await Promise.all([server.close(), server.close()]);
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`));
});

void test('a port already in use rejects the start', async (t) => {
  const { server } = await started(t, fakeHealth());
  await assert.rejects(
    startHttpServer({
      port: server.port,
      host: '127.0.0.1',
      registry: new Registry(),
      health: fakeHealth(),
    }),
    { code: 'EADDRINUSE' },
  );
});
