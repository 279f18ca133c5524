import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const TOKEN = 'metrics-token-do-not-log-5678';
const ADMIN_PASSWORD = 'admin-password-do-not-log';
let bot: RunningTestService | undefined;

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

/** A gateway-only service (the playground needs no credentials) with these settings. */
async function start(env: Record<string, string>) {
  bot = await startTestService({ PLAYGROUND_ENABLED: 'true', QUEUE_PREFIX: uniquePrefix('metrics'), ...env }, ['gateway']);
  return bot;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** GET from a chosen loopback source address (127.0.0.2 …), as a different client would. */
function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    const req = request(url, { localAddress, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/metrics access', () => {
  it('METRICS_PORT: served only on the second listener, with METRICS_TOKEN as a bearer token', async () => {
    const { service, baseUrl, logs } = await start({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
    expect(service.metricsPort).toBeGreaterThan(0);
    const metricsUrl = `http://127.0.0.1:${service.metricsPort}`;
    expect((await fetch(`${baseUrl}/metrics`, { headers: bearer(TOKEN) })).status).toBe(404);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${metricsUrl}/metrics`, { headers: bearer('wrong') })).status).toBe(401);
    expect((await fetch(`${metricsUrl}/metrics`, { headers: bearer(`${TOKEN}x`) })).status).toBe(401);
    const ok = await fetch(`${metricsUrl}/metrics`, { headers: bearer(TOKEN) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('hfbot_jobs_total');
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/admin/queues`)).status).toBe(404);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('METRICS_TOKEN alone: /metrics stays on PORT, behind the token', async () => {
    const { service, baseUrl } = await start({ METRICS_TOKEN: TOKEN });
    expect(service.metricsPort).toBeUndefined();
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${baseUrl}/metrics`, { headers: bearer(TOKEN) })).status).toBe(200);
  });

  it('neither: open on PORT, as before', async () => {
    const { service, baseUrl } = await start({});
    expect(service.metricsPort).toBeUndefined();
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(200);
  });
});

describe('the dashboard after failed logins', () => {
  it('answers 429 with Retry-After to an address that keeps guessing, even with the right password; others go on', async () => {
    const { baseUrl } = await start({ ADMIN_PASSWORD });
    const dashboard = `${baseUrl}/admin/queues`;
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` });

    // Asking without credentials (a browser's first request) is not a failure.
    for (let i = 0; i < 8; i++) expect((await getFrom('127.0.0.2', dashboard)).status).toBe(401);
    for (let i = 0; i < 6; i++) expect((await getFrom('127.0.0.2', dashboard, basic(`guess${i}`))).status).toBe(401);
    const blocked = await getFrom('127.0.0.2', dashboard, basic(ADMIN_PASSWORD));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    expect((await getFrom('127.0.0.3', dashboard, basic(ADMIN_PASSWORD))).status).toBe(200);
  });
});
