import type { Keyspace } from '../queue/redis.ts';

/**
 * What one message's count says: over the limit, how many seconds until the window ends, and
 * whether it is the window's first refusal (the only one worth a notice).
 */
export interface RateVerdict {
  waitSeconds: number;
  firstRefusal: boolean;
}

/** Where one message is counted against its sender's window, and what the count means. */
export interface RateCount {
  key: string;
  /** How long the window's counter is kept. */
  ttlSeconds: number;
  verdict(count: number): RateVerdict;
}

/**
 * A fixed-window counter per user, shared by every gateway through Redis: simple, and exact
 * enough to stop one person flooding the model. The count itself is taken by the event's claim
 * (ChatEnqueuer.claim), in the same script, so a message is counted once, only when it is new,
 * without a round trip of its own.
 */
export class UserRateLimiter {
  readonly #keys: Keyspace;
  readonly #max: number;
  readonly #windowSeconds: number;

  constructor(keys: Keyspace, limit: { max: number; windowSeconds: number }) {
    this.#keys = keys;
    this.#max = limit.max;
    this.#windowSeconds = limit.windowSeconds;
  }

  /** The window a message sent `now` counts in. */
  countFor(platform: string, userId: string, now = Date.now()): RateCount {
    const windowMs = this.#windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    return {
      key: this.#keys.userRate(platform, userId, window),
      ttlSeconds: this.#windowSeconds,
      verdict: (count) => {
        if (count <= this.#max) return { waitSeconds: 0, firstRefusal: false };
        return { waitSeconds: Math.ceil(((window + 1) * windowMs - now) / 1000), firstRefusal: count === this.#max + 1 };
      },
    };
  }
}
