import { setTimeout as sleep } from 'node:timers/promises';
import type { Participation } from './conversation/participation.ts';
import { conversationKey, type NewChatJob } from './jobs/chat-job.ts';
import type { RateVerdict, UserRateLimiter } from './limits/user-rate.ts';
import type { Logger } from './logger.ts';
import type { ChatEnqueuer } from './queue/chat-queue.ts';
import type { NewSentimentJob } from './sentiment/job.ts';
import type { SentimentIntake } from './sentiment/queue.ts';
import type { NoticeKind } from './surface.ts';
import { formatCount } from './text/count.ts';

const TIMED_OUT = Symbol('timed out');

export interface Notice {
  kind: NoticeKind;
  text: string;
}

/**
 * `rejected` carries the notice to show, or none when the user was already told (one rate-limit
 * notice per window, however many messages are refused in it).
 */
export type IntakeVerdict = { status: 'queued' | 'duplicate' } | { status: 'rejected'; notice: Notice | undefined };

/**
 * The event is not durably queued: the platform must not be told it was taken (answer it with an
 * error so it delivers the event again), and the user must not be told it worked.
 */
export class NotQueuedError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`event not queued: ${reason}`, options);
    this.name = 'NotQueuedError';
  }
}

export interface IntakePolicy {
  maxInputChars: number;
  allowedChannels: ReadonlySet<string>;
}

export interface IntakeDeps {
  policy: IntakePolicy;
  queue: Pick<ChatEnqueuer, 'claim' | 'refuse' | 'release' | 'enqueue'>;
  limiter: UserRateLimiter | undefined;
  participation: Participation;
  /** Absent when sentiment is switched off. */
  sentiment: Pick<SentimentIntake, 'fromChat' | 'observe'> | undefined;
  logger: Logger;
}

export interface SubmitOptions {
  /**
   * For platforms that redeliver what is not acknowledged in time: give up after this long (the
   * platform's own deadline less a margin), so it can be answered with an error and delivered
   * again. The intake may still complete afterwards; the event's claim makes the redelivery a
   * duplicate then, so nothing is answered twice.
   */
  deadlineMs?: number;
}

/**
 * The one door every inbound adapter uses. The event is claimed first, so a redelivery stops
 * before anything else (no second notice, no second count against the user's limit); then the
 * policies that do not depend on the platform (channel allow-list, input size cap, per-user rate
 * limit) and the queue. Resolves only once the job is durably queued (or refused); adapters
 * acknowledge the platform after that, and show the returned notice in their own way.
 */
export class Intake {
  readonly #deps: IntakeDeps;

  constructor(deps: IntakeDeps) {
    this.#deps = deps;
  }

  submit(job: NewChatJob, options: SubmitOptions = {}): Promise<IntakeVerdict> {
    return bounded(this.#takeIn(job), options.deadlineMs);
  }

  async #takeIn(job: NewChatJob): Promise<IntakeVerdict> {
    const { queue } = this.#deps;
    // A message the stateless policies refuse is not counted against its sender; one they let
    // through is counted by its claim, once, however often it is delivered.
    const refused = this.#refusal(job);
    const counter = refused ? undefined : this.#deps.limiter?.countFor(job.platform, job.userId);
    let claimed;
    try {
      claimed = await queue.claim(job.id, counter);
    } catch (err) {
      throw new NotQueuedError('could not claim the event', { cause: err });
    }
    if (claimed.claim === 'settled') return { status: 'duplicate' };
    if (claimed.claim === 'in_progress') throw new NotQueuedError('another delivery of this event is being taken in');
    let besides: Promise<unknown> | undefined;
    try {
      const refusal = refused ?? rateLimited(counter?.verdict(claimed.count ?? 0));
      if (refusal) {
        await queue.refuse(job.id);
        return { status: 'rejected', notice: refusal === 'already_told' ? undefined : refusal };
      }
      // Beside the queueing rather than after it (a round trip less before the platform is answered):
      // the bot was addressed there, and the person said it, whether or not the queue takes the job.
      // A redelivery classifies nothing twice: the sentiment job's id comes from the event's, and
      // the sentiment store folds each message in once.
      besides = Promise.all([
        job.kind !== 'dm' ? this.#sideStep(job, this.#deps.participation.mark(conversationKey(job))) : undefined,
        // An answer asked again is the same message: it was classified the first time.
        job.replaces === undefined ? this.#sideStep(job, this.#deps.sentiment?.fromChat(job)) : undefined,
      ]);
      await queue.enqueue(job);
    } catch (err) {
      // Nothing was queued: the platform's redelivery of this event must be taken in afresh.
      await queue.release(job.id).catch(() => undefined);
      throw new NotQueuedError('could not queue the job', { cause: err });
    }
    await besides;
    return { status: 'queued' };
  }

