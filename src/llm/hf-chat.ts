import OpenAI, { APIUserAbortError } from 'openai';
import { ClassifiedError } from '../errors/index.ts';
import { classifyHfError } from './hf-errors.ts';
import type { ContentPart } from '../attachments/prepare.ts';
import { reasoningOfDelta, ThinkSplitter, type SplitPart } from './reasoning.ts';
import { dropBody, releaseBody, routerTransport, takeNodeBody, type NodeBody } from './router-transport.ts';
import { completionChunkBatches } from './completion-stream.ts';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What is sent to the model: chat turns, and a user turn with images as content parts. */
export type ModelTurn = ChatTurn | { role: 'user'; content: ContentPart[] };

export interface StreamOptions {
  model?: string;
  signal?: AbortSignal;
}

/** Tokens the request cost, as the server reports them (`stream_options.include_usage`). */
export interface UsagePart {
  kind: 'usage';
  promptTokens: number;
  /** Everything generated, reasoning included. */
  completionTokens: number;
  /** The reasoning's share of `completionTokens`, when the server says. */
  reasoningTokens?: number;
}

/**
 * One piece of a streamed completion: answer text, reasoning text (never to be shown raw), a
 * relabel (see RelabelPart), and last, when the server reports it, the usage.
 */
export type ChatPart = SplitPart | UsagePart;

/** A chat model that streams typed parts; failures arrive as ClassifiedError. */
export interface ChatModel {
  stream(turns: ModelTurn[], options?: StreamOptions): AsyncGenerator<ChatPart, void, undefined>;
}

export interface HfChatOptions {
  baseUrl: string;
  token: string;
  model: string;
  maxTokens: number;
  timeoutMs: number;
  /** Abort a stream that goes this long without a chunk. */
  streamIdleTimeoutMs: number;
  /**
   * The model's chat template opens the think block in the prompt, so its output starts inside it.
   * Default: guessed from the model id (OPENS_THINK_IN_PROMPT).
   */
  thinkOpenAtStart?: boolean;
}

/**
 * Models whose templates end the prompt with `<think>`: served raw, their output is reasoning up to
 * a lone `</think>`. Providers that parse reasoning into its own field are detected per stream.
 */
export const OPENS_THINK_IN_PROMPT = /deepseek-r1|qwq|qwen3-.*thinking/i;

function usageOf(usage: OpenAI.CompletionUsage): UsagePart {
  const reasoningTokens = usage.completion_tokens_details?.reasoning_tokens;
  return {
    kind: 'usage',
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    ...(typeof reasoningTokens === 'number' ? { reasoningTokens } : {}),
  };
}

/**
 * fetch that keeps each error response's raw body, keyed by the Headers object the SDK hands to
 * the APIError it builds. The SDK keeps only the body's `error` field; HF's cold-start estimate
 * (`estimated_time`) and `{"message"}`/`{"detail"}` bodies would otherwise be lost.
 *
 * Requests go through `routerTransport` (undici's `request`, not Node's fetch). Redirects are
 * errors: the router answers where it is asked (a redirect means a wrong HF_BASE_URL, and a
 * 301/302 would turn the POST into a GET anyway).
 */
function bodyKeepingFetch(): { fetch: typeof fetch; rawBodyOf: (headers: Headers | undefined) => string | undefined } {
  const bodies = new WeakMap<Headers, string>();
  const transport = routerTransport();
  const keeping: typeof fetch = async (input, init) => {
    const response = await transport(input, init);
    if (response.ok) return response;
    const text = await response.text();
    const copy = new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    bodies.set(copy.headers, text);
    return copy;
  };
  return { fetch: keeping, rawBodyOf: (headers) => (headers ? bodies.get(headers) : undefined) };
}

