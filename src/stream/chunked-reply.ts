import type { ReplyEnd, ReplyHandle } from '../surface.ts';

/** The three things a platform does to the messages that carry one reply. */
export interface ReplyMessages {
  /**
   * Posts message number `index` of the reply; returns its id. `end` is set on the last message of
   * a final render (when the reply was made with `marksEnd`), e.g. for buttons under an answer.
   */
  post(text: string, index: number, end?: ReplyEnd): Promise<string>;
  edit(id: string, text: string, index: number, end?: ReplyEnd): Promise<void>;
  remove(id: string): Promise<void>;
}

/**
 * A reply carried by one or more platform messages. Each render turns the whole text into chunks
 * (the platform's format and length limit), posts the chunks that have no message yet, edits only
 * those whose text changed, and on the final render removes messages a shorter answer no longer
 * needs (a resumed answer can come out shorter than the try before it).
 *
 * Message ids are saved as soon as they exist, so a resumed job renders into the same messages.
 */
export class ChunkedReply implements ReplyHandle {
  readonly #messages: ReplyMessages;
  readonly #toChunks: (markdown: string, final: boolean) => string[];
  readonly #ids: string[];
  readonly #save: (ids: string[]) => Promise<void>;
  readonly #marksEnd: boolean;
  readonly #placeholder: string | undefined;
  /** What each message shows now; unknown after a resume, so everything is rewritten once. */
  readonly #shown: (string | undefined)[] = [];
  #apiCalls = 0;

  constructor(
    messages: ReplyMessages,
    toChunks: (markdown: string, final: boolean) => string[],
    ids: readonly string[],
    save: (ids: string[]) => Promise<void>,
    options: { marksEnd?: boolean; placeholder?: string | undefined } = {},
  ) {
    this.#messages = messages;
    this.#toChunks = toChunks;
    this.#ids = [...ids];
    this.#save = save;
    this.#marksEnd = options.marksEnd ?? false;
    this.#placeholder = options.placeholder;
  }

  get apiCalls(): number {
    return this.#apiCalls;
  }

  /** The messages that carry the reply now, in order. */
  get messageIds(): readonly string[] {
    return this.#ids;
  }

  /** What to show until the answer begins, while the reply has no message yet (`ReplyHandle.placeholder`). */
  get placeholder(): string | undefined {
    return this.posted ? undefined : this.#placeholder;
  }

  /** Whether any message of this reply exists yet. */
  get posted(): boolean {
    return this.#ids.length > 0;
  }

  async render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void> {
    const chunks = this.#toChunks(markdown, final);
    for (const [index, text] of chunks.entries()) {
      const id = this.#ids[index];
      // The last message of a final render is written even if unchanged, so the platform can mark the end.
      const ending = this.#marksEnd && final && end !== undefined && index === chunks.length - 1 ? end : undefined;
      if (id === undefined) {
        this.#apiCalls += 1;
        this.#ids.push(await this.#messages.post(text, index, ending));
        await this.#save([...this.#ids]);
      } else if (this.#shown[index] !== text || ending !== undefined) {
        this.#apiCalls += 1;
        await this.#messages.edit(id, text, index, ending);
      }
      this.#shown[index] = text;
    }
    if (final && this.#ids.length > chunks.length) {
      for (const id of this.#ids.splice(chunks.length)) {
        this.#apiCalls += 1;
        await this.#messages.remove(id);
      }
      this.#shown.length = chunks.length;
      await this.#save([...this.#ids]);
    }
  }
}
