/**
 * A loopback fake of the Hugging Face router, for driving the real `openai` SDK (and plain fetch)
 * in tests without the network.
 *
 * - `POST /v1/chat/completions`: OpenAI-compatible chat, streamed as SSE exactly the way TGI / the
 *   router write it (see /work/shared/PLATFORM-FACTS.md, "Hugging Face inference").
 * - `POST /hf-inference/models/<org>/<model>`: text classification, answering `[[{label,score}]]`.
 *
 * Each chat request consumes the next queued `ChatStep` (FIFO); with an empty queue the default
 * applies (an echo of the last user message). Streams are written token by token on timers, and
 * stop as soon as the client goes away or the fake is closed.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HfFakeOptions {
  /** Port to listen on (127.0.0.1). Default 0: any free port. */
  port?: number;
  /** Delay before each streamed token when a step gives none. Default 5 ms. */
  defaultTokenDelayMs?: number;
}

export type ChatStep =
  | {
      kind: 'stream';
      tokens?: string[];
      /** Split into word-ish tokens that keep their trailing whitespace. Ignored when `tokens` is set. */
      text?: string;
      tokenDelayMs?: number;
      /** Delay before the first token (time to first token); defaults to `tokenDelayMs`. */
      firstTokenDelayMs?: number;
      finishReason?: 'stop' | 'length';
      /** Write `data:{...}` without the space, as older TGI does. */
      noSpace?: boolean;
      /** Write a `: keep-alive` SSE comment before each token. */
      keepAlive?: boolean;
      /** Reasoning streamed before the answer, in the shape `reasoningShape` says. */
      reasoning?: string;
      /**
       * tags (default): `<think>…</think>` inside the content; close-tag: only `…</think>`, as models
       * whose template opens the block in the prompt write it (DeepSeek-R1); reasoning_content /
       * reasoning: deltas in that field, before the content.
       */
      reasoningShape?: ReasoningShape;
      /** Characters per reasoning chunk (tags included), small so tags are cut across chunks. Default 3. */
      reasoningChunkChars?: number;
    }
  | {
      kind: 'loading';
      shape?: 'legacy' | 'nested' | 'message' | 'detail' | 'text' | 'empty' | 'header';
      /** Seconds. Always present in the legacy body (default 20); in the nested body only when given. */
      estimatedTime?: number;
      /** Extra response headers (e.g. a Retry-After some deployments add). */
      headers?: Record<string, string>;
    }
  | {
      kind: 'status';
      status: number;
      /** JSON body. When neither `body` nor `text` is given: `{"error":"<status text>"}`. */
      body?: unknown;
      /** Raw text/plain body (wins over `body`); `''` for an empty body. */
      text?: string;
      headers?: Record<string, string>;
    }
  | {
      kind: 'midStreamError';
      tokens?: string[];
      text?: string;
      /**
       * tgi (default): `data: {"error":{"message":..,"http_status_code":500}}`;
       * legacy: `data:{"error":"Input validation error: ..","error_type":"validation"}` (every frame without the space).
       */
      error?: 'tgi' | 'legacy';
      tokenDelayMs?: number;
      /** Overrides the error message. */
      message?: string;
      /** tgi only: the `http_status_code` in the frame. Default 500. */
      httpStatusCode?: number;
    }
  | { kind: 'abort'; tokens?: string[]; text?: string; tokenDelayMs?: number }
  | { kind: 'hang' };

export type ReasoningShape = 'tags' | 'close-tag' | 'reasoning_content' | 'reasoning';

export type ClassifyLabel = { label: string; score: number };

export type ClassifyStep =
  | { kind: 'labels'; labels: ClassifyLabel[] }
  | { kind: 'loading'; estimatedTime?: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> };

export interface ChatRequestRecord {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream: boolean;
  /** `max_tokens`, or `max_completion_tokens` when only that is sent. */
  maxTokens?: number;
  authorization?: string;
  /** The parsed JSON body as sent. */
  body: unknown;
  receivedAt: number;
}

