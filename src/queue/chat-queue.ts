import { Queue } from 'bullmq';
import { chatJobSchema, conversationKey, type ChatJob, type NewChatJob } from '../jobs/chat-job.ts';
import type { ConversationOrder } from '../conversation/order.ts';
import { LuaScript } from './lua-script.ts';
import { jobRetention, type Keyspace, type RedisConnection } from './redis.ts';

export const CHAT_QUEUE = 'chat';
/** How long an event id is remembered, so a platform's redelivery is never answered twice. */
const SEEN_EVENT_TTL_SECONDS = 24 * 3600;
/**
 * How long a claim stays "pending" without an outcome. A gateway that dies mid-intake leaves its
 * claim behind; the platform's next redelivery (a minute or more later) finds it
 * expired and takes the event in afresh.
 */
const PENDING_CLAIM_TTL_SECONDS = 30;

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
 * What a claim found: a new event (now pending, this caller's to take in), one already settled
 * (queued or refused: a redelivery, answered with success and nothing else), or one another
 * intake is still taking in (answered with an error, so the platform delivers it again later).
 */
export type Claim = 'new' | 'settled' | 'in_progress';

/**
 * KEYS[1]: BullMQ's deduplication key for the event (set by the same script that adds the job),
 * KEYS[2]: our claim, KEYS[3] (optional): the sender's rate counter, counted only for a new event.
 * ARGV[1]: pending TTL in seconds, ARGV[2]: the counter's TTL in seconds (unread without one).
 * Returns the claim, or for a new event with a counter, the count.
 */
const CLAIM_SCRIPT = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'queued' end
local current = redis.call('GET', KEYS[2])
if current then return current end
redis.call('SET', KEYS[2], 'pending', 'EX', ARGV[1])
if not KEYS[3] then return 'new' end
local count = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return count`);

/** A claim, and for a new event claimed with a rate counter, its count. */
export interface ClaimResult {
  claim: Claim;
  count?: number;
}

export interface ChatEnqueuerDeps {
  queue: ChatQueue;
  /** The connection `queue` was created with. */
  queueConnection: RedisConnection;
  /** Our own keys' connection (the claims). */
  redis: RedisConnection;
  keys: Keyspace;
  order: ConversationOrder;
}

/**
 * The gateway's side of the chat queue. An event is claimed by its id before anything else, so a
 * platform's redelivery stops there whatever the first delivery's outcome was. Queued is marked by
 * BullMQ's own deduplication key, written by the script that adds the job: the mark and the job
 * exist together or not at all, so no crash can leave an event marked as taken and never queued.
 */
export class ChatEnqueuer {
  readonly #deps: ChatEnqueuerDeps;

  constructor(deps: ChatEnqueuerDeps) {
    this.#deps = deps;
  }

  /**
   * Claims the event; with `counter`, a new event is also counted against its sender's rate
   * counter in the same script (a redelivery is not counted again, and the count costs no round
   * trip of its own).
   */
  async claim(eventId: string, counter?: { key: string; ttlSeconds: number }): Promise<ClaimResult> {
    const { redis, keys } = this.#deps;
    const claimKeys = [this.#queuedKey(eventId), keys.seenEvent(eventId), ...(counter ? [counter.key] : [])];
    const found = await CLAIM_SCRIPT.run(redis, claimKeys, [PENDING_CLAIM_TTL_SECONDS, counter?.ttlSeconds ?? 0]);
    if (typeof found === 'number') return { claim: 'new', count: found };
    if (found === 'new') return { claim: 'new' };
    return { claim: found === 'pending' ? 'in_progress' : 'settled' };
  }

  /** The event was refused (with a notice): a redelivery is settled too, and shows no second notice. */
  async refuse(eventId: string): Promise<void> {
    const { redis, keys } = this.#deps;
    await redis.set(keys.seenEvent(eventId), 'refused', 'EX', SEEN_EVENT_TTL_SECONDS);
  }

  /** The claim is given up (nothing was queued): the platform's redelivery is taken in afresh. */
  async release(eventId: string): Promise<void> {
    const { redis, keys } = this.#deps;
    await redis.del(keys.seenEvent(eventId));
  }

  /**
   * Queues a claimed event. The claim's pending mark is left to expire: BullMQ's deduplication key,
   * which the claim reads first, answers for the event from now on.
   */
  async enqueue(input: NewChatJob): Promise<void> {
    const job = chatJobSchema.parse(input);
    const { queue, queueConnection, order } = this.#deps;
    // In line before a worker can see the job: sent first on the queue's own connection, so the
    // two go out together and Redis runs them in that order (one round trip, not two).
    const entered = order.enter(conversationKey(job), job.id, queueConnection);
    const added = queue.add('chat', job, { jobId: job.id, deduplication: { id: job.id, ttl: SEEN_EVENT_TTL_SECONDS * 1000 } });
    await Promise.all([entered, added]);
  }

  /** BullMQ's deduplication key (`<prefix>:chat:de:<id>`), as its add script names it. */
  #queuedKey(eventId: string): string {
    return this.#deps.queue.toKey(`de:${eventId}`);
  }
}
