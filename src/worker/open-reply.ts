import type { ChatJob } from '../jobs/chat-job.ts';
import type { ReplyEnd, ReplyHandle, Surface } from '../surface.ts';

/** A reply whose every render is scrubbed first: the one place text leaves the worker for a platform. */
export function scrubbedReply(reply: ReplyHandle, scrub: (text: string) => string): ReplyHandle {
  return {
    render: (text, final, end) => reply.render(scrub(text), final, end),
    get apiCalls() {
      return reply.apiCalls;
    },
  };
}

/**
 * The reply, opened in the background: the placeholder goes up while the prompt is built and the
 * model starts, so the model request does not wait for the platform. Renders wait for the opening.
 * If the platform refuses, `failed` aborts (which stops the model) and `error` says why.
 */
export class EarlyReply implements ReplyHandle {
  readonly #opening: Promise<ReplyHandle>;
  readonly #failed = new AbortController();
  #opened: ReplyHandle | undefined;
  #error: unknown;

  constructor(opening: Promise<ReplyHandle>) {
    this.#opening = opening.then(
      (handle) => (this.#opened = handle),
      (err: unknown) => {
        this.#error = err;
        this.#failed.abort();
        throw err;
      },
    );
    this.#opening.catch(() => undefined); // the failure is handled where the reply is used
  }

  /** Aborted when the reply cannot be opened. */
  get failed(): AbortSignal {
    return this.#failed.signal;
  }

  /** Why the reply could not be opened; undefined while it is opening or once it is open. */
  get error(): unknown {
    return this.#error;
  }

  get apiCalls(): number {
    return this.#opened?.apiCalls ?? 0;
  }

  async render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void> {
    await (await this.#opening).render(markdown, final, end);
  }

  /** Resolves once the opening is over, whichever way it went. */
  async settled(): Promise<void> {
    await this.#opening.catch(() => undefined);
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

/** Opens the job's reply (a placeholder, or the messages an earlier attempt saved) without waiting for it. */
export function openReply(input: OpenReplyInput): EarlyReply {
  const opening = input.surface
    .openReply(input.job, input.saveMessageIds, { mayHavePosted: input.mayHavePosted, saveState: input.saveState })
    .then((handle) => scrubbedReply(handle, input.scrub));
  return new EarlyReply(opening);
}
