import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createPrometheusObserver } from '../../src/metrics/prometheus-observer.js';
import { startHttpServer } from '../../src/server/http-server.js';
import { checkAgainstPrometheus, prometheusAvailable } from '../../scripts/prometheus/check.js';

const inCi = process.env.CI === 'true';
const available = prometheusAvailable();
const skip =
  !available && !inCi
    ? 'prometheus/promtool not installed (apt-get install -y prometheus); CI runs this check'
    : false;

void test(
  'the check names an expression that does not parse and a panel without data',
  { skip, timeout: 120_000 },
  async (t) => {
    assert.ok(
      available,
      'CI=true but prometheus/promtool are not installed: .ci/run installs them',
    );
    const { registry, observer } = createPrometheusObserver({ defaultMetrics: false });
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      health: { isReady: () => observer.isReady(), phase: () => 'online' },
    });
    const dir = mkdtempSync(join(tmpdir(), 'dec-stream-dashboard-'));
    t.after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const dashboardPath = join(dir, 'broken.json');
    writeFileSync(
      dashboardPath,
      JSON.stringify({
        panels: [
          { title: 'Fine', targets: [{ refId: 'A', expr: 'decstream_ready{pod=~"$pod"}' }] },
          {
            title: 'Typo',
            targets: [{ refId: 'A', expr: 'sum(rate(decstream_records_total[$__rate_interval])' }],
          },
          {
            title: 'Empty',
            targets: [{ refId: 'A', expr: 'decstream_no_such_metric{namespace="$namespace"}' }],
          },
        ],
      }),
    );

    const result = await checkAgainstPrometheus({
      target: `127.0.0.1:${server.port}`,
      dashboardPath,
      scrapes: 2,
      log: () => undefined,
    });
    assert.equal(result.failures.length, 2, result.failures.join('\n'));
    assert.match(result.failures[0] ?? '', /^panel "Typo" \(A\) does not run: bad_data/);
    assert.equal(result.failures[1], 'panel "Empty" returns no data');
    assert.equal(result.panelsWithData, 1);
  },
);
