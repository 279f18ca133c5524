import OpenAI, { APIUserAbortError } from 'openai';
import { ClassifiedError } from './failures.ts';
import { classifyHfError } from './hf-errors.ts';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface StreamOptions {
  model?: string;
  signal?: AbortSignal;
}

/** A chat model that streams text deltas; failures arrive as ClassifiedError. */
export interface ChatModel {
  stream(turns: ChatTurn[], options?: StreamOptions): AsyncGenerator<string, void, undefined>;
}

export interface HfChatOptions {
  baseUrl: string;
  token: string;
  model: string;
  maxTokens: number;
  timeoutMs: number;
  /** Abort a stream that goes this long without a chunk. */
  streamIdleTimeoutMs: number;
}

/**
 * fetch that keeps each error response's raw body, keyed by the Headers object the SDK hands to
 * the APIError it builds. The SDK keeps only the body's `error` field; HF's cold-start estimate
 * (`estimated_time`) and `{"message"}`/`{"detail"}` bodies would otherwise be lost.
 */
function bodyKeepingFetch(): { fetch: typeof fetch; rawBodyOf: (headers: Headers | undefined) => string | undefined } {
  const bodies = new WeakMap<Headers, string>();
  const keeping: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
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
      let idleTimer: NodeJS.Timeout | undefined;
      let idledOut = false;
      const armIdleTimer = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          idledOut = true;
          controller.abort();
        }, options.streamIdleTimeoutMs);
      };
      try {
        armIdleTimer();
        const stream = await client.chat.completions.create(
          {
            model: streamOptions.model ?? options.model,
            messages: turns,
            stream: true,
            max_tokens: options.maxTokens,
          },
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          armIdleTimer();
          const delta = chunk.choices[0]?.delta?.content;
          if (delta) yield delta;
        }
        // The SDK ends an aborted stream quietly, as if the answer were complete: it is not.
        if (controller.signal.aborted) throw new APIUserAbortError();
      } catch (err) {
        if (idledOut) {
          throw new ClassifiedError(
            { kind: 'transient', detail: `no data from the model for ${options.streamIdleTimeoutMs} ms` },
            { cause: err },
          );
        }
        const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
        throw classifyHfError(err, rawBodyOf(headers));
      } finally {
        clearTimeout(idleTimer);
        streamOptions.signal?.removeEventListener('abort', abortFromCaller);
      }
    },
  };
}
