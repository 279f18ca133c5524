import { ChatOutput } from '../llm/chat-output.ts';
import type { ChatModel, ModelTurn, UsagePart } from '../llm/hf-chat.ts';
import { composeReply, thinkingStatus, type ReasoningDisplay } from '../llm/reasoning-display.ts';
import type { Logger } from '../logger.ts';
import { EditPacer, type PacerStats } from '../stream/pacer.ts';
import type { ReplyHandle } from '../surface.ts';
import { notices } from './notices.ts';

/** How often the thinking status offers its elapsed time (the pacer drops repeats). */
const THINKING_TICK_MS = 250;

export interface AnswerRequest {
  model: ChatModel;
  turns: ModelTurn[];
  modelId: string;
  /** Stops the model: the process shutting down, or the reply that cannot be opened. */
  signal: AbortSignal;
  reply: ReplyHandle;
  editIntervalMs: number;
  reasoningDisplay: ReasoningDisplay;
  /** Adds what goes under the answer (notes about files, the channel's own model). */
  footer: (answer: string) => string;
  log: Logger;
}

export type AnswerOutcome =
  | {
      done: true;
      /** The answer alone: what history keeps. */
      text: string;
      /** What the reply shows: the answer, any reasoning shown, the footer. */
      shown: string;
      reasoningChars: number;
      usage: UsagePart | undefined;
      pacer: PacerStats;
      /** When the model was asked, and when its first token came (ms since the epoch). */
      modelRequestedAt: number;
      firstTokenAt: number | undefined;
    }
  | {
      done: false;
      error: unknown;
      /** The answer shown so far, kept above a "retrying" notice. */
      partial: string;
      /** The model had finished: the failure was the final render's, not the model's. */
      modelDone: boolean;
    };

/**
 * Streams the model's answer into the reply at the platform's pace. Until the answer begins, while
 * a reasoning model thinks, the reply shows how long it has been at it. Never throws: a failure
 * comes back with the partial answer, for the policy to decide on.
 */
export async function streamAnswer(request: AnswerRequest): Promise<AnswerOutcome> {
  const output = new ChatOutput();
  const pacer = new EditPacer({
    // Until the answer begins, what the pacer shows is the thinking status.
    render: (text, final) => request.reply.render(text, final, final ? 'answer' : output.answering ? undefined : 'status'),
    intervalMs: request.editIntervalMs,
    onRenderError: (err) => request.log.warn({ err }, 'an intermediate edit failed; the next one carries the text'),
  });
  const ticker = new ThinkingTicker(output, pacer);
  const modelRequestedAt = Date.now();
  let firstTokenAt: number | undefined;
  let modelDone = false;
  try {
    for await (const part of request.model.stream(request.turns, { model: request.modelId, signal: request.signal })) {
      if (part.kind !== 'usage') firstTokenAt ??= Date.now();
      output.apply(part);
      ticker.show();
    }
    modelDone = true;
    ticker.stop();
    const text = output.answer.trim() ? output.answer : output.reasoning.trim() ? notices.thoughtOnly : notices.empty;
    const shown = request.footer(composeReply(text, output.reasoning, request.reasoningDisplay));
    await pacer.finish(shown);
    return {
      done: true,
      text,
      shown,
      reasoningChars: output.reasoning.length,
      usage: output.usage,
      pacer: pacer.stats,
      modelRequestedAt,
      firstTokenAt,
    };
  } catch (error) {
    ticker.stop();
    pacer.cancel();
    return { done: false, error, partial: output.answer, modelDone };
  }
}

/**
 * The answer once it has begun; until then, while the model reasons, how long it has been at it.
 * The elapsed-time timer runs only while a model is thinking: most answers never start it.
 */
class ThinkingTicker {
  readonly #output: ChatOutput;
  readonly #pacer: EditPacer;
  #since: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(output: ChatOutput, pacer: EditPacer) {
    this.#output = output;
    this.#pacer = pacer;
  }

  show(): void {
    if (this.#output.thinking) {
      this.#since ??= Date.now();
      this.#timer ??= setInterval(() => this.show(), THINKING_TICK_MS);
      this.#pacer.push(thinkingStatus(Date.now() - this.#since));
    } else {
      this.stop();
      if (this.#output.answering) this.#pacer.push(this.#output.answer);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
