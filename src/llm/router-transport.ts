import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Agent, request, type Dispatcher } from 'undici';
import { headersOf, redirectError } from '../net/undici-response.ts';

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The HF client's `fetch` (the openai SDK takes one): undici's `request` with the body handed
 * back as a web stream, which the HF client reads its server-sent events from. Node's global `fetch`
 * spends about 30% more CPU per streamed answer (bench/README.md). It covers what the SDK sends the
 * router, a JSON string body; anything else goes to the global `fetch`. Redirects are errors, as
 * the router answers where it is asked.
 */
export function routerTransport(dispatcher: Dispatcher = new Agent()): typeof fetch {
  return async (input, init = {}) => {
    const body = init.body ?? undefined;
    if (!(typeof input === 'string' || input instanceof URL) || (body !== undefined && typeof body !== 'string')) {
      return fetch(input, { ...init, redirect: 'error' });
    }
    const response = await request(input, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body,
      signal: init.signal ?? undefined,
      dispatcher,
    });
    // A body not handed on is drained (`dump`), never destroyed: destroying emits an error nobody hears.
    const refused = redirectError(response.statusCode, input);
    if (refused) {
      await response.body.dump();
      throw refused;
    }
    const headers = headersOf(response.headers);
    if (NULL_BODY.has(response.statusCode)) {
      await response.body.dump();
      return new Response(null, { status: response.statusCode, headers });
    }
    const stream = Readable.toWeb(response.body) as WebReadableStream<Uint8Array>;
    return new Response(stream as unknown as ReadableStream<Uint8Array>, { status: response.statusCode, headers });
  };
}
