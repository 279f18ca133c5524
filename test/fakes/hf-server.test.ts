import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { startHfFake, splitTokens, type ChatStep, type HfFake } from '../../fakes/hf/server.ts';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

let fake: HfFake;
let client: OpenAI;

beforeAll(async () => {
  fake = await startHfFake({ defaultTokenDelayMs: 2 });
  client = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'hf_test', maxRetries: 0 });
});

afterEach(() => fake.reset());

afterAll(async () => {
  await fake.close();
});

function streamChat(content = 'hello there', extra: Partial<OpenAI.ChatCompletionCreateParamsStreaming> = {}) {
  return client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content }],
    stream: true,
    ...extra,
  });
}

/** Iterates a stream, keeping what arrived before it failed. */
async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<{ chunks: ChatCompletionChunk[]; text: string; error: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  let error: unknown;
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (err) {
    error = err;
  }
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  return { chunks, text, error };
}

/** Runs `fn`, expecting it to throw, and returns what it threw. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('chat streaming through the openai SDK', () => {
  it('streams the default echo of the last user message', async () => {
    const { text, error, chunks } = await drain(await streamChat('hello there'));
    expect(error).toBeUndefined();
    expect(text).toBe('Echo: hello there');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices[0]?.delta).toEqual({});
  });

  it('sends each token as its own chunk, then a finish chunk', async () => {
    fake.enqueueChat({ kind: 'stream', tokens: ['Deep', ' learning', ' rocks'] });
    const { chunks, text } = await drain(await streamChat());
    expect(chunks.map((c) => c.choices[0]?.delta?.content)).toEqual(['Deep', ' learning', ' rocks', undefined]);
    expect(text).toBe('Deep learning rocks');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]?.object).toBe('chat.completion.chunk');
    expect(chunks[0]?.model).toBe(MODEL);
  });

  it('splits `text` into word-ish tokens that keep their whitespace', async () => {
    expect(splitTokens('one two  three\nfour')).toEqual(['one ', 'two  ', 'three\n', 'four']);
    fake.enqueueChat({ kind: 'stream', text: 'one two three', finishReason: 'length' });
    const { chunks } = await drain(await streamChat());
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? null)).toEqual(['one ', 'two ', 'three', null]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('paces tokens on timers', async () => {
    fake.enqueueChat({ kind: 'stream', tokens: ['a', 'b', 'c'], firstTokenDelayMs: 80, tokenDelayMs: 40 });
    const started = Date.now();
    const stream = await streamChat();
    const arrivals: number[] = [];
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) arrivals.push(Date.now() - started);
    }
    expect(arrivals).toHaveLength(3);
    expect(arrivals[0]).toBeGreaterThanOrEqual(70);
    expect((arrivals[2] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(70);
  });

  it('sends a usage chunk with no choices when include_usage is asked for', async () => {
    fake.enqueueChat({ kind: 'stream', tokens: ['Hi'] });
    const { chunks } = await drain(await streamChat('hello', { stream_options: { include_usage: true } }));
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('parses noSpace (older TGI) frames and keep-alive comments', async () => {
    fake.enqueueChat(
      { kind: 'stream', tokens: ['no', 'space'], noSpace: true },
      { kind: 'stream', tokens: ['kept', 'alive'], keepAlive: true },
    );
    expect((await drain(await streamChat())).text).toBe('nospace');
    expect((await drain(await streamChat())).text).toBe('keptalive');
  });

  it('answers a non-streaming request with one chat.completion', async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'plain' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Echo: plain');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(fake.chatRequests[0]?.stream).toBe(false);
  });
});

describe('wire format', () => {
  it('writes SSE frames exactly as the router does', async () => {
    fake.enqueueChat({ kind: 'stream', tokens: ['Deep', '!'] });
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer hf_test' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const raw = await res.text();
    const frames = raw.split('\n\n').filter(Boolean);
    expect(frames).toHaveLength(4);
    expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    const first = JSON.parse(frames[0]!.slice('data: '.length)) as Record<string, unknown>;
    expect(first).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion.chunk',
      created: expect.any(Number),
      model: MODEL,
      choices: [{ index: 0, delta: { role: 'assistant', content: 'Deep' }, finish_reason: null }],
      usage: null,
    });
    const final = JSON.parse(frames[2]!.slice('data: '.length)) as { choices: unknown[] };
    expect(final.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  });

  it('writes data: without the space and comment lines on request', async () => {
    fake.enqueueChat({ kind: 'stream', tokens: ['a'], noSpace: true, keepAlive: true });
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: 'Bearer hf_test' },
      body: JSON.stringify({ model: MODEL, messages: [], stream: true }),
    });
    const raw = await res.text();
    expect(raw).toMatch(/^: keep-alive\n\ndata:\{/);
    expect(raw).not.toContain('data: ');
    expect(raw.endsWith('data:[DONE]\n\n')).toBe(true);
  });

  it('rejects a request without a bearer token with 401', async () => {
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: [], stream: true }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Invalid username or password.' });
  });
});

describe('errors before the stream', () => {
  // Captures each error response's raw body: the SDK keeps only the body's `error` field.
  const rawBodies: string[] = [];
  const bodyKeepingClient = () =>
    new OpenAI({
      baseURL: fake.baseUrl,
      apiKey: 'hf_test',
      maxRetries: 0,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (!res.ok) rawBodies.push(await res.clone().text());
        return res;
      },
    });

  const loadingMessage = `Model ${MODEL} is currently loading`;
  const shapes: Array<{ shape: Extract<ChatStep, { kind: 'loading' }>['shape']; check: (err: InstanceType<typeof OpenAI.APIError>) => void }> = [
    { shape: 'legacy', check: (err) => expect(err.error).toBe(loadingMessage) },
    { shape: 'nested', check: (err) => expect(err.error).toEqual({ message: loadingMessage }) },
    // The SDK wraps a body with no `error` key: err.error is the whole body.
    { shape: 'message', check: (err) => expect(err.error).toEqual({ message: loadingMessage }) },
    { shape: 'detail', check: (err) => expect(err.error).toEqual({ detail: loadingMessage }) },
    { shape: 'text', check: (err) => expect(err.message).toBe(`503 ${loadingMessage}`) },
    { shape: 'empty', check: (err) => expect(err.message).toBe('503 status code (no body)') },
    { shape: 'header', check: (err) => expect(err.headers?.get('x-error-message')).toBe(loadingMessage) },
  ];

  for (const { shape, check } of shapes) {
    it(`loading (${shape}) throws a 503 APIError from create()`, async () => {
      fake.enqueueChat({ kind: 'loading', shape });
      const err = await thrown(() => streamChat());
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      if (!(err instanceof OpenAI.APIError)) throw err;
      expect(err.status).toBe(503);
      check(err);
    });
  }

  it('legacy loading: estimated_time is in the raw body, not on the SDK error', async () => {
    rawBodies.length = 0;
    fake.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 7.5 });
    const err = await thrown(() =>
      bodyKeepingClient().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true }),
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(JSON.stringify(err)).not.toContain('estimated_time');
    expect(rawBodies.map((b) => JSON.parse(b) as unknown)).toEqual([{ error: loadingMessage, estimated_time: 7.5 }]);
  });

  it('429 carries Retry-After and ratelimit headers', async () => {
    fake.enqueueChat({
      kind: 'status',
      status: 429,
      body: { error: 'Model is overloaded', error_type: 'overloaded' },
      headers: { 'Retry-After': '7', ratelimit: '"api";r=0;t=55' },
    });
    const err = await thrown(() => streamChat());
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(err instanceof OpenAI.APIError)) throw err;
    expect(err.headers?.get('retry-after')).toBe('7');
    expect(err.headers?.get('ratelimit')).toBe('"api";r=0;t=55');
    expect(err.error).toBe('Model is overloaded');
  });

  it('any status with a text body', async () => {
    fake.enqueueChat({ kind: 'status', status: 500, text: 'upstream exploded' }, { kind: 'status', status: 404 });
    const first = await thrown(() => streamChat());
    expect(first).toBeInstanceOf(OpenAI.InternalServerError);
    expect((first as Error).message).toBe('500 upstream exploded');
    const second = await thrown(() => streamChat());
    expect(second).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('failures inside the stream', () => {
  it('midStreamError (tgi) throws during iteration after the first tokens', async () => {
    fake.enqueueChat({ kind: 'midStreamError', tokens: ['Hello ', 'wor'], httpStatusCode: 422, message: 'too long' });
    const { text, error } = await drain(await streamChat());
    expect(text).toBe('Hello wor');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    if (!(error instanceof OpenAI.APIError)) throw error;
    expect(error.status).toBeUndefined();
    expect(error.error).toEqual({ message: 'too long', http_status_code: 422 });
  });

  it('midStreamError (legacy) throws with the string error', async () => {
    fake.enqueueChat({ kind: 'midStreamError', error: 'legacy', text: 'Some text' });
    const { text, error } = await drain(await streamChat());
    expect(text).toBe('Some text');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    if (!(error instanceof OpenAI.APIError)) throw error;
    expect(error.error).toMatch(/^Input validation error: /);
  });

  it('abort throws during iteration after the first tokens', async () => {
    fake.enqueueChat({ kind: 'abort', tokens: ['Half ', 'an '] });
    const { text, error } = await drain(await streamChat());
    expect(text).toBe('Half an ');
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(OpenAI.APIError);
  });

  it('stops writing (and clears its timer) as soon as the client goes away', async () => {
    // A long gap between tokens: only a cleared timer ends the stream within the deadline.
    fake.enqueueChat({ kind: 'stream', tokens: ['first ', 'second'], firstTokenDelayMs: 0, tokenDelayMs: 5_000 });
    const stream = await streamChat();
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) break; // breaking aborts the request
    }
    expect(fake.activeStreams).toBe(1);
    const deadline = Date.now() + 500;
    while (fake.activeStreams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(fake.activeStreams).toBe(0);
  });
});

describe('records, queue and defaults', () => {
  it('records model, messages, flags and authorization', async () => {
    await drain(
      await client.chat.completions.create({
        model: `${MODEL}:novita`,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
        stream: true,
        max_tokens: 64,
      }),
    );
    expect(fake.chatRequests).toHaveLength(1);
    expect(fake.chatRequests[0]).toMatchObject({
      model: `${MODEL}:novita`,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      stream: true,
      maxTokens: 64,
      authorization: 'Bearer hf_test',
    });
  });

  it('uses the queue first, then the default, and reset() restores the defaults', async () => {
    fake.setDefaultChat((req) => ({ kind: 'stream', text: `custom ${req.messages.length}` }));
    fake.enqueueChat({ kind: 'stream', tokens: ['queued'] });
    expect((await drain(await streamChat())).text).toBe('queued');
    expect((await drain(await streamChat())).text).toBe('custom 1');
    fake.enqueueChat({ kind: 'loading' });
    fake.reset();
    expect(fake.chatRequests).toHaveLength(0);
    expect((await drain(await streamChat('again'))).text).toBe('Echo: again');
  });

  it('waitForChatRequests resolves on arrival and rejects on timeout', async () => {
    const waiting = fake.waitForChatRequests(2, 2_000);
    await drain(await streamChat());
    await drain(await streamChat());
    await expect(waiting).resolves.toBeUndefined();
    await expect(fake.waitForChatRequests(3, 50)).rejects.toThrow(/expected 3 chat requests/);
  });
});

describe('classification', () => {
  const classify = (model: string, inputs: unknown, token = 'hf_test') =>
    fetch(`${fake.inferenceUrl}/models/${model}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ inputs }),
    });
  const SENTIMENT = 'cardiffnlp/twitter-roberta-base-sentiment-latest';

  it('answers a nested array, sorted, from the keyword heuristic', async () => {
    const res = await classify(SENTIMENT, 'I hate this, it is broken');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Array<Array<{ label: string; score: number }>>;
    expect(body).toHaveLength(1);
    const labels = body[0] ?? [];
    expect(labels.map((l) => l.label)).toEqual(['negative', 'neutral', 'positive']);
    expect(labels.reduce((sum, l) => sum + l.score, 0)).toBeCloseTo(1, 3);

    const happy = (await (await classify(SENTIMENT, 'thanks, this is awesome')).json()) as typeof body;
    expect(happy[0]?.[0]?.label).toBe('positive');
    const plain = (await (await classify(SENTIMENT, 'the meeting is at noon')).json()) as typeof body;
    expect(plain[0]?.[0]?.label).toBe('neutral');

    expect(fake.classifyRequests[0]).toEqual({ model: SENTIMENT, inputs: 'I hate this, it is broken', authorization: 'Bearer hf_test' });
  });

  it('plays queued steps and a custom default', async () => {
    fake.enqueueClassify(
      { kind: 'labels', labels: [{ label: 'POSITIVE', score: 0.9998 }, { label: 'NEGATIVE', score: 0.0002 }] },
      { kind: 'loading', estimatedTime: 3 },
      { kind: 'status', status: 429, headers: { 'Retry-After': '2' } },
    );
    fake.setDefaultClassify((text, model) => [{ label: `${model}:${text}`, score: 1 }]);
    expect(await (await classify('distilbert/sst2', 'x')).json()).toEqual([
      [{ label: 'POSITIVE', score: 0.9998 }, { label: 'NEGATIVE', score: 0.0002 }],
    ]);
    const loading = await classify('distilbert/sst2', 'x');
    expect(loading.status).toBe(503);
    expect(await loading.json()).toEqual({ error: 'Model distilbert/sst2 is currently loading', estimated_time: 3 });
    const limited = await classify('distilbert/sst2', 'x');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await (await classify('m/n', 'y')).json()).toEqual([[{ label: 'm/n:y', score: 1 }]]);
  });

  it('requires a bearer token', async () => {
    const res = await classify(SENTIMENT, 'x', '');
    expect(res.status).toBe(401);
  });
});

describe('close()', () => {
  it('closes even with a hanging stream open, which then fails', async () => {
    const own = await startHfFake();
    const ownClient = new OpenAI({ baseURL: own.baseUrl, apiKey: 'hf_test', maxRetries: 0 });
    own.enqueueChat({ kind: 'hang' }, { kind: 'stream', text: 'slow '.repeat(100), tokenDelayMs: 50 });
    const hanging = await ownClient.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    const slow = await ownClient.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true });
    const hangingResult = drain(hanging);
    const slowResult = drain(slow);
    await new Promise((r) => setTimeout(r, 100));
    expect(own.activeStreams).toBe(1);

    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(own.activeStreams).toBe(0);
    const [h, s] = await Promise.all([hangingResult, slowResult]);
    expect(h.chunks).toHaveLength(0);
    expect(h.error).toBeInstanceOf(Error);
    expect(s.error).toBeInstanceOf(Error);
    await expect(fetch(`${own.baseUrl}/chat/completions`, { method: 'POST' })).rejects.toThrow();
  });
});
