import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/lib/procs.ts';
import { createChatQueue } from '../../src/queue/chat-queue.ts';
import { ensureRedis, type RedisAvailability } from '../../src/queue/local-redis.ts';
import { createRedis } from '../../src/queue/redis.ts';

const dirs: string[] = [];
const started: RedisAvailability[] = [];
const tempDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `hfbot-${name}-`));
  dirs.push(dir);
  return dir;
};

afterAll(async () => {
  for (const redis of started) await redis.stop?.();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const job = {
  v: 1 as const,
  id: 'slack-ev-Persisted1',
  platform: 'slack',
  kind: 'mention' as const,
  workspaceId: 'T1',
  channelId: 'C1',
  userId: 'U1',
  text: 'still there after a restart?',
  receivedAt: 1_700_000_000_000,
  reply: { channelId: 'C1' },
  fetchThreadContext: false,
  attachments: [],
  progress: { messageIds: [], loadingWaitMs: 0, rateLimitWaitMs: 0 },
};

describe('the autostarted redis-server', () => {
  it('keeps an append-only file in its data directory, and a queued job survives a restart on it', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const dataDir = join(tempDir('redis-data'), 'nested', '.redis');
    const first = await ensureRedis(url, { autostart: true, dataDir });
    started.push(first);
    expect(first.stop).toBeDefined();

    const admin = new Redis(url);
    expect(await admin.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await admin.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await admin.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await admin.config('GET', 'dir')).toEqual(['dir', dataDir]);
    admin.disconnect();

    const connection = createRedis(url, 'test');
    const queue = createChatQueue(connection, 'persist', 3);
    await queue.add('chat', job, { jobId: job.id });
    await queue.close();
    await connection.quit();
    await first.stop?.();
    expect(await ensureRedis(url, { autostart: false, dataDir, waitMs: 600 }).catch((err: Error) => err.message)).toMatch(/not reachable/);
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);

    // A later start finds the previous run's directory and loads it back.
    const second = await ensureRedis(url, { autostart: true, dataDir });
    started.push(second);
    const again = createRedis(url, 'test');
    const reopened = createChatQueue(again, 'persist', 3);
    const restored = await reopened.getJob(job.id);
    expect(restored?.data.text).toBe(job.text);
    expect(await reopened.getJobState(job.id)).toBe('waiting');
    await reopened.close();
    await again.quit();
  });
});

describe('without Redis', () => {
  it('npm start says what it needs and the usual ways to get it, when redis-server is not installed', async () => {
    // A PATH with node and npm only: no redis-server anywhere on it.
    const bin = tempDir('path');
    const nodeBin = join(process.cwd(), 'node_modules/.bin/node');
    symlinkSync(existsSync(nodeBin) ? nodeBin : process.execPath, join(bin, 'node'));
    const npm = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'npm')).find((path) => existsSync(path));
    symlinkSync(realpathSync(npm ?? 'npm'), join(bin, 'npm'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const port = await freePort();
    const child = spawn('npm', ['start'], {
      cwd: process.cwd(),
      env: { PATH: bin, HOME: tempDir('home'), REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_DATA_DIR: join(tempDir('unused'), 'data'), PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, output).not.toBe(0);
    expect(output).toContain(`Redis is not reachable at 127.0.0.1:${port}, and redis-server is not installed`);
    expect(output).toContain('Redis 6.2+');
    expect(output).toContain('apt-get install redis-server');
    expect(output).toContain('brew install redis');
    expect(output).toContain('docker compose up -d redis');
  });
});
