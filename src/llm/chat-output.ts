import type { ChatPart, UsagePart } from './hf-chat.ts';

const VISIBLE = /\S/;

/**
 * A streamed completion gathered from its parts: the answer and the reasoning kept apart.
 * Whether each holds more than whitespace is tracked per part: testing the whole text on every
 * token (`trim()`) would copy it each time, quadratic in the answer's length.
 */
export class ChatOutput {
  answer = '';
  reasoning = '';
  usage: UsagePart | undefined;
  #answerVisible = false;
  #reasoningVisible = false;

  apply(part: ChatPart): void {
    switch (part.kind) {
      case 'answer':
        this.answer += part.text;
        this.#answerVisible ||= VISIBLE.test(part.text);
        return;
      case 'reasoning':
        this.reasoning += part.text;
        this.#reasoningVisible ||= VISIBLE.test(part.text);
        return;
      case 'relabel':
        if (part.as === 'reasoning') {
          this.reasoning += this.answer;
          this.answer = '';
        } else {
          this.answer = this.reasoning + this.answer;
          this.reasoning = '';
        }
        this.#answerVisible = VISIBLE.test(this.answer);
        this.#reasoningVisible = VISIBLE.test(this.reasoning);
        return;
      case 'usage':
        this.usage = part;
        return;
    }
  }

  /** Reasoning has begun and no answer yet: the time to show that the model is thinking. */
  get thinking(): boolean {
    return !this.#answerVisible && this.#reasoningVisible;
  }

  /** The answer holds more than whitespace. */
  get answering(): boolean {
    return this.#answerVisible;
  }
}
