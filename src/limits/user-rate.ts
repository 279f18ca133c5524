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

  /**
   * Counts one message. Over the limit: how many seconds until the window ends, and whether this
   * is the window's first refusal (the only one worth a notice).
   */
  async hit(platform: string, userId: string, now = Date.now()): Promise<{ waitSeconds: number; firstRefusal: boolean }> {
    const windowMs = this.#windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const key = this.#keys.userRate(platform, userId, window);
    const [[, count] = []] = (await this.#redis.multi().incr(key).expire(key, this.#windowSeconds).exec()) ?? [];
    if (typeof count !== 'number' || count <= this.#max) return { waitSeconds: 0, firstRefusal: false };
    return { waitSeconds: Math.ceil(((window + 1) * windowMs - now) / 1000), firstRefusal: count === this.#max + 1 };
  }
}
