import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsServer, createOperatorServer, type HttpAppOptions } from '../../src/http.ts';
import { Metrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';

const servers: Array<{ close(): unknown; closeAllConnections(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function listen(server: ReturnType<typeof createOperatorServer>): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function options(readiness: Readiness, metricsToken?: string): HttpAppOptions {
  return {
    readiness,
    metrics: new Metrics(),
    metricsAccess: { token: metricsToken, separatePort: false },
    admin: undefined,
    landing: { roles: ['worker'], platforms: ['slack'], model: 'some/model', demoModel: false, sentiment: undefined, pages: [], setup: [], insightsPath: undefined },
  };
}

describe('the operator endpoints without express (a worker without the dashboard)', () => {
  it('serves the landing page, liveness, readiness and metrics, and nothing else', async () => {
    const readiness = new Readiness();
    let redisUp = true;
    readiness.add('redis', () => redisUp);
    const base = await listen(createOperatorServer(options(readiness)));

    const landing = await fetch(`${base}/`);
    expect(landing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await landing.text()).toContain('some/model');
    const health = await fetch(`${base}/healthz`);
    expect([health.status, health.headers.get('content-type'), await health.json()]).toEqual([200, 'application/json; charset=utf-8', { ok: true }]);
    expect((await fetch(`${base}/readyz?verbose=1`)).status).toBe(200);
    redisUp = false;
    const unready = await fetch(`${base}/readyz`);
    expect([unready.status, await unready.json()]).toEqual([503, { ready: false, checks: { accepting: true, redis: false } }]);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('hfbot_jobs_total');

    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '11', '']);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/admin/queues`)).status).toBe(404);
  });

  it('answers a failing check with 503, never a crash', async () => {
    const readiness = new Readiness();
    readiness.add('redis', () => Promise.reject(new Error('down')));
    const base = await listen(createOperatorServer(options(readiness)));
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('asks for the metrics token on the main port and on METRICS_PORT alike', async () => {
    const base = await listen(createOperatorServer(options(new Readiness(), 's3cret')));
    const metricsBase = await listen(createMetricsServer(new Metrics(), 's3cret'));
    for (const url of [`${base}/metrics`, `${metricsBase}/metrics`]) {
      const refused = await fetch(url);
      expect([refused.status, refused.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="hfbot metrics"']);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    }
    expect((await fetch(`${metricsBase}/healthz`)).status).toBe(404);
  });
});
