import type { Keyspace, RedisConnection } from '../queue/redis.ts';

/** A job that no longer needs its turn: gone from the queue, or finished. */
const SETTLED_STATES = new Set(['unknown', 'completed', 'failed']);
const ORDER_TTL_SECONDS = 24 * 3600;

/**
 * Answers the messages of one conversation in the order they were sent, while different
 * conversations run in parallel. Each conversation keeps a Redis list of its job ids in arrival
 * order; a job may run only when it is at the head. A head whose job has settled or vanished is
 * dropped, so a lost job can never block its conversation.
 */
export class ConversationOrder {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #stateOf: (jobId: string) => Promise<string>;

  constructor(redis: RedisConnection, keys: Keyspace, stateOf: (jobId: string) => Promise<string>) {
    this.#redis = redis;
    this.#keys = keys;
    this.#stateOf = stateOf;
  }

  /**
   * Puts `jobId` at the end of its conversation's line. `connection`: the one the job is then
   * queued on, if not this order's own; Redis runs one connection's commands in the order they
   * were sent, so the job is in line before a worker can take it without waiting for this first.
   *
   * Two commands in one auto-pipelined batch, not a MULTI: ioredis builds a MULTI as a pipeline,
   * which on the queue's connection copies BullMQ's scripts. Were Redis to stop between the two,
   * the line would lack its expiry until the conversation's next message sets it.
   */
  async enter(conversation: string, jobId: string, connection: RedisConnection = this.#redis): Promise<void> {
    const key = this.#keys.order(conversation);
    await Promise.all([connection.rpush(key, jobId), connection.expire(key, ORDER_TTL_SECONDS)]);
  }

  /** True when `jobId` may run now. */
  async isTurnOf(conversation: string, jobId: string): Promise<boolean> {
    const key = this.#keys.order(conversation);
    for (;;) {
      const head = await this.#redis.lindex(key, 0);
      if (head === null || head === jobId) return true;
      if (!SETTLED_STATES.has(await this.#stateOf(head))) {
        // The head is still to be answered, unless this job is not in the list at all (expired).
        return (await this.#redis.lpos(key, jobId)) === null;
      }
      await this.#redis.lrem(key, 1, head);
    }
  }

  /** The job answering the conversation now, or next: the head of its order. */
  async current(conversation: string): Promise<string | undefined> {
    return (await this.#redis.lindex(this.#keys.order(conversation), 0)) ?? undefined;
  }

  async leave(conversation: string, jobId: string): Promise<void> {
    await this.#redis.lrem(this.#keys.order(conversation), 1, jobId);
  }
}
