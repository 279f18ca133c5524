import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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

const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);

/**
 * Makes sure Redis answers at `url`. On a developer's machine with nothing listening on a loopback
 * URL, starts a throwaway `redis-server` (no persistence) for the life of this process.
 */
export async function ensureRedis(url: string, options: { autostart: boolean }): Promise<RedisAvailability> {
  if (await redisAnswers(url)) return { url };
  const parsed = new URL(url);
  if (!options.autostart || !isLoopback(parsed.hostname)) {
    throw new Error(`Redis is not reachable at ${parsed.host}. Start it, or point REDIS_URL at one.`);
  }
  const port = parsed.port || '6379';
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([err]) => Promise.reject(err))]);
  } catch {
    throw new Error(
      `Redis is not reachable at ${parsed.host} and redis-server is not installed to start one ` +
        `(apt-get install redis-server, or docker compose up redis).`,
    );
  }
  for (let tries = 0; tries < 50; tries++) {
    if (await redisAnswers(url)) {
      return {
        url,
        stop: async () => {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await once(child, 'exit');
          }
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`started redis-server on port ${port}, but it never answered`);
}
