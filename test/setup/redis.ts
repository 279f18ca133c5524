import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureRedis } from '../../src/queue/local-redis.ts';

/**
 * Tests need a real Redis. Use REDIS_URL (default the local one); when nothing answers on a
 * loopback URL, start a redis-server for the run (its data in a temporary directory, removed
 * afterwards). Each test file then works under its own key prefix, so runs and files never see
 * each other's keys.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dataDir = mkdtempSync(join(tmpdir(), 'hfbot-test-redis-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    const redis = await ensureRedis(url, { autostart: true, dataDir });
    project.provide('redisUrl', redis.url);
    if (!redis.stop) removeDataDir();
    return async () => {
      await redis.stop?.();
      removeDataDir();
    };
  } catch (err) {
    removeDataDir();
    throw new Error(`The tests need Redis: ${(err as Error).message}`);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
