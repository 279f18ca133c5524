import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApiTransport } from '../../adapters/slack/transport.ts';

/** A stand-in Web API whose answer each test sets; it keeps what it was sent. */
let server: Server;
let apiUrl: string;
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const received: Array<{ path: string; contentType: string | undefined; authorization: string | undefined; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], authorization: req.headers.authorization, body });
      answer(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const client = (options: { rejectRateLimitedCalls?: boolean; timeout?: number } = {}) =>
  new WebClient('xoxb-test', { slackApiUrl: apiUrl, fetch: webApiTransport(), retryConfig: { retries: 0 }, ...options });

describe('the Web API transport', () => {
  it('sends what WebClient serialized and hands back status, headers and body', async () => {
    answer = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-slack-req-id', 'abc');
      res.end(JSON.stringify({ ok: true, ts: '111.222', response_metadata: { warnings: ['superfluous_charset'] } }));
    };
    const result = await client().chat.update({ channel: 'C1', ts: '111.222', text: 'héllo & <world>' });
    expect(result).toMatchObject({ ok: true, ts: '111.222' });
    const sent = received.at(-1);
    expect(sent).toMatchObject({ path: '/api/chat.update', contentType: 'application/x-www-form-urlencoded', authorization: 'Bearer xoxb-test' });
    expect(new URLSearchParams(sent?.body).get('text')).toBe('héllo & <world>');
  });

  it('lets WebClient read a 429 and its Retry-After', async () => {
    answer = (_req, res) => {
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"ratelimited"}');
    };
    const error = await client({ rejectRateLimitedCalls: true }).chat.update({ channel: 'C1', ts: '1', text: 'x' }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it('passes a Slack error through as WebClient reports it', async () => {
    answer = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":false,"error":"message_not_found"}');
    };
    const error = await client().chat.update({ channel: 'C1', ts: '1', text: 'x' }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCode.PlatformError, data: { error: 'message_not_found' } });
  });

  it("hands WebClient an HTTP error's headers, a repeated one joined as fetch's Headers joins it", async () => {
    answer = (_req, res) => {
      res.writeHead(503, [
        ['x-slack-req-id', 'abc'],
        ['Via', 'proxy-1'],
        ['Via', 'proxy-2'],
      ]);
      res.end('unavailable');
    };
    const error = await client().chat.update({ channel: 'C1', ts: '1', text: 'x' }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503, headers: { 'x-slack-req-id': 'abc', via: 'proxy-1, proxy-2' }, body: 'unavailable' });
  });

  it('refuses a redirect, as fetch with redirect: error does', async () => {
    answer = (_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' });
      res.end();
    };
    const error = await client().chat.update({ channel: 'C1', ts: '1', text: 'x' }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCode.RequestError });
    expect(String((error as { original?: unknown }).original)).toMatch(/unexpected redirect \(HTTP 302\)/);
  });

  it('gives up at the client timeout', async () => {
    answer = () => undefined; // never answers
    const error = await client({ timeout: 100 }).chat.update({ channel: 'C1', ts: '1', text: 'x' }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCode.RequestError });
  });

  it('sends a multipart body (a file upload) through the global fetch', async () => {
    answer = (_req, res) => res.end('ok');
    const form = new FormData();
    form.append('file', new Blob(['contents']), 'notes.txt');
    const response = await webApiTransport()(`${apiUrl}upload`, { method: 'POST', body: form, redirect: 'error' });
    expect(response.status).toBe(200);
    expect(received.at(-1)?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(received.at(-1)?.body).toContain('contents');
  });
});
