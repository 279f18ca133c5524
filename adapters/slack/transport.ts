import type { FetchFunction } from '@slack/web-api';
import { Agent, request, type Dispatcher } from 'undici';

type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The Web API client's transport (its `fetch` option): undici's `request` instead of Node's global
 * `fetch`, which runs each call through WHATWG streams and spends about twice the CPU on it
 * (bench/README.md). It covers what WebClient sends to the Web API: a form-encoded string body,
 * redirects refused. A multipart upload (FormData) or a redirect to follow goes to the global
 * `fetch` unchanged. Responses are read whole (the Web API answers small JSON), so a response
 * WebClient leaves unread never holds its connection.
 */
export function webApiTransport(dispatcher: Dispatcher = new Agent()): FetchFunction {
  return async (url: string | URL, init: FetchRequestInit = {}): Promise<FetchResponse> => {
    if ((init.body !== undefined && typeof init.body !== 'string') || init.redirect !== 'error') return fetch(url, init);
    const response = await request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: init.headers,
      body: init.body,
      signal: init.signal,
      dispatcher,
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    // As fetch with `redirect: 'error'` does: a redirect is a network error, not a response.
    if (response.statusCode >= 300 && response.statusCode < 400) throw new TypeError(`unexpected redirect (HTTP ${response.statusCode}) from ${String(url)}`);
    return bufferedResponse(String(url), response.statusCode, response.headers, NULL_BODY.has(response.statusCode) ? Buffer.alloc(0) : bytes);
  };
}

function bufferedResponse(url: string, status: number, raw: Record<string, string | string[] | undefined>, bytes: Buffer): FetchResponse {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.append(name, value);
  }
  const text = async () => bytes.toString('utf8');
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    url,
    headers,
    text,
    json: async () => JSON.parse(await text()) as unknown,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}
