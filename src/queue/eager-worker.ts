import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';

/** The most fetches beside the main one while jobs are waiting (one auto-pipelined round trip carries them). */
const SIDE_FETCHERS = 32;

/**
 * Fetches that come back empty at once after a job, rate limit or not: the one that finds the
 * queue drained (BullMQ blocks only after that), and the one woken by the marker BullMQ leaves
 * whenever it takes a job, so that other workers look too. One more empty fetch in a row asks the
 * queue for its rate limit (BullMQ answers a limited fetch at once and keeps the deadline to
 * itself): asking sooner would delay the wait for the next message by a round trip.
 */
const EMPTY_FETCHES_AFTER_A_JOB = 2;

/**
 * A BullMQ worker that starts each job as soon as it is taken. BullMQ's own loop takes jobs one
 * after another and starts none until it has taken all it may, so when a hundred conversations
 * write at once the first waits for the hundredth. This loop keeps BullMQ's job life cycle
 * (`processJob`: locks, completion, retries, delays, rate-limit errors, cancellation, events) and
 * replaces only the taking: one blocking fetch while the queue is empty, then fetches side by side
 * while jobs are waiting, each job started the moment it is taken. The side fetches double with
 * each round trip that finds jobs, up to SIDE_FETCHERS, so a burst is taken in a few round trips
 * while a lone message costs one empty fetch, not one per free slot. A
 * finished job takes its successor in the same call that completes it, as in BullMQ's loop.
 *
 * It never runs by itself (BullMQ's constructor would call `run()` before this class's fields
 * exist): call `run()` once it is constructed.
 */
export class EagerWorker<Data, Result> extends Worker<Data, Result> {
  /** One promise per busy slot: the job it runs, then any successor taken on completion. */
  readonly #slots = new Set<Promise<void>>();
  /** Fetches in flight: each may fill a slot, so they count against the concurrency. */
  #taking = 0;
  /** The fetchers taking jobs beside the loop's own fetch while a burst waits. */
  readonly #sideFetchers = new Set<Promise<void>>();
  #tokenPostfix = 0;
  /** Ends a rate-limit wait when the worker closes. */
  readonly #closed = new AbortController();

  constructor(name: string, processor: Processor<Data, Result>, options: WorkerOptions) {
    super(name, processor, { ...options, autorun: false });
    this.once('closing', () => this.#closed.abort());
  }

  /** Mirrors `Worker.run` (stalled checker, lock renewal, `mainLoopRunning` for `close`), with its own loop. */
  override async run(): Promise<void> {
    if (this.running) throw new Error('Worker is already running.');
    this.running = true;
    try {
      if (this.closing || this.paused) return;
      await this.startStalledCheckTimer();
      if (!this.opts.skipLockRenewal) this.lockManager.start();
      this.mainLoopRunning = this.#loop();
      await this.mainLoopRunning;
    } finally {
      this.running = false;
    }
  }

  async #loop(): Promise<void> {
    let emptyInARow = 0;
    while (!this.closing && !this.paused) {
      if (!this.#hasFreeSlot()) {
        // A slot frees when its job ends, or when a fetcher holding it comes back empty.
        await Promise.race([...this.#slots, ...this.#sideFetchers]);
        continue;
      }
      // Blocks while the queue is empty (BullMQ's marker wait); comes back empty when rate-limited,
      // when the wait times out, or closing.
      if (!(await this.#takeAndStart(true))) {
        emptyInARow += 1;
        if (emptyInARow > EMPTY_FETCHES_AFTER_A_JOB) await this.#waitOutRateLimit();
        continue;
      }
      emptyInARow = 0;
      // Jobs may be waiting behind this one. The loop does not wait for the fetcher.
      this.#addSideFetcher();
    }
    // A fetch still in flight may start one more job: wait for the fetchers, then for every job.
    await Promise.all(this.#sideFetchers);
    await Promise.all(this.#slots);
  }

  #addSideFetcher(): void {
    if (this.#sideFetchers.size >= SIDE_FETCHERS || !this.#hasFreeSlot()) return;
    const fetcher = this.#takeWhileWaiting().finally(() => this.#sideFetchers.delete(fetcher));
    this.#sideFetchers.add(fetcher);
  }

  /** Takes and starts jobs until none is waiting or every slot is busy; each job found adds a fetcher. */
  async #takeWhileWaiting(): Promise<void> {
    while (!this.closing && !this.paused && this.#hasFreeSlot()) {
      if (!(await this.#takeAndStart(false))) return;
      this.#addSideFetcher();
    }
  }

  /** Takes the next job and starts it; the slot stays reserved until it is filled, so no fetch overshoots. */
  async #takeAndStart(block: boolean): Promise<boolean> {
    this.#taking += 1;
    let job: Job<Data, Result> | undefined;
    try {
      job = await this.getNextJob(`${this.id}:${this.#tokenPostfix++}`, { block });
    } catch (err) {
      // As BullMQ's loop does: report, wait, go on (a lost connection comes back by itself). The
      // wait holds no slot.
      this.#taking -= 1;
      this.emit('error', toError(err));
      await sleep(this.opts.runRetryDelay ?? 15_000, undefined, { signal: this.#closed.signal }).catch(() => undefined);
      return false;
    }
    this.#taking -= 1;
    if (!job) return false;
    this.#start(job);
    return true;
  }

  #hasFreeSlot(): boolean {
    return this.#slots.size + this.#taking < this.concurrency;
  }

  #start(first: Job<Data, Result>): void {
    const slot = (async () => {
      let job: Job<Data, Result> | undefined = first;
      while (job) {
        // processJob settles the job (and reports its own errors); it returns the successor it took, if any.
        const successor: Job<Data, Result> | void = await this.processJob(job, job.token ?? '');
        job = successor ?? undefined;
      }
    })()
      .catch((err: unknown) => {
        this.emit('error', toError(err));
      })
      .finally(() => this.#slots.delete(slot));
    this.#slots.add(slot);
  }

  /**
   * The loop's fetch came back empty: its wait timed out, or the queue is rate-limited (a 429 or
   * the configured limiter), which BullMQ answers at once. BullMQ keeps that deadline to itself;
   * the queue's limiter key says it too.
   */
  async #waitOutRateLimit(): Promise<void> {
    if (this.closing || this.paused) return;
    const ttlMs = await this.backend.getRateLimitTtl(this.opts.limiter?.max).catch(() => 0);
    if (ttlMs <= 0) return;
    const waitMs = Math.min(ttlMs, this.opts.maximumRateLimitDelay ?? 30_000);
    await sleep(waitMs, undefined, { signal: this.#closed.signal }).catch(() => undefined);
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
