import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { chatJobSchema, conversationKey, type ChatJob, type NewChatJob } from '../jobs/chat-job.ts';
import type { ConversationOrder } from '../conversation/order.ts';
import type { Keyspace } from './redis.ts';

export const CHAT_QUEUE = 'chat';
/** How long an event id is remembered, so a platform's redelivery is never answered twice. */
const SEEN_EVENT_TTL_SECONDS = 24 * 3600;

export type ChatQueue = Queue<ChatJob, unknown, 'chat'>;

export function createChatQueue(connection: Redis, prefix: string, maxAttempts: number): ChatQueue {
  return new Queue<ChatJob, unknown, 'chat'>(CHAT_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: maxAttempts,
      backoff: { type: 'jittered' },
      removeOnComplete: { age: 3600, count: 5000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

export type EnqueueResult = 'queued' | 'duplicate';

/**
 * Puts one inbound event on the chat queue, once. The event id is claimed first (a redelivered
 * event stops there), then the job takes its place in its conversation's order, then it is queued.
 */
export async function enqueueChat(
  deps: { queue: ChatQueue; redis: Redis; keys: Keyspace; order: ConversationOrder },
  input: NewChatJob,
): Promise<EnqueueResult> {
  const job = chatJobSchema.parse(input);
  const claimed = await deps.redis.set(deps.keys.seenEvent(job.id), '1', 'EX', SEEN_EVENT_TTL_SECONDS, 'NX');
  if (claimed !== 'OK') return 'duplicate';
  try {
    await deps.order.enter(conversationKey(job), job.id);
    await deps.queue.add('chat', job, { jobId: job.id });
  } catch (err) {
    // Not queued: release the claim so the platform's redelivery of this event gets its answer.
    await deps.redis.del(deps.keys.seenEvent(job.id)).catch(() => undefined);
    throw err;
  }
  return 'queued';
}
