import { Agent, request, type Dispatcher } from 'undici';
import { headersOf, redirectError } from '../net/undici-response.ts';

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** undici's Node stream of a response body. */
export type NodeBody = Dispatcher.ResponseData['body'];

/** How long the rest of a body read to its end is waited for, and how much of it is read, before its connection is dropped instead. */
const RELEASE_WAIT_MS = 2_000;
const RELEASE_MAX_BYTES = 1024 * 1024;

/**
 * Node stream bodies behind the responses this transport made, for `takeNodeBody`. Weak, so a
 * response nobody reads takes its entry with it.
 */
const nodeBodies = new WeakMap<Response, NodeBody>();

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
      // The SDK hands a `Headers`: undici takes it as it is (an iterable of pairs), not copied.
      headers: init.headers instanceof Headers ? init.headers : Object.fromEntries(new Headers(init.headers).entries()),
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
export function takeNodeBody(response: Response): NodeBody | undefined {
  const body = nodeBodies.get(response);
  nodeBodies.delete(response);
  return body;
}

/**
 * Reads what is left of a body whose reader is done with it (the model's stream after `[DONE]`) and
 * drops it, so its keep-alive connection goes back to the pool. Servers often end the response (the
 * chunked encoding's last chunk) a moment after the last event; destroying a body that has not
 * ended closes its socket, and the next request pays a new connection (and, to the router, a TLS
 * handshake). A body that does not end in time, or sends more than a bound, loses its connection.
 */
export function releaseBody(body: NodeBody): void {
  body.dump({ limit: RELEASE_MAX_BYTES, signal: AbortSignal.timeout(RELEASE_WAIT_MS) }).catch(() => undefined);
}

/** Closes a body its reader gave up on (an error, a stop, a cancel), and its connection with it. */
export function dropBody(body: NodeBody, reason?: Error): void {
  // undici turns the destroy of an unfinished body into an error event: heard here, not by the process.
  body.on('error', () => undefined).destroy(reason);
}

/** A web stream over a Node stream that pulls nothing until it is read (high-water mark 0). */
function readWhenRead(body: NodeBody): ReadableStream<Uint8Array> {
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
        dropBody(body, reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
