import type { Keyspace, RedisConnection } from '../queue/redis.ts';

/**
 * Which conversation each of the bot's answer messages belongs to. Where replying to an answer
 * continues a conversation (reply chains), the gateway looks the replied-to message up
 * here, so every message of one chain lands in the same conversation: one order, one history, one
 * sentiment.
 */
export class ReplyIndex {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #ttlSeconds: number;

  constructor(redis: RedisConnection, keys: Keyspace, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
  }

  async remember(platform: string, messageIds: readonly string[], threadId: string): Promise<void> {
    // Independent keys: no transaction (one SET is mostly all there is, and a cluster would refuse
    // a MULTI across slots); auto-pipelining sends them in one round trip.
    await Promise.all(messageIds.map((id) => this.#redis.set(this.#keys.replyThread(platform, id), threadId, 'EX', this.#ttlSeconds)));
  }

  async threadOf(platform: string, messageId: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#keys.replyThread(platform, messageId))) ?? undefined;
  }
}
