import { Queue } from 'bullmq';
import { conversationKey, type NewChatJob } from '../jobs/chat-job.ts';
import { jobRetention, type RedisConnection } from '../queue/redis.ts';
import { SENTIMENT_JOB_VERSION, sentimentJobSchema, type NewSentimentJob, type SentimentJob } from './job.ts';

export const SENTIMENT_QUEUE = 'sentiment';

export type SentimentQueue = Queue<SentimentJob, unknown, 'classify'>;

export function createSentimentQueue(connection: RedisConnection, prefix: string, maxAttempts: number): SentimentQueue {
  return new Queue<SentimentJob, unknown, 'classify'>(SENTIMENT_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: jobRetention(maxAttempts, 24 * 3600),
  });
}

/** The sentiment job for a message the bot was asked to answer. */
export function sentimentJobForChat(chat: NewChatJob): NewSentimentJob {
  return {
    v: SENTIMENT_JOB_VERSION,
    id: `sentiment-${chat.id}`,
    platform: chat.platform,
    workspaceId: chat.workspaceId,
    channelId: chat.channelId,
    conversation: conversationKey(chat),
    // A mention's thread root carries the tag; DMs and slash-command exchanges have no root to tag.
    tagMessageId: chat.kind === 'mention' ? chat.threadId : undefined,
    messageId: chat.messageId ?? chat.id,
    userId: chat.userId,
    text: chat.text,
  };
}

/**
 * The gateway's side of sentiment: every message the bot answers is classified, and so is every
 * other message in a conversation the bot is part of (Intake decides which). Runs on its own
 * queue, so classification never delays an answer.
 */
export class SentimentIntake {
  readonly #queue: SentimentQueue;

  constructor(queue: SentimentQueue) {
    this.#queue = queue;
  }

  async fromChat(chat: NewChatJob): Promise<void> {
    await this.observe(sentimentJobForChat(chat));
  }

  async observe(input: NewSentimentJob): Promise<void> {
    const job = sentimentJobSchema.parse(input);
    await this.#queue.add('classify', job, { jobId: job.id });
  }
}
