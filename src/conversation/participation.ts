import type { Keyspace, RedisConnection } from '../queue/redis.ts';

/**
 * The conversations the bot is part of: marked when someone addresses it there. Messages in them
 * that are not addressed to it are still scored for sentiment, and answered where a channel asks
 * for answers without a mention.
 */
export class Participation {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #ttlSeconds: number;

  constructor(redis: RedisConnection, keys: Keyspace, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
  }

  async mark(conversation: string): Promise<void> {
    await this.#redis.set(this.#keys.participating(conversation), '1', 'EX', this.#ttlSeconds);
  }

  async has(conversation: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.participating(conversation))) === 1;
  }
}
