/**
 * OpenAI-compatible chat (`POST /v1/chat/completions`): each request plays one `ChatStep`, streamed
 * as SSE the way TGI / the router write it, or answered as one JSON object without `stream`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, readJson, sendJson } from '../http.ts';
import { requireBearer, sendBadJson, sendLoading, sendStatus } from './responses.ts';
import { ChunkWriter, countTokens, generatedText, startSse, streamDeltas, tokensOf, wait, writeDeltas, writeTokens } from './sse.ts';
import type { ChatRequestRecord, ChatStep } from './types.ts';

/** What a chat request reads from and reports to the fake's state. */
export interface ChatContext {
  record(request: ChatRequestRecord): void;
  /** The next queued step (consumed), or the default handler's step. */
  nextStep(request: ChatRequestRecord): ChatStep;
  /** Fires when the client goes away or the fake closes. */
  signalFor(res: ServerResponse): AbortSignal;
  /** Runs one stream's writing, counted in `activeStreams` meanwhile. */
  streaming(write: () => Promise<void>): Promise<void>;
  defaultTokenDelayMs: number;
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

export function echoStep(req: ChatRequestRecord): ChatStep {
  return { kind: 'stream', text: `Echo: ${lastUserText(req.messages)}` };
}

export async function handleChat(req: IncomingMessage, res: ServerResponse, context: ChatContext): Promise<void> {
  const body = await readJson(req);
  if (body === undefined) return sendBadJson(res);
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
  context.record(record);
  if (!requireBearer(record.authorization, res)) return;

  const step = context.nextStep(record);
  const includeUsage = isRecord(b.stream_options) && b.stream_options.include_usage === true;
  const promptTokens = countTokens(messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n'));
  const signal = context.signalFor(res);
  const defaultTokenDelayMs = context.defaultTokenDelayMs;

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
      await context.streaming(async () => {
        const writer = new ChunkWriter(res, record.model, step.noSpace === true);
        const keepAlive = step.keepAlive ? () => writer.comment('keep-alive') : undefined;
        if (!(await writeDeltas(writer, deltas, { first: firstDelay, rest: tokenDelay }, signal, keepAlive))) return;
        writer.chunk({}, finishReason);
        if (includeUsage) writer.usage(promptTokens, countTokens(generatedText(deltas)), reasoningTokens);
        writer.frame('[DONE]');
        writer.end();
      });
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
      await context.streaming(async () => {
        const writer = new ChunkWriter(res, record.model, legacy);
        const delay = step.tokenDelayMs ?? defaultTokenDelayMs;
        if (!(await writeTokens(writer, tokensOf(step, ['Partial ', 'answer ']), { first: delay, rest: delay }, signal))) return;
        // The error frame ends the stream: no finish chunk, no [DONE].
        writer.frame(errorPayload);
        writer.end();
      });
      return;
    }
    case 'abort': {
      if (!record.stream) {
        res.socket?.destroy();
        return;
      }
      startSse(res);
      await context.streaming(async () => {
        const writer = new ChunkWriter(res, record.model, false);
        const delay = step.tokenDelayMs ?? defaultTokenDelayMs;
        if (!(await writeTokens(writer, tokensOf(step, ['Partial ', 'answer ']), { first: delay, rest: delay }, signal))) return;
        // Let the last token reach the client before the connection drops.
        writer.flush();
        await wait(defaultTokenDelayMs, signal);
        res.socket?.destroy();
      });
      return;
    }
  }
}
