import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../adapters/slack/verify-signature.ts';
import { postSignedEvent, signSlackRequest } from '../../fakes/slack/signing.ts';

const SECRET = 'unit-signing-secret';
const LIMIT = 1024;

describe('verifySlackSignature', () => {
  let base = '';
  let server: ReturnType<express.Application['listen']>;
  beforeAll(async () => {
    const app = express();
    app.use('/slack/events', verifySlackSignature(SECRET, LIMIT));
    // What comes through is what Bolt would parse: the verified body, unchanged.
    app.post('/slack/events', (req, res) => {
      res.json({ rawBody: (req as typeof req & { rawBody?: Buffer }).rawBody?.toString() ?? null });
    });
    app.get('/slack/events', (_req, res) => {
      res.status(404).send();
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(() => {
    server.close();
  });

  it('passes a correctly signed request on with its exact body', async () => {
    const response = await postSignedEvent(base, SECRET, { type: 'event_callback', text: 'héllo' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ rawBody: JSON.stringify({ type: 'event_callback', text: 'héllo' }) });
  });

  it('refuses a forged, a stale and a wrongly keyed request with 401', async () => {
    const forged = await postSignedEvent(base, SECRET, { a: 1 }, { badSignature: true });
    const stale = await postSignedEvent(base, SECRET, { a: 1 }, { timestampSec: Math.floor(Date.now() / 1000) - 301 });
    const wrongSecret = await postSignedEvent(base, 'not-the-secret', { a: 1 });
    expect([forged.status, stale.status, wrongSecret.status]).toEqual([401, 401, 401]);
  });

  it('refuses missing, malformed or truncated signature headers with 401', async () => {
    const body = '{"a":1}';
    const good = signSlackRequest(SECRET, body);
    const post = (headers: Record<string, string>) => fetch(base, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const statuses = await Promise.all([
      post({}),
      post({ 'x-slack-signature': good['x-slack-signature'] }),
      post({ 'x-slack-request-timestamp': good['x-slack-request-timestamp'] }),
      post({ ...good, 'x-slack-request-timestamp': 'soon' }),
      post({ ...good, 'x-slack-signature': good['x-slack-signature'].replace('v0=', 'v1=') }),
      post({ ...good, 'x-slack-signature': good['x-slack-signature'].slice(0, -2) }),
      post({ ...good, 'x-slack-signature': `${good['x-slack-signature'].slice(0, -1)}z` }),
    ]).then((responses) => responses.map((response) => response.status));
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401]);
  });

  it('refuses a body over the limit with 413, signed or not', async () => {
    const huge = await postSignedEvent(base, SECRET, { text: 'x'.repeat(LIMIT) });
    expect(huge.status).toBe(413);
  });

  it('leaves other methods to the routes behind it', async () => {
    expect((await fetch(base)).status).toBe(404);
  });
});
