import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { headersOf, redirectError } from '../net/undici-response.ts';

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * Node stream bodies behind the responses this transport made, for `takeNodeBody`. Weak, so a
 * response nobody reads takes its entry with it.
 */
const nodeBodies = new WeakMap<Response, Readable>();

/**
 * The HF client's `fetch` (the openai SDK takes one): undici's `request`. Node's global `fetch`
 * spends about 30% more CPU per streamed answer (bench/README.md). It covers what the SDK sends the
 * router, a JSON string body; anything else goes to the global `fetch`. Redirects are errors, as
 * the router answers where it is asked.
 *
 * A response's body is a web stream that reads undici's Node stream only when read; the chat
 * client takes the Node stream itself (`takeNodeBody`) and reads its server-sent events from it,
 * which spares each chunk the trip through WHATWG streams.
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
    const answer = new Response(readWhenRead(response.body), { status: response.statusCode, headers });
    nodeBodies.set(answer, response.body);
    return answer;
  };
}

/**
 * The body of a response this transport made, as the Node stream undici gave it, for a reader
 * that would rather not go through WHATWG streams. Taken once: the response's own `body` must not
 * be read after.
 */
export function takeNodeBody(response: Response): Readable | undefined {
  const body = nodeBodies.get(response);
  nodeBodies.delete(response);
  return body;
}

/** A web stream over a Node stream that pulls nothing until it is read (high-water mark 0). */
function readWhenRead(body: Readable): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel(reason) {
        body.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
