import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisAvailability {
  url: string;
  /** Set when this process started redis-server itself; stops it. */
  stop?: () => Promise<void>;
}

/** Whether a Redis answers PING at `url` right now (no retries). */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * How long a process waits for a Redis it does not start itself (a restart or failover in
 * progress) before it gives up starting: a worker replaced during an outage comes up with Redis.
 */
const EXTERNAL_REDIS_WAIT_MS = 30_000;

const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);

/** The one prerequisite, and the usual ways to meet it: said whenever Redis cannot be had. */
export const REDIS_INSTALL_HINT =
  'hfbot needs Redis 6.2+: run one and point REDIS_URL at it, or install redis-server so hfbot starts its own ' +
  '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), ' +
  'or run it in Docker (docker compose up -d redis).';

/**
 * How the private redis-server keeps its data: the append-only file fsynced every second in
 * `dataDir` (a crash of the machine loses at most the last second; a restart on the same directory
 * gets the queued jobs back), no RDB snapshots, and `noeviction` as BullMQ requires.
 */
export function durableRedisArgs(dataDir: string): string[] {
  return [
    '--dir', dataDir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
  ];
}

/**
 * Makes sure Redis answers at `url`. On a developer's machine with nothing listening on a loopback
 * URL, starts a private `redis-server` for the life of this process, persisting to `dataDir`
 * (created when missing; what an earlier run left there is loaded back).
 */
export async function ensureRedis(
  url: string,
  options: { autostart: boolean; dataDir: string; waitMs?: number },
): Promise<RedisAvailability> {
  if (await redisAnswers(url)) return { url };
  const parsed = new URL(url);
  if (!options.autostart || !isLoopback(parsed.hostname)) {
    for (const deadline = Date.now() + (options.waitMs ?? EXTERNAL_REDIS_WAIT_MS); Date.now() < deadline; ) {
      await sleep(500);
      if (await redisAnswers(url)) return { url };
    }
    throw new Error(`Redis is not reachable at ${parsed.host}. ${REDIS_INSTALL_HINT}`);
  }
  const port = parsed.port || '6379';
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let child: ChildProcess;
  let output = '';
  try {
    child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', ...durableRedisArgs(dataDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([err]) => Promise.reject(err))]);
  } catch {
    throw new Error(`Redis is not reachable at ${parsed.host}, and redis-server is not installed to start one. ${REDIS_INSTALL_HINT}`);
  }
  // Kept for the error below (e.g. an append-only file it cannot load); bounded.
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  for (let tries = 0; tries < 100 && child.exitCode === null; tries++) {
    if (await redisAnswers(url)) {
      return {
        url,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            await once(child, 'exit');
          }
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`started redis-server on port ${port} (data in ${dataDir}), but it never answered:\n${output.trim()}`);
}
