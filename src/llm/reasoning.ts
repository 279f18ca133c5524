/**
 * Separating a model's reasoning from its answer, as the text streams in.
 *
 * Reasoning arrives in one of two shapes: a separate delta field (`reasoning_content`, or
 * `reasoning` in newer vLLM), or `<think>…</think>` inside the content. The splitter here handles
 * the second, one content delta at a time, whatever the chunk boundaries.
 */

export type TextPart = { kind: 'answer'; text: string } | { kind: 'reasoning'; text: string };

/**
 * Everything streamed so far as the other kind was in fact `as`. Only for models whose think block
 * is not announced: a `</think>` with no `<think>` (the answer so far was reasoning), or a block
 * assumed open from the start that never closed in a normally finished stream (it was the answer).
 */
export interface RelabelPart {
  kind: 'relabel';
  as: 'answer' | 'reasoning';
}

export type SplitPart = TextPart | RelabelPart;

export interface ThinkSplitterOptions {
  /**
   * The think block is already open when the output starts: templates such as DeepSeek-R1's, QwQ's
   * and Qwen3 thinking's put `<think>` in the prompt, so the model writes only `</think>`.
   */
  openAtStart?: boolean;
}

const OPEN = '<think>';
const CLOSE = '</think>';
/** An unannounced `</think>` counts only on a line of its own, not quoted inside an answer. */
const ORPHAN_CLOSE = `\n${CLOSE}`;

/** Length of the longest end of `text` that could be the start of `tag` (kept back until the next chunk). */
function partialTagAtEnd(text: string, tag: string): number {
  for (let length = Math.min(text.length, tag.length - 1); length > 0; length -= 1) {
    if (text.endsWith(tag.slice(0, length))) return length;
  }
  return 0;
}

type State = 'start' | 'thinking' | 'answer';

/**
 * Splits streamed content into answer and reasoning parts. Tags may be cut anywhere between chunks;
 * at most a tag's length of text is held back. `<think>` counts only at the start (after
 * whitespace): later it is just text. A block still open at the end is reasoning.
 */
export class ThinkSplitter {
  #openAtStart: boolean;
  #state: State = 'start';
  #pending = '';
  /** In the block because of `openAtStart`, not because the model wrote `<think>`. */
  #implicit = false;
  /** Answer text with no think block seen yet: an orphan `</think>` would make it reasoning. */
  #watchOrphan = false;
  /** Just after `</think>`: the whitespace models put before the answer is dropped. */
  #trimAnswerStart = false;
  #emitted = { answer: false, reasoning: false };

  constructor(options: ThinkSplitterOptions = {}) {
    this.#openAtStart = options.openAtStart ?? false;
  }

  /**
   * The provider parsed the reasoning into its own field, so the content is only the answer: a
   * block assumed open from the start is not (unless content is already being read that way).
   */
  reasoningDeliveredSeparately(): void {
    if (this.#state === 'start') this.#openAtStart = false;
  }

  push(chunk: string): SplitPart[] {
    this.#pending += chunk;
    return this.#drain(false, false);
  }

  /** Flushes what was held back. `truncated`: the stream stopped at the token limit. */
  end(options: { truncated?: boolean } = {}): SplitPart[] {
    return this.#drain(true, options.truncated ?? false);
  }

  #drain(atEnd: boolean, truncated: boolean): SplitPart[] {
    const parts: SplitPart[] = [];
    const emit = (kind: TextPart['kind'], text: string) => {
      if (!text) return;
      this.#emitted[kind] = true;
      parts.push({ kind, text });
    };
    for (;;) {
      if (this.#state === 'start') {
        const lead = this.#pending.trimStart();
        if (lead.startsWith(OPEN) || lead.startsWith(CLOSE)) {
          // A leading `</think>` closes a block opened in the prompt, with nothing in it.
          const opened = lead.startsWith(OPEN);
          this.#pending = lead.slice(opened ? OPEN.length : CLOSE.length);
          this.#state = opened ? 'thinking' : 'answer';
          this.#trimAnswerStart = !opened;
          continue;
        }
        if (!atEnd && (OPEN.startsWith(lead) || CLOSE.startsWith(lead))) return parts;
        this.#state = this.#openAtStart ? 'thinking' : 'answer';
        this.#implicit = this.#openAtStart;
        this.#watchOrphan = !this.#openAtStart;
        continue;
      }

      if (this.#state === 'thinking') {
        const close = this.#pending.indexOf(CLOSE);
        if (close >= 0) {
          emit('reasoning', this.#pending.slice(0, close));
          this.#pending = this.#pending.slice(close + CLOSE.length);
          this.#state = 'answer';
          this.#trimAnswerStart = true;
          continue;
        }
        const keep = atEnd ? 0 : partialTagAtEnd(this.#pending, CLOSE);
        emit('reasoning', this.#pending.slice(0, this.#pending.length - keep));
        this.#pending = this.#pending.slice(this.#pending.length - keep);
        // Assumed open but never closed, and the model stopped on its own: it never was thinking.
        if (atEnd && this.#implicit && !truncated && this.#emitted.reasoning) parts.push({ kind: 'relabel', as: 'answer' });
        return parts;
      }

      if (this.#trimAnswerStart) {
        this.#pending = this.#pending.trimStart();
        if (!this.#pending) return parts;
        this.#trimAnswerStart = false;
      }
      if (!this.#watchOrphan) {
        emit('answer', this.#pending);
        this.#pending = '';
        return parts;
      }
      const orphan = this.#pending.indexOf(ORPHAN_CLOSE);
      if (orphan >= 0) {
        if (this.#emitted.answer) parts.push({ kind: 'relabel', as: 'reasoning' });
        emit('reasoning', this.#pending.slice(0, orphan));
        this.#pending = this.#pending.slice(orphan + ORPHAN_CLOSE.length);
        this.#watchOrphan = false;
        this.#trimAnswerStart = true;
        continue;
      }
      const keep = atEnd ? 0 : partialTagAtEnd(this.#pending, ORPHAN_CLOSE);
      emit('answer', this.#pending.slice(0, this.#pending.length - keep));
      this.#pending = this.#pending.slice(this.#pending.length - keep);
      return parts;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The reasoning in a streamed delta's own field: `reasoning_content` (DeepSeek, most providers) or
 * `reasoning` (newer vLLM, some routers). Some servers send both with the same text: one is read.
 */
export function reasoningOfDelta(delta: unknown): string | undefined {
  if (!isRecord(delta)) return undefined;
  for (const field of ['reasoning_content', 'reasoning']) {
    const value = delta[field];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}
