/** Server-sent events as TGI / the router write them: tokens, reasoning deltas, usage and [DONE]. */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatStep } from './types.ts';

/** Word-ish tokens with whitespace kept attached: "a b  c" → ["a ", "b  ", "c"]. */
export function splitTokens(text: string): string[] {
  return text.split(/(?<=\s)(?=\S)/).filter((t) => t.length > 0);
}

export function tokensOf(step: { tokens?: string[]; text?: string }, fallback: string[] = []): string[] {
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

export type StreamStep = Extract<ChatStep, { kind: 'stream' }>;

/** The deltas of a stream step: its reasoning (in its shape), then its answer tokens. */
export function streamDeltas(step: StreamStep, tokens: string[]): Array<Record<string, string>> {
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
export function generatedText(deltas: Array<Record<string, string>>): string {
  return deltas.map((delta) => Object.entries(delta).filter(([key]) => key !== 'role').map(([, text]) => text).join('')).join('');
}

/** Roughly 4 characters a token, never 0 for non-empty text. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Delta frames, final frame, usage and [DONE] for one streamed completion. Frames written in the
 * same tick (an instant model's whole answer) leave in one write, as a server's socket would
 * coalesce them; a streamed token is its own write.
 */
export class ChunkWriter {
  readonly id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  readonly created = Math.floor(Date.now() / 1000);
  readonly res: ServerResponse;
  readonly model: string;
  readonly noSpace: boolean;
  /** Frames written in this tick, not yet handed to the response. */
  #pending = '';

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
    this.#write(`data:${this.noSpace ? '' : ' '}${data}\n\n`);
  }

  comment(text: string): void {
    if (this.writable) this.#write(`: ${text}\n\n`);
  }

  /** Ends the response after the frames still waiting for this tick's write. */
  end(): void {
    this.flush();
    this.res.end();
  }

  #write(text: string): void {
    if (this.#pending === '') process.nextTick(() => this.flush());
    this.#pending += text;
  }

  /** Hands the frames written in this tick to the response now. */
  flush(): void {
    const text = this.#pending;
    this.#pending = '';
    if (text !== '' && this.writable) this.res.write(text);
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

export function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
}

/** Waits `ms`; false when the response was cancelled meanwhile. */
export async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes tokens one by one on timers. Returns false when cancelled before all were written.
 * `beforeEach` runs before each token's delay (keep-alive comments).
 */
export async function writeTokens(
  writer: ChunkWriter,
  tokens: string[],
  delays: { first: number; rest: number },
  signal: AbortSignal,
  beforeEach?: () => void,
): Promise<boolean> {
  return writeDeltas(writer, tokens.map((content) => ({ role: 'assistant', content })), delays, signal, beforeEach);
}

/** Like writeTokens, with any delta fields (reasoning ones too). */
export async function writeDeltas(
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

