/** The HF fake's public types: options, scripted steps, request records and the handle. */
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
