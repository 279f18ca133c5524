import { Queue } from 'bullmq';
import { chatJobSchema, conversationKey, type ChatJob, type NewChatJob } from '../jobs/chat-job.ts';
import type { ConversationOrder } from '../conversation/order.ts';
import { jobRetention, type Keyspace, type RedisConnection } from './redis.ts';

export const CHAT_QUEUE = 'chat';
/** How long an event id is remembered, so a platform's redelivery is never answered twice. */
const SEEN_EVENT_TTL_SECONDS = 24 * 3600;

export type ChatQueue = Queue<ChatJob, unknown, 'chat'>;

export function createChatQueue(connection: RedisConnection, prefix: string, maxAttempts: number): ChatQueue {
  return new Queue<ChatJob, unknown, 'chat'>(CHAT_QUEUE, {
    connection,
    prefix,
    // A failed answer is worth a week of looking into.
    defaultJobOptions: jobRetention(maxAttempts, 7 * 24 * 3600),
  });
}

/**
 * The gateway's side of the chat queue. An inbound event is first claimed by its id, so a
 * platform's redelivery stops there; the job then takes its place in its conversation's order and
 * is queued under that same id.
 */
export class ChatEnqueuer {
  readonly #deps: { queue: ChatQueue; redis: RedisConnection; keys: Keyspace; order: ConversationOrder };

  constructor(deps: { queue: ChatQueue; redis: RedisConnection; keys: Keyspace; order: ConversationOrder }) {
    this.#deps = deps;
  }

  /** True the first time an event id is seen (within a day). */
  async claim(jobId: string): Promise<boolean> {
    const { redis, keys } = this.#deps;
    return (await redis.set(keys.seenEvent(jobId), '1', 'EX', SEEN_EVENT_TTL_SECONDS, 'NX')) === 'OK';
  }

  async enqueue(input: NewChatJob): Promise<void> {
    const job = chatJobSchema.parse(input);
    const { queue, redis, keys, order } = this.#deps;
    try {
      await order.enter(conversationKey(job), job.id);
      await queue.add('chat', job, { jobId: job.id });
    } catch (err) {
      // Not queued: release the claim so the platform's redelivery of this event gets its answer.
      await redis.del(keys.seenEvent(job.id)).catch(() => undefined);
      throw err;
    }
  }
}
