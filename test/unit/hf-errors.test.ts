import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { ClassifiedError } from '../../src/errors/classified-error.ts';
import { createHfChatModel } from '../../src/llm/hf-chat.ts';
import { classifyHfError, classifyHfStatus, parseHfErrorBody, retryAfterMsFromHeaders } from '../../src/llm/hf-errors.ts';

describe('parseHfErrorBody', () => {
  it.each([
    ['legacy', '{"error":"Model X is currently loading","estimated_time":20.5}', 'Model X is currently loading', 20.5],
    ['nested', '{"error":{"message":"Model X is currently loading"}}', 'Model X is currently loading', undefined],
    ['message', '{"message":"Model is loading"}', 'Model is loading', undefined],
    ['detail', '{"detail":"Service Unavailable"}', 'Service Unavailable', undefined],
    ['plain text', 'upstream loading\n', 'upstream loading', undefined],
  ])('reads the %s shape', (_shape, body, message, estimated) => {
    expect(parseHfErrorBody(body)).toMatchObject({ message, estimatedSeconds: estimated });
  });

  it('falls back to the X-Error-Message header for an empty body', () => {
    const headers = new Headers({ 'x-error-message': 'Model too busy' });
    expect(parseHfErrorBody('', headers).message).toBe('Model too busy');
  });

  it('reads the status inside a TGI stream error', () => {
    expect(parseHfErrorBody({ error: { message: 'boom', http_status_code: 422 } }).statusInBody).toBe(422);
  });
});

describe('classifyHfStatus', () => {
  const body = (message: string, estimatedSeconds?: number) => ({ message, estimatedSeconds, statusInBody: undefined });

  it('treats 503 as a cold start with the estimate, but an overloaded 503 as a rate limit', () => {
    expect(classifyHfStatus(503, body('loading', 12))).toMatchObject({ kind: 'loading', estimatedMs: 12_000 });
    expect(classifyHfStatus(503, body(''))).toMatchObject({ kind: 'loading', estimatedMs: undefined });
    expect(classifyHfStatus(503, body('Model is overloaded'))).toMatchObject({ kind: 'rate_limited' });
  });

  it('reads Retry-After on 429', () => {
    const headers = new Headers({ 'retry-after': '7' });
    expect(classifyHfStatus(429, body('Model is overloaded'), headers)).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
  });

  it.each([401, 403, 402, 404, 422])('stops at once on %i', (status) => {
    expect(classifyHfStatus(status, body('nope')).kind).toBe('fatal');
  });

  it.each([400, 413, 422])('tells users a fixed explanation and the status for %i, never the body', (status) => {
    const echoed = body('Bad request. Headers: Authorization: Bearer hf_EchoedSecret12345678');
    const failure = classifyHfStatus(status, echoed);
    expect(failure).toEqual({
      kind: 'fatal',
      userMessage: `The model rejected the request. An admin can find the reason in the bot’s logs. (HTTP ${status})`,
      detail: `HTTP ${status}: ${echoed.message}`,
    });
  });

  it('recognises context-too-long in any status', () => {
    const failure = classifyHfStatus(500, body('Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192'));
    expect(failure).toMatchObject({ kind: 'fatal' });
  });

  it('retries 5xx', () => {
    expect(classifyHfStatus(500, body('oops')).kind).toBe('transient');
    expect(classifyHfStatus(502, body('')).kind).toBe('transient');
  });
});

describe('classifyHfError', () => {
  it('keeps the cold-start estimate from the raw body the SDK drops', () => {
    const err = APIError.generate(503, { error: 'Model X is currently loading' }, undefined, new Headers());
    const classified = classifyHfError(err, '{"error":"Model X is currently loading","estimated_time":33}');
    expect(classified.failure).toMatchObject({ kind: 'loading', estimatedMs: 33_000 });
  });

  it('classifies an error frame inside a stream by its body', () => {
    const tgi = new APIError(undefined, { message: 'CUDA OOM', http_status_code: 500 }, 'CUDA OOM', undefined);
    expect(classifyHfError(tgi).failure.kind).toBe('transient');
    const validation = new APIError(undefined, 'Input validation error: bad', 'bad', undefined);
    expect(classifyHfError(validation).failure.kind).toBe('fatal');
  });

  it('treats unknown errors as transient', () => {
    expect(classifyHfError(new Error('socket hang up')).failure.kind).toBe('transient');
  });
});

describe('retryAfterMsFromHeaders', () => {
  it('reads seconds, dates, retry-after-ms and the IETF ratelimit header', () => {
    expect(retryAfterMsFromHeaders(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMsFromHeaders(new Headers({ 'retry-after-ms': '150' }))).toBe(150);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMsFromHeaders(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }), now)).toBe(10_000);
    expect(retryAfterMsFromHeaders(new Headers({ ratelimit: '"api";r=0;t=55' }))).toBe(55_000);
    expect(retryAfterMsFromHeaders(new Headers())).toBeUndefined();
  });
});

describe('the HF client', () => {
  async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('does not follow a redirect: the request fails where HF_BASE_URL points', async () => {
    let followed = 0;
    const target = await listen((_req, res) => {
      followed += 1;
      res.end();
    });
    const redirecting = await listen((req, res) => {
      res.writeHead(307, { location: `${target.url}${req.url ?? '/'}` });
      res.end();
    });
    try {
      const model = createHfChatModel({ baseUrl: `${redirecting.url}/v1`, token: 'hf_test', model: 'm', maxTokens: 10, timeoutMs: 5_000, streamIdleTimeoutMs: 5_000 });
      const consume = async () => {
        for await (const part of model.stream([{ role: 'user', content: 'hi' }])) void part;
      };
      const error: unknown = await consume().then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(ClassifiedError);
      expect((error as ClassifiedError).failure.kind).toBe('transient');
      expect(followed).toBe(0);
    } finally {
      redirecting.server.close();
      target.server.close();
    }
  });
});
