import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifiedError } from '../../src/errors/classified-error.ts';
import { completionChunkBatches } from '../../src/llm/completion-stream.ts';
import { createHfChatModel, type ChatPart } from '../../src/llm/hf-chat.ts';
import { routerTransport, takeNodeBody } from '../../src/llm/router-transport.ts';
import { startHfFake } from '../../fakes/hf/server.ts';
import type { HfFake } from '../../fakes/hf/types.ts';

const chunk = (content: string) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });

/** The text's bytes in pieces of `size`, cutting events, lines and multi-byte characters anywhere. */
async function* bytesOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function contentOf(text: string, size = 7): Promise<{ content: string; batches: number }> {
  let content = '';
  let batches = 0;
  for await (const chunks of completionChunkBatches(bytesOf(text, size))) {
    batches++;
    for (const c of chunks) content += c.choices[0]?.delta.content ?? '';
  }
  return { content, batches };
}

async function failureOf(text: string): Promise<unknown> {
  try {
    await contentOf(text);
  } catch (err) {
    return err;
  }
  throw new Error('the stream did not fail');
}

describe('completionChunkBatches', () => {
  it('reassembles events cut anywhere, multi-byte characters included, in every framing servers use', async () => {
    const parts = ['Grüße ', '😀 and ', 'naïve ', 'text'];
    const wire =
      `: keep-alive\n\ndata: ${chunk(parts[0]!)}\n\n` +
      `data:${chunk(parts[1]!)}\r\n\r\n` + // older TGI: no space; CRLF endings
      `event: message\ndata: ${chunk(parts[2]!)}\n\n` +
      `data: ${chunk(parts[3]!)}\n\ndata: [DONE]\n\n`;
    for (const size of [1, 2, 3, 5, 64, 10_000]) {
      const { content, batches } = await contentOf(wire, size);
      expect(content, `pieces of ${size} bytes`).toBe(parts.join(''));
      if (size === 10_000) expect(batches).toBe(1); // one read, one batch
    }
  });

  it('ignores what follows [DONE], and dispatches a last event the server did not end', async () => {
    expect((await contentOf(`data: ${chunk('a')}\n\ndata: [DONE]\n\ndata: ${chunk('b')}\n\n`)).content).toBe('a');
    expect((await contentOf(`data: ${chunk('a')}\n\ndata: ${chunk('b')}`)).content).toBe('ab');
  });

  it('fails on an error frame (TGI and older TGI shapes) and on an error event, classified by its body', async () => {
    const tgi = await failureOf(`data: ${chunk('a')}\n\ndata: {"error":{"message":"Input is too long","http_status_code":422}}\n\n`);
    expect(tgi).toBeInstanceOf(ClassifiedError);
    expect((tgi as ClassifiedError).failure.kind).toBe('fatal');
    const legacy = await failureOf('data:{"error":"Input validation error: bad","error_type":"validation"}\n\n');
    expect((legacy as ClassifiedError).failure).toMatchObject({ kind: 'fatal', userMessage: expect.stringContaining('HTTP 422') });
    const overloaded = await failureOf('event: error\ndata: {"message":"upstream broke"}\n\n');
    expect((overloaded as ClassifiedError).failure).toMatchObject({ kind: 'transient', detail: 'HTTP 500: upstream broke' });
  });

  it('fails on malformed JSON and on an event that never ends within the size cap', async () => {
    expect(await failureOf('data: {"choices": [\n\n')).toBeInstanceOf(SyntaxError);
    const endless = `data: "${'x'.repeat(2 * 1024 * 1024)}`;
    expect(String(await failureOf(endless))).toMatch(/buffer size/i);
  });
});

describe('the HF client reading a stream', () => {
  let hf: HfFake;
  beforeAll(async () => {
    hf = await startHfFake();
  });
  afterAll(() => hf.close());
  const model = () =>
    createHfChatModel({ baseUrl: hf.baseUrl, token: 'hf_test', model: 'm', maxTokens: 50, timeoutMs: 5_000, streamIdleTimeoutMs: 5_000 });

  async function run(signal?: AbortSignal, onPart?: (part: ChatPart) => void): Promise<{ text: string; error: unknown }> {
    let text = '';
    try {
      for await (const part of model().stream([{ role: 'user', content: 'hi' }], { signal })) {
        if (part.kind === 'answer') text += part.text;
        onPart?.(part);
      }
      return { text, error: undefined };
    } catch (error) {
      return { text, error };
    }
  }

  it('yields the answer and then the usage', async () => {
    hf.enqueueChat({ kind: 'stream', tokens: ['Hello ', 'there'], tokenDelayMs: 1 });
    const parts: ChatPart[] = [];
    const { text, error } = await run(undefined, (part) => parts.push(part));
    expect(error).toBeUndefined();
    expect(text).toBe('Hello there');
    expect(parts.at(-1)).toMatchObject({ kind: 'usage' });
  });

  it('hands on the text before a mid-stream error, then fails with the status the frame gives', async () => {
    hf.enqueueChat({ kind: 'midStreamError', tokens: ['Hello ', 'wor'], httpStatusCode: 422, message: 'Input is too long', tokenDelayMs: 1 });
    const { text, error } = await run();
    expect(text).toBe('Hello wor');
    expect((error as ClassifiedError).failure.kind).toBe('fatal');
  });

  it('fails transiently when the connection drops mid-answer', async () => {
    hf.enqueueChat({ kind: 'abort', tokens: ['Half ', 'an '], tokenDelayMs: 1 });
    const { text, error } = await run();
    expect(text).toBe('Half an ');
    expect((error as ClassifiedError).failure.kind).toBe('transient');
  });

  it('ends a stream the caller stops as aborted, not as a complete answer', async () => {
    hf.enqueueChat({ kind: 'stream', tokens: Array.from({ length: 50 }, (_, i) => `t${i} `), tokenDelayMs: 20 });
    const stop = new AbortController();
    const { text, error } = await run(stop.signal, () => stop.abort());
    expect(text).toBe('t0 ');
    expect((error as ClassifiedError).failure).toMatchObject({ kind: 'transient', detail: 'request aborted' });
    await expect.poll(() => hf.activeStreams).toBe(0);
  });
});

