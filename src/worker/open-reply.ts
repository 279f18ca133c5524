import { failureOf } from '../errors/index.ts';
import type { ChatJob } from '../jobs/chat-job.ts';
import type { ReplyEnd, ReplyHandle, Surface } from '../surface.ts';

/** A reply whose every render is scrubbed first: the one place text leaves the worker for a platform. */
export function scrubbedReply(reply: ReplyHandle, scrub: (text: string) => string): ReplyHandle {
  return {
    render: (text, final, end) => reply.render(scrub(text), final, end),
    get placeholder() {
      return reply.placeholder;
    },
    get apiCalls() {
      return reply.apiCalls;
    },
  };
}

/**
 * How long the answer may take to begin before the reply shows its placeholder. A quicker answer is
 * posted as itself: one message call instead of a placeholder and an edit, and nothing flashes by.
 * A second still reads as a prompt acknowledgement, and it keeps a worker that is behind from
 * adding a placeholder call to every job it is slow to start (with half a second, a saturated
 * worker made about 15% fewer replies in the bench).
 */
const PLACEHOLDER_DELAY_MS = 1000;

/**
 * The reply, opened in the background: the model request does not wait for the platform. Renders
 * wait for the opening. Where the reply has a placeholder to show (`ReplyHandle.placeholder`), it
 * goes up only if nothing else has been rendered within `placeholderDelayMs`. If the platform
 * refuses the opening, the placeholder, or any render for good, `failed` aborts (which stops the
 * model) and `error` says why.
 */
export class EarlyReply implements ReplyHandle {
  readonly #opening: Promise<ReplyHandle>;
  readonly #failed = new AbortController();
  #opened: ReplyHandle | undefined;
  #error: unknown;
  #placeholderTimer: NodeJS.Timeout | undefined;
  /** The placeholder's render, while it is in flight: every other render goes after it. */
  #placeholder: Promise<void> | undefined;
  /** Rendered, or the run is over: no placeholder from now on. */
  #closed = false;

  /** `placeholderDelayMs`: how long the answer may take to begin before the placeholder goes up. */
  constructor(opening: Promise<ReplyHandle>, placeholderDelayMs = PLACEHOLDER_DELAY_MS) {
    this.#opening = opening.then(
      (handle) => {
        this.#opened = handle;
        this.#schedulePlaceholder(handle, placeholderDelayMs);
        return handle;
      },
      (err: unknown) => {
        this.#fail(err);
        throw err;
      },
    );
    this.#opening.catch(() => undefined); // the failure is handled where the reply is used
  }

  /** Aborted when the reply cannot be opened, or the platform refuses it for good. */
  get failed(): AbortSignal {
    return this.#failed.signal;
  }

  /** Why the reply could not be opened or shown any more; undefined while all is well. */
  get error(): unknown {
    return this.#error;
  }

  get apiCalls(): number {
    return this.#opened?.apiCalls ?? 0;
  }

  async render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void> {
    this.close();
    const handle = await this.#opening;
    await this.#placeholder;
    if (this.#error !== undefined) throw this.#error;
    try {
      await handle.render(markdown, final, end);
    } catch (err) {
      // A refusal no retry can fix (the channel is gone, the message deleted): nothing more can be
      // shown, so the model is stopped rather than streamed to the end for nobody.
      if (failureOf(err).kind === 'fatal') this.#fail(err);
      throw err;
    }
  }

  /** Resolves once the opening is over, whichever way it went. */
  async settled(): Promise<void> {
    await this.#opening.catch(() => undefined);
  }

  /** No placeholder after this: the run is over (or has rendered). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#placeholderTimer);
    this.#placeholderTimer = undefined;
  }

  #schedulePlaceholder(handle: ReplyHandle, delayMs: number): void {
    const text = handle.placeholder;
    if (text === undefined || this.#closed) return;
    this.#placeholderTimer = setTimeout(() => {
      this.#placeholderTimer = undefined;
      this.#placeholder = handle.render(text, false, 'status').then(
        () => undefined,
        (err: unknown) => this.#fail(err),
      );
    }, delayMs);
  }

  #fail(err: unknown): void {
    this.#error = err;
    this.#failed.abort();
  }
}

export interface OpenReplyInput {
  surface: Surface;
  job: ChatJob;
  /** Awaited after every new message: keeps the ids in the job (and indexes them). */
  saveMessageIds: (ids: string[]) => Promise<void>;
  /** Awaited when the surface keeps its own record of the reply (`progress.surface`). */
  saveState: (state: Record<string, unknown>) => Promise<void>;
  /** Started before and nothing saved: a worker may have died between posting and saving. */
  mayHavePosted: boolean;
  scrub: (text: string) => string;
}

/** Opens the job's reply (the messages an earlier attempt saved, or new ones once there is text) without waiting for it. */
export function openReply(input: OpenReplyInput): EarlyReply {
  const opening = input.surface
    .openReply(input.job, input.saveMessageIds, { mayHavePosted: input.mayHavePosted, saveState: input.saveState })
    .then((handle) => scrubbedReply(handle, input.scrub));
  return new EarlyReply(opening);
}
