import type { TestProject } from 'vitest/node';
import { ensureRedis } from '../../src/queue/local-redis.ts';

/**
 * Tests need a real Redis. Use REDIS_URL (default the local one); when nothing answers on a
 * loopback URL, start a throwaway redis-server for the run. Each test file then works under its
 * own key prefix, so runs and files never see each other's keys.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    const redis = await ensureRedis(url, { autostart: true });
    project.provide('redisUrl', redis.url);
    return async () => {
      await redis.stop?.();
    };
  } catch (err) {
    throw new Error(`The tests need Redis: ${(err as Error).message}`);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