describe('the HF client reading many chunks in one read', () => {
  let server: Server;
  let baseUrl: string;
  const frame = (delta: object, usage?: object) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta }], ...(usage ? { usage } : {}) })}\n\n`;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        frame({ reasoning_content: 'Think ' }) +
          frame({ reasoning_content: 'hard.' }) +
          frame({ reasoning_content: ' Done.', content: 'An' }) +
          frame({ content: 'swer' }) +
          frame({ reasoning_content: ' Again.' }) +
          frame({ content: '.' }) +
          frame({}, { prompt_tokens: 3, completion_tokens: 9 }) +
          'data: [DONE]\n\n',
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands on each run of one field as one part, in the order the fields came', async () => {
    const chat = createHfChatModel({ baseUrl, token: 'hf_test', model: 'm', maxTokens: 50, timeoutMs: 5_000, streamIdleTimeoutMs: 5_000 });
    const parts: ChatPart[] = [];
    for await (const part of chat.stream([{ role: 'user', content: 'hi' }])) parts.push(part);
    expect(parts).toEqual([
      { kind: 'reasoning', text: 'Think hard. Done.' },
      { kind: 'answer', text: 'Answer' },
      { kind: 'reasoning', text: ' Again.' },
      { kind: 'answer', text: '.' },
      { kind: 'usage', promptTokens: 3, completionTokens: 9 },
    ]);
  });
});

describe("the HF client's connections", () => {
  let server: Server;
  let baseUrl: string;
  let connections = 0;
  let closedResponses = 0;
  const frame = (content: string) => `data: ${chunk(content)}\n\n`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.on('close', () => closedResponses++);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url?.includes('never-ends')) {
        res.write(frame('one') + frame(' two'));
        return;
      }
      // As servers do: [DONE] in one write, the end of the chunked body a moment later.
      res.write(frame('Hello') + frame(' there') + 'data: [DONE]\n\n');
      setTimeout(() => res.end(), 20);
    });
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const model = (path: string) =>
    createHfChatModel({ baseUrl: `${baseUrl}${path}`, token: 'hf_test', model: 'm', maxTokens: 50, timeoutMs: 5_000, streamIdleTimeoutMs: 5_000 });

  it('keeps its connection when the router ends the response after [DONE]', async () => {
    const chat = model('/v1');
    connections = 0;
    for (let answer = 0; answer < 4; answer++) {
      let text = '';
      for await (const part of chat.stream([{ role: 'user', content: 'hi' }])) if (part.kind === 'answer') text += part.text;
      expect(text).toBe('Hello there');
      await new Promise((resolve) => setTimeout(resolve, 60)); // the response's end arrives and is read
    }
    expect(connections).toBe(1);
  });

  it('closes the response of a stream its reader leaves early', async () => {
    const before = closedResponses;
    for await (const part of model('/never-ends/v1').stream([{ role: 'user', content: 'hi' }])) {
      expect(part).toMatchObject({ kind: 'answer', text: expect.stringMatching(/^one/) });
      break;
    }
    await expect.poll(() => closedResponses).toBe(before + 1);
  });
});

describe('the router transport', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.write('first,');
      setTimeout(() => res.end('second'), 20);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('hands the body whole to whoever reads it: the Node stream once taken, else the web stream', async () => {
    const send = routerTransport();
    const taken = await send(url, { method: 'POST', body: '{}' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the web side must not have pulled meanwhile
    const nodeBody = takeNodeBody(taken);
    expect(nodeBody).toBeDefined();
    expect(takeNodeBody(taken)).toBeUndefined();
    let text = '';
    for await (const chunk of nodeBody!) text += String(chunk);
    expect(text).toBe('first,second');

    const read = await send(url, { method: 'POST', body: '{}' });
    expect(await read.text()).toBe('first,second');
  });
});
