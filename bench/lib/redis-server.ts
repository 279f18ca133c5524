/**
 * A private redis-server for the bench and the soak: on its own port, so a run never touches the
 * shared Redis other tests use, and the soak can stop and restart it at will. Without persistence
 * by default (the bench); with `appendonly`, an append-only file in a temporary folder, fsynced
 * every second as deployments run it, kept across `down()` and `up()`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durableRedisArgs, redisAnswers } from '../../src/queue/local-redis.ts';
import { sleep } from './clock.ts';
import { freePort, spawnManaged, type ManagedProcess } from './procs.ts';

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** The current redis-server process (a new one after `down()` and `up()`). */
  readonly process: ManagedProcess;
  /** Crashes of any of its processes (an exit the runner did not ask for). */
  readonly crashes: number;
  /** Stops the server (SIGTERM: with `appendonly`, the file is flushed first; else everything is gone). */
  down(): Promise<void>;
  /** Starts the server again on the same port (from its append-only file, or empty). */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export function redisServerBinary(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

export async function startPrivateRedis(options: { port?: number; appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const binary = redisServerBinary();
  if (!binary) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const port = options.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const dataDir = options.appendonly ? mkdtempSync(join(tmpdir(), 'hfbot-redis-')) : undefined;
  // With a file: exactly as the service runs its own redis-server.
  const persistence = dataDir ? durableRedisArgs(dataDir) : ['--save', '', '--appendonly', 'no'];
  let crashes = 0;

  const launch = async (): Promise<ManagedProcess> => {
    const proc = spawnManaged({
      name: 'redis-server',
      command: binary,
      args: ['--port', String(port), '--bind', '127.0.0.1', ...persistence, '--protected-mode', 'no'],
      env: {},
      onCrash: () => {
        crashes += 1;
      },
    });
    for (let tries = 0; tries < 100; tries++) {
      if (await redisAnswers(url)) return proc;
      if (!proc.running) break;
      await sleep(50);
    }
    await proc.kill9();
    throw new Error(`redis-server on port ${port} never answered:\n${proc.output()}`);
  };

  let current = await launch();
  return {
    url,
    port,
    get process() {
      return current;
    },
    get crashes() {
      return crashes;
    },
    async down() {
      await current.stop(5_000);
    },
    async up() {
      if (!current.running) current = await launch();
    },
    async stop() {
      await current.stop(5_000);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