export interface ClassifyRequestRecord {
  model: string;
  inputs: unknown;
  authorization?: string;
}

export interface HfFake {
  /** `http://127.0.0.1:PORT/v1`: give it to `new OpenAI({ baseURL })`. */
  baseUrl: string;
  /** `http://127.0.0.1:PORT/hf-inference`: classification at `${inferenceUrl}/models/<org>/<model>`. */
  inferenceUrl: string;
  /** Every chat request received, including unauthorized ones (those consume no step). */
  chatRequests: ChatRequestRecord[];
  classifyRequests: ClassifyRequestRecord[];
  /** Streaming responses still being written (a client that disconnects or a close() ends them). */
  readonly activeStreams: number;
  enqueueChat(...steps: ChatStep[]): void;
  setDefaultChat(fn: (req: ChatRequestRecord) => ChatStep): void;
  enqueueClassify(...steps: ClassifyStep[]): void;
  /** Return the labels for one input; they are sent in the order given. */
  setDefaultClassify(fn: (text: string, model: string) => ClassifyLabel[]): void;
  waitForChatRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Clears queues and records and restores the default handlers. In-flight responses go on. */
  reset(): void;
  /** Ends every response (hanging ones too), destroys all sockets and stops listening. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Defaults

const NEGATIVE_WORDS = /\b(hate|hated|awful|angry|broken|terrible|worst|bad|useless|annoyed|annoying|furious|sucks?)\b/gi;
const POSITIVE_WORDS = /\b(love|loved|great|thanks|thank|awesome|excellent|amazing|perfect|nice|good|happy)\b/gi;

/** A crude stand-in for cardiffnlp/twitter-roberta-base-sentiment-latest, sorted by score desc. */
export function keywordSentiment(text: string): ClassifyLabel[] {
  const negative = text.match(NEGATIVE_WORDS)?.length ?? 0;
  const positive = text.match(POSITIVE_WORDS)?.length ?? 0;
  const raw = {
    negative: 0.05 + negative,
    neutral: negative === 0 && positive === 0 ? 0.9 : 0.3,
    positive: 0.05 + positive,
  };
  const total = raw.negative + raw.neutral + raw.positive;
  return Object.entries(raw)
    .map(([label, value]) => ({ label, score: Math.round((value / total) * 10_000) / 10_000 }))
    .sort((a, b) => b.score - a.score);
}

/** Text of the last user message; array content keeps its `text` parts. */
function lastUserText(messages: ChatRequestRecord['messages']): string {
  const last = messages.findLast((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .map((part: unknown) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}

function echoStep(req: ChatRequestRecord): ChatStep {
  return { kind: 'stream', text: `Echo: ${lastUserText(req.messages)}` };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Word-ish tokens with whitespace kept attached: "a b  c" → ["a ", "b  ", "c"]. */
export function splitTokens(text: string): string[] {
  return text.split(/(?<=\s)(?=\S)/).filter((t) => t.length > 0);
}

function tokensOf(step: { tokens?: string[]; text?: string }, fallback: string[] = []): string[] {
  if (step.tokens) return step.tokens;
  if (step.text !== undefined) return splitTokens(step.text);
  return fallback;
}

/** `text` in pieces of `size` characters. */
function chunkText(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
  return chunks;
}

type StreamStep = Extract<ChatStep, { kind: 'stream' }>;

/** The deltas of a stream step: its reasoning (in its shape), then its answer tokens. */
function streamDeltas(step: StreamStep, tokens: string[]): Array<Record<string, string>> {
  const answer = tokens.map((content) => ({ role: 'assistant', content }));
  if (step.reasoning === undefined) return answer;
  const size = Math.max(1, step.reasoningChunkChars ?? 3);
  const shape = step.reasoningShape ?? 'tags';
  switch (shape) {
    case 'tags':
    case 'close-tag': {
      const block = `${shape === 'tags' ? '<think>' : ''}${step.reasoning}\n</think>\n\n`;
      return [...chunkText(block, size).map((content) => ({ role: 'assistant', content })), ...answer];
    }
    case 'reasoning_content':
    case 'reasoning':
      return [...chunkText(step.reasoning, size).map((text) => ({ role: 'assistant', [shape]: text })), ...answer];
  }
}

/** Everything a stream step generates, reasoning and tags included, as the token count sees it. */
function generatedText(deltas: Array<Record<string, string>>): string {
  return deltas.map((delta) => Object.entries(delta).filter(([key]) => key !== 'role').map(([, text]) => text).join('')).join('');
}

/** Roughly 4 characters a token, never 0 for non-empty text. */
function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'text/plain; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function loadingMessage(model: string): string {
  return `Model ${model} is currently loading`;
}

/** The 503 a loading model answers, in each of the body shapes seen in the wild. */
function sendLoading(res: ServerResponse, model: string, step: Extract<ChatStep, { kind: 'loading' }>): void {
  const message = loadingMessage(model);
  const headers = step.headers ?? {};
  switch (step.shape ?? 'legacy') {
    case 'legacy':
      return sendJson(res, 503, { error: message, estimated_time: step.estimatedTime ?? 20.0 }, headers);
    case 'nested':
      return sendJson(
        res,
        503,
        { error: { message, ...(step.estimatedTime === undefined ? {} : { estimated_time: step.estimatedTime }) } },
        headers,
      );
    case 'message':
      return sendJson(res, 503, { message }, headers);
    case 'detail':
      return sendJson(res, 503, { detail: message }, headers);
    case 'text':
      return sendText(res, 503, message, headers);
    case 'empty':
      return sendText(res, 503, '', headers);
    case 'header':
      return sendText(res, 503, '', { 'X-Error-Message': message, ...headers });
  }
}

function sendStatus(res: ServerResponse, step: { status: number; body?: unknown; text?: string; headers?: Record<string, string> }): void {
  if (step.text !== undefined) return sendText(res, step.status, step.text, step.headers);
  const body = step.body === undefined ? { error: STATUS_CODES[step.status] ?? 'Error' } : step.body;
  sendJson(res, step.status, body, step.headers);
}

/** Delta frames, final frame, usage and [DONE] for one streamed completion. */
class ChunkWriter {
  readonly id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  readonly created = Math.floor(Date.now() / 1000);
  readonly res: ServerResponse;
  readonly model: string;
  readonly noSpace: boolean;

  constructor(res: ServerResponse, model: string, noSpace: boolean) {
    this.res = res;
    this.model = model;
    this.noSpace = noSpace;
  }

  get writable(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  frame(payload: unknown): void {
    if (!this.writable) return;
    const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
    this.res.write(`data:${this.noSpace ? '' : ' '}${data}\n\n`);
  }

  comment(text: string): void {
    if (this.writable) this.res.write(`: ${text}\n\n`);
  }

  chunk(delta: Record<string, string>, finishReason: string | null): void {
    this.frame({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
      usage: null,
    });
  }

  usage(promptTokens: number, completionTokens: number, reasoningTokens?: number): void {
    this.frame({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        ...(reasoningTokens === undefined ? {} : { completion_tokens_details: { reasoning_tokens: reasoningTokens } }),
      },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Server

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
   * nothing more is written. `res` 'close' also fires after a normal end, which is harmless.
   */
  function responseSignal(res: ServerResponse): AbortSignal {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    return AbortSignal.any([gone.signal, closing.signal]);
  }

  /** Waits `ms`; false when the response was cancelled meanwhile. */
  async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (ms <= 0) return true;
    try {
      await sleep(ms, undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }

  function startSse(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
  }

  /**
   * Writes tokens one by one on timers. Returns false when cancelled before all were written.
   * `beforeEach` runs before each token's delay (keep-alive comments).
   */
  async function writeTokens(
    writer: ChunkWriter,
    tokens: string[],
    delays: { first: number; rest: number },
    signal: AbortSignal,
    beforeEach?: () => void,
  ): Promise<boolean> {
    return writeDeltas(writer, tokens.map((content) => ({ role: 'assistant', content })), delays, signal, beforeEach);
  }

  /** Like writeTokens, with any delta fields (reasoning ones too). */
  async function writeDeltas(
    writer: ChunkWriter,
    deltas: Array<Record<string, string>>,
    delays: { first: number; rest: number },
    signal: AbortSignal,
    beforeEach?: () => void,
  ): Promise<boolean> {
    for (const [i, delta] of deltas.entries()) {
      beforeEach?.();
      if (!(await wait(i === 0 ? delays.first : delays.rest, signal))) return false;
      if (!writer.writable) return false;
      writer.chunk(delta, null);
    }
    return writer.writable;
  }

  /** The request's JSON body, or undefined when it is not JSON. */
  async function readJson(req: IncomingMessage): Promise<unknown> {
    try {
      return JSON.parse(await readBody(req)) as unknown;
    } catch {
      return undefined;
    }
  }

  async function handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (body === undefined) return sendJson(res, 400, { error: 'Failed to deserialize the JSON body into the target type' });
    const b = isRecord(body) ? body : {};
    const messages = Array.isArray(b.messages)
      ? b.messages.map((m: unknown) => ({
          role: isRecord(m) && typeof m.role === 'string' ? m.role : '',
          content: isRecord(m) ? m.content : undefined,
        }))
      : [];
    const maxTokens =
      typeof b.max_tokens === 'number' ? b.max_tokens : typeof b.max_completion_tokens === 'number' ? b.max_completion_tokens : undefined;
    const record: ChatRequestRecord = {
      model: typeof b.model === 'string' ? b.model : '',
      messages,
      stream: b.stream === true,
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
      body,
      receivedAt: Date.now(),
    };
    chatRequests.push(record);
    notifyWaiters();

    if (!/^Bearer\s+\S/i.test(record.authorization ?? '')) {
      return sendJson(res, 401, { error: 'Invalid username or password.' });
    }

    const step = chatQueue.shift() ?? defaultChat(record);
    const includeUsage = isRecord(b.stream_options) && b.stream_options.include_usage === true;
    const promptTokens = countTokens(messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n'));
    const signal = responseSignal(res);

    switch (step.kind) {
      case 'loading':
        return sendLoading(res, record.model, step);
      case 'status':
        return sendStatus(res, step);
      case 'hang':
        // Headers for a stream (the SDK's create() resolves), then silence until the client or close() ends it.
        if (record.stream) startSse(res);
        return;
      case 'stream': {
        const tokens = tokensOf(step);
        const deltas = streamDeltas(step, tokens);
        const reasoningTokens = step.reasoning === undefined ? undefined : countTokens(step.reasoning);
        const finishReason = step.finishReason ?? 'stop';
        const tokenDelay = step.tokenDelayMs ?? defaultTokenDelayMs;
        const firstDelay = step.firstTokenDelayMs ?? tokenDelay;
        if (!record.stream) {
          // Non-streaming: same latency overall, one chat.completion object.
          if (!(await wait(firstDelay + tokenDelay * Math.max(0, deltas.length - 1), signal))) return;
          const reasoningField = step.reasoningShape === 'reasoning_content' || step.reasoningShape === 'reasoning' ? step.reasoningShape : undefined;
          const content = reasoningField ? tokens.join('') : deltas.map((delta) => delta.content ?? '').join('');
          const completionTokens = countTokens(generatedText(deltas));
          return sendJson(res, 200, {
            id: `chatcmpl-${randomBytes(12).toString('hex')}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: record.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content, ...(reasoningField ? { [reasoningField]: step.reasoning } : {}) },
                logprobs: null,
                finish_reason: finishReason,
              },
            ],
            usage: {
              prompt_tokens: promptTokens,
              completion_tokens: completionTokens,
              total_tokens: promptTokens + completionTokens,
              ...(reasoningTokens === undefined ? {} : { completion_tokens_details: { reasoning_tokens: reasoningTokens } }),
            },
          });
        }
        startSse(res);
        activeStreams++;
        try {
          const writer = new ChunkWriter(res, record.model, step.noSpace === true);
          const keepAlive = step.keepAlive ? () => writer.comment('keep-alive') : undefined;
          if (!(await writeDeltas(writer, deltas, { first: firstDelay, rest: tokenDelay }, signal, keepAlive))) return;
          writer.chunk({}, finishReason);
          if (includeUsage) writer.usage(promptTokens, countTokens(generatedText(deltas)), reasoningTokens);
          writer.frame('[DONE]');
          res.end();
        } finally {
          activeStreams--;
        }
        return;
      }
      case 'midStreamError': {
        const legacy = step.error === 'legacy';
        const message =
          step.message ??
          (legacy
            ? 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 512 `max_new_tokens`'
            : 'Request failed during generation: Server error: CUDA out of memory');
        const errorPayload = legacy
          ? { error: message, error_type: 'validation' }
          : { error: { message, http_status_code: step.httpStatusCode ?? 500 } };
        if (!record.stream) {
          // Without a stream the same failure comes back as an HTTP error.
          return sendJson(res, legacy ? 422 : (step.httpStatusCode ?? 500), errorPayload);
        }
        startSse(res);
        activeStreams++;
        try {
          const writer = new ChunkWriter(res, record.model, legacy);
          const delay = step.tokenDelayMs ?? defaultTokenDelayMs;
          if (!(await writeTokens(writer, tokensOf(step, ['Partial ', 'answer ']), { first: delay, rest: delay }, signal))) return;
          // The error frame ends the stream: no finish chunk, no [DONE].
          writer.frame(errorPayload);
          res.end();
        } finally {
          activeStreams--;
        }
        return;
      }
      case 'abort': {
        if (!record.stream) {
          res.socket?.destroy();
          return;
        }
        startSse(res);
        activeStreams++;
        try {
          const writer = new ChunkWriter(res, record.model, false);
          const delay = step.tokenDelayMs ?? defaultTokenDelayMs;
          if (!(await writeTokens(writer, tokensOf(step, ['Partial ', 'answer ']), { first: delay, rest: delay }, signal))) return;
          // Let the last token reach the client before the connection drops.
          await wait(defaultTokenDelayMs, signal);
          res.socket?.destroy();
        } finally {
          activeStreams--;
        }
        return;
      }
    }
  }

  async function handleClassify(req: IncomingMessage, res: ServerResponse, model: string): Promise<void> {
    const body = await readJson(req);
    if (body === undefined) return sendJson(res, 400, { error: 'Failed to deserialize the JSON body into the target type' });
    const inputs = isRecord(body) ? body.inputs : undefined;
    classifyRequests.push({
      model,
      inputs,
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
    });
    if (!/^Bearer\s+\S/i.test(req.headers.authorization ?? '')) {
      return sendJson(res, 401, { error: 'Invalid username or password.' });
    }
    const texts = typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) ? inputs.map(String) : undefined;
    if (!texts) {
      return sendJson(res, 400, { error: 'Input should be a valid string' });
    }
    const step = classifyQueue.shift();
    if (step?.kind === 'loading') {
      return sendJson(res, 503, { error: loadingMessage(model), estimated_time: step.estimatedTime ?? 20.0 });
    }
    if (step?.kind === 'status') return sendStatus(res, step);
    // One label list per input, always nested: a single string input gives [[...]].
    const result = texts.map((text) => (step?.kind === 'labels' ? step.labels : defaultClassify(text, model)));
    sendJson(res, 200, result);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    let handling: Promise<void>;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      handling = handleChat(req, res);
    } else if (req.method === 'POST' && path.startsWith('/hf-inference/models/') && path.length > '/hf-inference/models/'.length) {
      handling = handleClassify(req, res, decodeURIComponent(path.slice('/hf-inference/models/'.length)));
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
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
