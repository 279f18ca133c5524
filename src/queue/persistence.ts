import type { RedisConnection } from './redis.ts';

/**
 * Why the Redis in use may lose queued work on a restart, or undefined when it persists: neither
 * the append-only file nor RDB snapshots on means a restart empties it (jobs, dedupe claims and
 * conversations gone). Servers that refuse CONFIG (many managed ones) cannot be checked; that is
 * said too, so nobody reads silence as "persistent".
 */
export async function redisPersistenceWarning(redis: RedisConnection): Promise<string | undefined> {
  let appendonly: string | undefined;
  let save: string | undefined;
  try {
    [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    [, save] = (await redis.config('GET', 'save')) as string[];
  } catch (err) {
    return `could not check whether Redis persists its data (CONFIG GET: ${err instanceof Error ? err.message : String(err)}); without AOF or RDB a Redis restart loses queued messages`;
  }
  if (appendonly === 'yes' || (save ?? '').trim() !== '') return undefined;
  return 'Redis has neither AOF nor RDB persistence on: a Redis restart loses queued messages and dedupe claims (set appendonly yes, appendfsync everysec)';
}
