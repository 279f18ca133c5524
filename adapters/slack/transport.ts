import type { FetchFunction } from '@slack/web-api';
import { Agent, request, type Dispatcher } from 'undici';
import { headerView, redirectError } from '../../src/net/undici-response.ts';

type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/**
 * The Web API client's transport (its `fetch` option): undici's `request` instead of Node's global
 * `fetch`, which runs each call through WHATWG streams and spends about twice the CPU on it
 * (bench/README.md). It covers what WebClient sends to the Web API: a form-encoded string body,
 * redirects refused. A multipart upload (FormData) or a redirect to follow goes to the global
 * `fetch` unchanged. Responses are read whole (the Web API answers small JSON), so a response
 * WebClient leaves unread never holds its connection. `maxConnections` caps the connections it
 * keeps open to the Web API (beyond, calls wait for one).
 */
export function webApiTransport(options: { maxConnections?: number } = {}): FetchFunction {
  const dispatcher: Dispatcher = new Agent(options.maxConnections ? { connections: options.maxConnections } : {});
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
    const refused = redirectError(response.statusCode, url);
    if (refused) throw refused;
    return bufferedResponse(String(url), response.statusCode, headerView(response.headers), bytes);
  };
}

function bufferedResponse(url: string, status: number, headers: FetchResponse['headers'], bytes: Buffer): FetchResponse {
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
