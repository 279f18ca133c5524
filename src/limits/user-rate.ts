import type { Keyspace, RedisConnection } from '../queue/redis.ts';

/**
 * A fixed-window counter per user, shared by every gateway through Redis: simple, and exact
 * enough to stop one person flooding the model.
 */
export class UserRateLimiter {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #max: number;
  readonly #windowSeconds: number;

  constructor(redis: RedisConnection, keys: Keyspace, limit: { max: number; windowSeconds: number }) {
    this.#redis = redis;
    this.#keys = keys;
    this.#max = limit.max;
    this.#windowSeconds = limit.windowSeconds;
  }

  /** Counts one message; returns how many seconds to wait if it is over the limit, else 0. */
  async hit(platform: string, userId: string, now = Date.now()): Promise<number> {
    const windowMs = this.#windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const key = this.#keys.userRate(platform, userId, window);
    const [[, count] = []] = (await this.#redis.multi().incr(key).expire(key, this.#windowSeconds).exec()) ?? [];
    if (typeof count !== 'number' || count <= this.#max) return 0;
    return Math.ceil(((window + 1) * windowMs - now) / 1000);
  }
}
