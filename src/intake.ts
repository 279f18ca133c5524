import type { Participation } from './conversation/participation.ts';
import { conversationKey, type NewChatJob } from './jobs/chat-job.ts';
import type { UserRateLimiter } from './limits/user-rate.ts';
import type { Logger } from './logger.ts';
import type { ChatEnqueuer } from './queue/chat-queue.ts';
import type { NewSentimentJob } from './sentiment/job.ts';
import type { SentimentIntake } from './sentiment/queue.ts';
import type { NoticeKind } from './surface.ts';

export type IntakeVerdict =
  | { status: 'queued' | 'duplicate' }
  | { status: 'rejected'; notice: { kind: NoticeKind; text: string } };

export interface IntakePolicy {
  maxInputChars: number;
  allowedChannels: ReadonlySet<string>;
}

export interface IntakeDeps {
  policy: IntakePolicy;
  queue: Pick<ChatEnqueuer, 'claim' | 'enqueue'>;
  limiter: UserRateLimiter | undefined;
  participation: Participation;
  /** Absent when sentiment is switched off. */
  sentiment: Pick<SentimentIntake, 'fromChat' | 'observe'> | undefined;
  logger: Logger;
}

/**
 * The one door every inbound adapter uses: the policies that do not depend on the platform
 * (channel allow-list, input size cap), the event's claim (a redelivery stops here, before it
 * could count against the user's limit or show a notice twice), the per-user rate limit, then the
 * queue. Adapters show the returned notice in their own way.
 */
export class Intake {
  readonly #deps: IntakeDeps;

  constructor(deps: IntakeDeps) {
    this.#deps = deps;
  }

  async submit(job: NewChatJob): Promise<IntakeVerdict> {
    const { allowedChannels, maxInputChars } = this.#deps.policy;
    if (job.kind !== 'dm' && allowedChannels.size > 0 && !allowedChannels.has(job.channelId)) {
      return {
        status: 'rejected',
        notice: { kind: 'channel_not_allowed', text: 'I’m not enabled in this channel. Ask an admin, or message me directly.' },
      };
    }
    if (!job.text.trim()) {
      return { status: 'rejected', notice: { kind: 'empty_input', text: 'Ask me something after the mention, and I’ll answer.' } };
    }
    if (job.text.length > maxInputChars) {
      return {
        status: 'rejected',
        notice: {
          kind: 'input_too_long',
          text: `That message is ${job.text.length.toLocaleString('en')} characters; I can take up to ${maxInputChars.toLocaleString('en')}. Could you shorten it?`,
        },
      };
    }
    if (!(await this.#deps.queue.claim(job.id))) return { status: 'duplicate' };
    const waitSeconds = (await this.#deps.limiter?.hit(job.platform, job.userId)) ?? 0;
    if (waitSeconds > 0) {
      return {
        status: 'rejected',
        notice: {
          kind: 'user_rate_limited',
          text: `You’re sending messages faster than I can answer. Please try again in ${waitSeconds} s.`,
        },
      };
    }
    await this.#deps.queue.enqueue(job);
    if (job.kind !== 'dm') await this.#deps.participation.mark(conversationKey(job));
    // The answer is queued; losing its sentiment score must not turn into an error for the user.
    await this.#deps.sentiment?.fromChat(job).catch((err: unknown) => this.#deps.logger.warn({ err, jobId: job.id }, 'could not queue sentiment'));
    return { status: 'queued' };
  }

  /** Whether the bot is part of a conversation (someone addressed it there). */
  participates(conversation: string): Promise<boolean> {
    return this.#deps.participation.has(conversation);
  }

  /**
   * A message not addressed to the bot in a conversation it may be part of: classified for the
   * conversation's sentiment when it is. Returns whether it was taken.
   */
  async observe(job: NewSentimentJob): Promise<boolean> {
    if (!this.#deps.sentiment || !(await this.participates(job.conversation))) return false;
    await this.#deps.sentiment.observe(job);
    return true;
  }
}
