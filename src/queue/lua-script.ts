import { createHash } from 'node:crypto';
import type { RedisConnection } from './redis.ts';

/** Redis's answer to EVALSHA for a script it does not hold (a restart, a failover, SCRIPT FLUSH). */
const NOSCRIPT = 'NOSCRIPT';

/**
 * A Lua script of our own, run by its SHA1 (EVALSHA), its body sent only when Redis does not hold
 * it yet. With EVAL, each call would write the whole body and have Redis hash it again.
 *
 * Not ioredis's `defineCommand`, which does the same: it adds the script to the connection, and
 * ioredis copies every script of a connection onto each pipeline it builds, which every
 * auto-pipelined batch of reads and writes would pay for (see createRedis).
 */
export class LuaScript {
  readonly #body: string;
  readonly #sha: string;

  constructor(body: string) {
    this.#body = body;
    this.#sha = createHash('sha1').update(body).digest('hex');
  }

  async run(redis: RedisConnection, keys: readonly string[], args: ReadonlyArray<string | number> = []): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith(NOSCRIPT))) throw err;
      return redis.eval(this.#body, keys.length, ...keys, ...args);
    }
  }
}
