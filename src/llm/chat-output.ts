import type { ChatPart, UsagePart } from './hf-chat.ts';

/** A streamed completion gathered from its parts: the answer and the reasoning kept apart. */
export class ChatOutput {
  answer = '';
  reasoning = '';
  usage: UsagePart | undefined;

  apply(part: ChatPart): void {
    switch (part.kind) {
      case 'answer':
        this.answer += part.text;
        return;
      case 'reasoning':
        this.reasoning += part.text;
        return;
      case 'relabel':
        if (part.as === 'reasoning') {
          this.reasoning += this.answer;
          this.answer = '';
        } else {
          this.answer = this.reasoning + this.answer;
          this.reasoning = '';
        }
        return;
      case 'usage':
        this.usage = part;
        return;
    }
  }

  /** Reasoning has begun and no answer yet: the time to show that the model is thinking. */
  get thinking(): boolean {
    return !this.answer.trim() && this.reasoning.trim() !== '';
  }
}
