/**
 * A loopback fake of the Hugging Face router, for driving the real `openai` SDK (and plain fetch)
 * in tests without the network. Also the offline demo model (src/demo/demo-model.ts), so it and
 * everything it imports must run on production dependencies alone.
 *
 * - `POST /v1/chat/completions`: OpenAI-compatible chat, streamed as SSE exactly the way TGI / the
 *   router write it (see /work/shared/PLATFORM-FACTS.md, "Hugging Face inference"): chat.ts, sse.ts.
 * - `POST /hf-inference/models/<org>/<model>`: text classification, answering `[[{label,score}]]`:
 *   classify.ts.
 *
 * Each chat request consumes the next queued `ChatStep` (FIFO); with an empty queue the default
 * applies (an echo of the last user message). Streams are written token by token on timers, and
 * stop as soon as the client goes away or the fake is closed.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback, sendJson } from '../http.ts';
import { echoStep, handleChat, type ChatContext } from './chat.ts';
import { handleClassify, keywordSentiment, type ClassifyContext } from './classify.ts';
import type { ChatRequestRecord, ChatStep, ClassifyLabel, ClassifyRequestRecord, ClassifyStep, HfFake, HfFakeOptions } from './types.ts';

export { keywordSentiment } from './classify.ts';
export { splitTokens } from './sse.ts';
export type * from './types.ts';

export async function startHfFake(opts: HfFakeOptions = {}): Promise<HfFake> {
  const defaultTokenDelayMs = opts.defaultTokenDelayMs ?? 5;
  const chatQueue: ChatStep[] = [];
  const classifyQueue: ClassifyStep[] = [];
  const chatRequests: ChatRequestRecord[] = [];
  const classifyRequests: ClassifyRequestRecord[] = [];
  let defaultChat: (req: ChatRequestRecord) => ChatStep = echoStep;
  let defaultClassify: (text: string, model: string) => ClassifyLabel[] = keywordSentiment;
  let activeStreams = 0;

  // Aborted by close(): cancels every pending token timer and hanging response at once.
  const closing = new AbortController();
  const sockets = new Set<Socket>();
  const waiters = new Set<{ n: number; resolve: () => void; reject: (err: Error) => void }>();

  function notifyWaiters(): void {
    for (const waiter of waiters) {
      if (chatRequests.length >= waiter.n) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /**
   * A signal that fires when the client goes away (or the fake closes), so timers stop and
   * nothing more is written. A response that ended normally aborts nothing: each abort builds a
   * DOMException with its stack, 3% of the bench's fakes when every response ended with one.
   */
  function responseSignal(res: ServerResponse): AbortSignal {
    const gone = new AbortController();
    const onClosing = () => gone.abort(closing.signal.reason);
    closing.signal.addEventListener('abort', onClosing, { once: true });
    res.once('close', () => {
      closing.signal.removeEventListener('abort', onClosing);
      if (!res.writableFinished) gone.abort();
    });
    return gone.signal;
  }

  const chatContext: ChatContext = {
    record(request) {
      chatRequests.push(request);
      notifyWaiters();
    },
    nextStep: (request) => chatQueue.shift() ?? defaultChat(request),
    signalFor: responseSignal,
    async streaming(write) {
      activeStreams++;
      try {
        await write();
      } finally {
        activeStreams--;
      }
    },
    defaultTokenDelayMs,
  };
  const classifyContext: ClassifyContext = {
    record: (request) => classifyRequests.push(request),
    nextStep: () => classifyQueue.shift(),
    defaultClassify: (text, model) => defaultClassify(text, model),
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    let handling: Promise<void>;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      handling = handleChat(req, res, chatContext);
    } else if (req.method === 'POST' && path.startsWith('/hf-inference/models/') && path.length > '/hf-inference/models/'.length) {
      handling = handleClassify(req, res, decodeURIComponent(path.slice('/hf-inference/models/'.length)), classifyContext);
    } else {
      handling = Promise.resolve(sendJson(res, 404, { error: 'Not Found' }));
    }
    handling.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `hf fake: ${err instanceof Error ? err.message : String(err)}` });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const port = await listenOnLoopback(server, opts.port ?? 0);
  const origin = `http://127.0.0.1:${port}`;

  const fake: HfFake = {
    baseUrl: `${origin}/v1`,
    inferenceUrl: `${origin}/hf-inference`,
    chatRequests,
    classifyRequests,
    get activeStreams() {
      return activeStreams;
    },
    enqueueChat(...steps) {
      chatQueue.push(...steps);
    },
    setDefaultChat(fn) {
      defaultChat = fn;
    },
    enqueueClassify(...steps) {
      classifyQueue.push(...steps);
    },
    setDefaultClassify(fn) {
      defaultClassify = fn;
    },
    waitForChatRequests(n, timeoutMs = 2_000) {
      if (chatRequests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`hf fake: expected ${n} chat requests within ${timeoutMs} ms, got ${chatRequests.length}`));
        }, timeoutMs);
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        waiters.add(waiter);
      });
    },
    reset() {
      chatQueue.length = 0;
      classifyQueue.length = 0;
      // Emptied in place, so references the test holds stay live.
      chatRequests.length = 0;
      classifyRequests.length = 0;
      defaultChat = echoStep;
      defaultClassify = keywordSentiment;
    },
    async close() {
      closing.abort();
      for (const waiter of waiters) waiter.reject(new Error('hf fake closed'));
      waiters.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return fake;
}
