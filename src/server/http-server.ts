import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { Phase } from '../worker/observer.js';
import type { HealthSource } from '../worker/observer.js';
import { EventLoopMonitor } from './event-loop-monitor.js';

/** /healthz fails once the event loop has run a timer this late within the last ten seconds. */
export const DefaultMaxEventLoopDelayMs = 5_000;

export interface HttpServerOptions {
  /** 0 picks a free port; the returned handle says which. */
  readonly port: number;
  readonly registry: Registry;
  readonly health: HealthSource;
  /** Interface to listen on; default all interfaces. */
  readonly host?: string;
  readonly maxEventLoopDelayMs?: number;
}

export interface HttpServerHandle {
  readonly port: number;
  /** Stops listening and drops open connections; safe to call more than once. */
  close(): Promise<void>;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: object): void {
  send(req, res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

/** /healthz: alive unless the worker failed or the event loop was held up past the bound. */
function liveness(
  phase: Phase,
  eventLoopDelayMs: number,
  maxDelayMs: number,
): { code: number; body: Record<string, unknown> } {
  const failed = phase === Phase.Failed;
  const stalled = eventLoopDelayMs > maxDelayMs;
  const status = failed ? 'failed' : stalled ? 'event loop delayed' : 'ok';
  return {
    code: failed || stalled ? 503 : 200,
    body: { status, phase, eventLoopDelayMs, maxEventLoopDelayMs: maxDelayMs },
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Serves /metrics (the registry in Prometheus text format), /healthz (liveness: the event loop
 * answers in time and the worker has not failed) and /readyz (readiness: a model serves and the
 * consumer is connected, as `health.isReady()` says; never during the bootstrap).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { registry, health } = options;
  const maxDelayMs = options.maxEventLoopDelayMs ?? DefaultMaxEventLoopDelayMs;
  const monitor = new EventLoopMonitor();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      sendJson(req, res, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(req, res, 405, { error: 'method not allowed' });
      return;
    }
    if (path === '/metrics') {
      const text = await registry.metrics();
      send(req, res, 200, registry.contentType, text);
      return;
    }
    const phase = health.phase();
    if (path === '/healthz') {
      const { code, body } = liveness(phase, Math.round(monitor.maxDelayMs()), maxDelayMs);
      sendJson(req, res, code, body);
      return;
    }
    const ready = health.isReady();
    const role = health.role?.();
    sendJson(req, res, ready ? 200 : 503, {
      ready,
      phase,
      ...(role === undefined ? {} : { role }),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (res.headersSent) res.destroy();
      else sendJson(req, res, 500, { error: message });
    });
  });
  // Probes and scrapes are short: do not let an idle keep-alive connection hold close() up.
  server.keepAliveTimeout = 5_000;

  await listen(server, options.port, options.host);
  monitor.start();

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        monitor.stop();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
