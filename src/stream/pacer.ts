export interface PacerStats {
  /** Renders sent, the final one included. */
  edits: number;
  /** Worst time between text arriving and a render containing it completing. */
  maxVisibleLagMs: number;
  /** When the first render completed (ms since epoch), if any. */
  firstVisibleAt: number | undefined;
}

export interface PacerOptions {
  /** Sets the visible text; one call at a time. */
  render: (text: string, final: boolean) => Promise<void>;
  /** Minimum time from one render's completion to the next render's start, the final one included. */
  intervalMs: number;
  /** A failed intermediate render is reported and skipped; the next one carries the newer text. */
  onRenderError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * Turns a stream of growing text into edits at the platform's pace: never more than one render in
 * flight, always the newest text, and each render starting at least `intervalMs` after the
 * previous one reached the platform (counted from completion, so a render slowed down on the way
 * cannot make the next one arrive too soon). The first text goes out at once so the user sees the
 * answer begin; the final text keeps the pace too.
 */
export class EditPacer {
  readonly #options: PacerOptions;
  readonly #now: () => number;
  #latest = '';
  #sent = '';
  #lastDone = Number.NEGATIVE_INFINITY;
  #pendingSince: number | undefined;
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;
  readonly stats: PacerStats = { edits: 0, maxVisibleLagMs: 0, firstVisibleAt: undefined };

  constructor(options: PacerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Offers the full text so far. */
  push(text: string): void {
    if (this.#finished || text === this.#latest) return;
    this.#latest = text;
    this.#pendingSince ??= this.#now();
    this.#schedule();
  }

  /** Waits for any render in flight, then renders `text` as final. Rejects if that render fails. */
  async finish(text: string): Promise<void> {
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pendingSince ??= this.#now();
    await this.#inFlight;
    this.#latest = text;
    const wait = this.#wait();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await this.#send(text, true);
  }

  /** Stops rendering; a render already in flight completes on its own. */
  cancel(): void {
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#inFlight || this.#timer || this.#finished || this.#latest === this.#sent) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#finished) return;
      this.#inFlight = this.#send(this.#latest, false)
        .catch((err: unknown) => this.#options.onRenderError?.(err))
        .finally(() => {
          this.#inFlight = undefined;
          this.#schedule();
        });
    }, this.#wait());
  }

  /** How long until the next render may start. */
  #wait(): number {
    return Math.max(0, this.#lastDone + this.#options.intervalMs - this.#now());
  }

  async #send(text: string, final: boolean): Promise<void> {
    const pendingSince = this.#pendingSince;
    this.#pendingSince = undefined;
    this.#sent = text;
    try {
      await this.#options.render(text, final);
    } catch (err) {
      this.#lastDone = this.#now();
      // Not shown: make sure the next schedule tries again with whatever is newest.
      this.#sent = '';
      this.#pendingSince ??= pendingSince;
      throw err;
    }
    const done = this.#now();
    this.#lastDone = done;
    this.stats.edits += 1;
    this.stats.firstVisibleAt ??= done;
    if (pendingSince !== undefined) this.stats.maxVisibleLagMs = Math.max(this.stats.maxVisibleLagMs, done - pendingSince);
  }
}