/** Hugging Face chat completions through the OpenAI-compatible router, with `stream: true`. */
export function createHfChatModel(options: HfChatOptions): ChatModel {
  const { fetch: keepingFetch, rawBodyOf } = bodyKeepingFetch();
  // Retries belong to the queue (delays that spend no attempt, backoff that does), never to the SDK.
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.token,
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: keepingFetch,
  });

  return {
    async *stream(turns, streamOptions = {}) {
      const controller = new AbortController();
      const abortFromCaller = () => controller.abort(streamOptions.signal?.reason);
      streamOptions.signal?.addEventListener('abort', abortFromCaller, { once: true });
      let idledOut = false;
      const model = streamOptions.model ?? options.model;
      const splitter = new ThinkSplitter({ openAtStart: options.thinkOpenAtStart ?? OPENS_THINK_IN_PROMPT.test(model) });
      let usage: UsagePart | undefined;
      let finishReason: string | null = null;
      // One timer per stream, pushed back on every chunk (refresh() allocates nothing).
      const idleTimer = setTimeout(() => {
        idledOut = true;
        controller.abort();
      }, options.streamIdleTimeoutMs);
      let nodeBody: NodeBody | undefined;
      let bodyReleased = false;
      try {
        // The SDK sends the request and turns error statuses into APIErrors; the events are read here.
        const response = await client.chat.completions
          .create(
            {
              model,
              messages: turns,
              stream: true,
              stream_options: { include_usage: true },
              max_tokens: options.maxTokens,
            },
            { signal: controller.signal },
          )
          .asResponse();
        nodeBody = takeNodeBody(response);
        // Read without destroying the body when the events end early ([DONE]): what follows is released below.
        const body = nodeBody?.iterator({ destroyOnReturn: false }) ?? response.body;
        if (!body) throw new ClassifiedError({ kind: 'transient', detail: 'the router sent a stream with no body' });
        for await (const chunks of completionChunkBatches(body)) {
          idleTimer.refresh();
          // A read often carries many chunks (a fast model, a busy worker): a run of deltas of one
          // field goes on as one piece of text, not one part (and one await upstream) per token.
          let reasoning = '';
          let content = '';
          for (const chunk of chunks) {
            const choice = chunk.choices?.[0];
            // Not in the SDK's types: read from the raw delta.
            const reasoningDelta = reasoningOfDelta(choice?.delta);
            if (reasoningDelta) {
              if (content) yield* splitter.push(content);
              content = '';
              splitter.reasoningDeliveredSeparately();
              reasoning += reasoningDelta;
            }
            const contentDelta = choice?.delta?.content;
            if (contentDelta) {
              if (reasoning) yield { kind: 'reasoning', text: reasoning };
              reasoning = '';
              content += contentDelta;
            }
            finishReason = choice?.finish_reason ?? finishReason;
            if (chunk.usage) usage = usageOf(chunk.usage);
          }
          if (reasoning) yield { kind: 'reasoning', text: reasoning };
          if (content) yield* splitter.push(content);
        }
        if (nodeBody) releaseBody(nodeBody);
        bodyReleased = true;
        // Stopped after the last bytes arrived: the caller asked for an end, not an answer.
        if (controller.signal.aborted) throw new APIUserAbortError();
        yield* splitter.end({ truncated: finishReason === 'length' });
        if (usage) yield usage;
      } catch (err) {
        if (idledOut) {
          throw new ClassifiedError(
            { kind: 'transient', detail: `no data from the model for ${options.streamIdleTimeoutMs} ms` },
            { cause: err },
          );
        }
        // A stop ends the body with an error of the transport's own: it is still a stop.
        if (controller.signal.aborted && !(err instanceof ClassifiedError)) throw classifyHfError(new APIUserAbortError());
        const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
        throw classifyHfError(err, rawBodyOf(headers));
      } finally {
        clearTimeout(idleTimer);
        streamOptions.signal?.removeEventListener('abort', abortFromCaller);
        if (nodeBody && !bodyReleased) dropBody(nodeBody);
      }
    },
  };
}