  /** A step beside the answer's queueing: its failure is logged, never an error for the platform or the user. */
  async #sideStep(job: NewChatJob, step: Promise<void> | undefined): Promise<void> {
    await step?.catch((err: unknown) => this.#deps.logger.warn({ err, jobId: job.id }, 'beside queueing a job'));
  }

  /** The policies that need no state: where the bot may answer, and what it can take. */
  #refusal(job: NewChatJob): Notice | undefined {
    const { allowedChannels, maxInputChars } = this.#deps.policy;
    if (job.kind !== 'dm' && allowedChannels.size > 0 && !allowedChannels.has(job.channelId)) {
      return { kind: 'channel_not_allowed', text: 'I’m not enabled in this channel. Ask an admin, or message me directly.' };
    }
    if (!job.text.trim()) return { kind: 'empty_input', text: 'Ask me something after the mention, and I’ll answer.' };
    if (job.text.length > maxInputChars) {
      return {
        kind: 'input_too_long',
        text: `That message is ${formatCount(job.text.length)} characters; I can take up to ${formatCount(maxInputChars)}. Could you shorten it?`,
      };
    }
    return undefined;
  }

  /** Whether the bot is part of a conversation (someone addressed it there). */
  participates(conversation: string): Promise<boolean> {
    return this.#deps.participation.has(conversation);
  }

  /**
   * A message not addressed to the bot in a conversation it may be part of: classified for the
   * conversation's sentiment when it is. Returns whether it was taken.
   */
  observe(job: NewSentimentJob, options: SubmitOptions = {}): Promise<boolean> {
    return bounded(this.#observe(job), options.deadlineMs);
  }

  async #observe(job: NewSentimentJob): Promise<boolean> {
    if (!this.#deps.sentiment || !(await this.participates(job.conversation))) return false;
    await this.#deps.sentiment.observe(job);
    return true;
  }
}

/** The per-user limit's refusal, if the sender is over it. */
function rateLimited(verdict: RateVerdict | undefined): Notice | 'already_told' | undefined {
  if (!verdict || verdict.waitSeconds === 0) return undefined;
  // One notice per window: a flood of refused messages must not become a flood of notices.
  if (!verdict.firstRefusal) return 'already_told';
  return {
    kind: 'user_rate_limited',
    text: `You’re sending messages faster than I can answer. Please try again in ${verdict.waitSeconds} s.`,
  };
}

/** `work`, or a NotQueuedError once `deadlineMs` has passed (the work itself goes on). */
async function bounded<T>(work: Promise<T>, deadlineMs: number | undefined): Promise<T> {
  if (deadlineMs === undefined) return work;
  work.catch(() => undefined); // reported through the race below, or too late to matter
  const first = await Promise.race([work, sleep(deadlineMs, TIMED_OUT, { ref: false })]);
  if (first === TIMED_OUT) throw new NotQueuedError(`Redis did not take it within ${deadlineMs} ms`);
  return first;
}
