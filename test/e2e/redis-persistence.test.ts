import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/lib/procs.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent } from '../../fakes/slack/signing.ts';
import { durableRedisArgs, redisAnswers } from '../../src/queue/local-redis.ts';
import { eventually, hfEnv, secrets, settled, sleep, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const dirs: string[] = [];
const servers: ChildProcess[] = [];
let bot: RunningTestService | undefined;

/** A private redis-server on `port` with these arguments; resolves once it answers. */
async function redisServer(port: number, args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: 'ignore' });
  servers.push(child);
  await eventually(async () => child.exitCode === null && (await redisAnswers(`redis://127.0.0.1:${port}`)), `redis-server on ${port}`);
  return child;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hfbot-persist-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await bot?.stop().catch(() => undefined);
  bot = undefined;
});

afterAll(async () => {
  for (const child of servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A gateway-only service (the playground needs no credentials) on the Redis at `port`. */
async function gatewayOn(port: number) {
  bot = await startTestService({ REDIS_URL: `redis://127.0.0.1:${port}`, PLAYGROUND_ENABLED: 'true', QUEUE_PREFIX: uniquePrefix('persist') }, ['gateway']);
  const response = await fetch(`${bot.baseUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; warnings?: Record<string, string> }, logs: bot.logs };
}

describe('readiness on a Redis that does not persist', () => {
  it('stays ready, but warns in /readyz and once in the log', async () => {
    const port = await freePort();
    await redisServer(port, ['--save', '', '--appendonly', 'no', '--dir', tempDir()]);
    const { status, body, logs } = await gatewayOn(port);
    expect(status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.warnings?.redis).toMatch(/neither AOF nor RDB/);
    expect(logs.filter((line) => line.includes('neither AOF nor RDB'))).toHaveLength(1);
    expect(JSON.parse(logs.find((line) => line.includes('neither AOF nor RDB')) ?? '{}').level).toBe(40);
  });

  it('has no warning with AOF on, nor with RDB snapshots only', async () => {
    for (const args of [durableRedisArgs(tempDir()), ['--appendonly', 'no', '--save', '3600 1', '--dir', tempDir()]]) {
      const port = await freePort();
      await redisServer(port, args);
      const { status, body, logs } = await gatewayOn(port);
      expect(status).toBe(200);
      expect(body).not.toHaveProperty('warnings');
      expect(logs.join('\n')).not.toMatch(/AOF nor RDB|could not check/);
      await bot?.stop();
      bot = undefined;
    }
  });

  it('says it could not check when the server refuses CONFIG', async () => {
    const port = await freePort();
    await redisServer(port, ['--save', '', '--appendonly', 'no', '--dir', tempDir(), '--rename-command', 'CONFIG', '""']);
    const { status, body } = await gatewayOn(port);
    expect(status).toBe(200);
    expect(body.warnings?.redis).toMatch(/^could not check/);
  });
});

describe('Redis killed with SIGKILL, with AOF everysec', () => {
  let hf: HfFake;
  let slack: SlackFake;
  afterAll(async () => {
    await Promise.all([slack?.close(), hf?.close()]);
  });

  it('answers every acknowledged mention exactly once after Redis restarts on the same directory', async () => {
    const port = await freePort();
    const args = durableRedisArgs(tempDir());
    let redis = await redisServer(port, args);
    hf = await startHfFake();
    slack = await startSlackFake({ botToken: secrets.slackBotToken });
    // Slow answers: while Redis dies, some are streaming and the rest wait in the queue.
    hf.setDefaultChat((req) => {
      const question = JSON.stringify(req.messages.at(-1)).match(/question \d/)?.[0];
      return { kind: 'stream', text: `Answer to ${question}: ${'word '.repeat(15)}done.`, tokenDelayMs: 60 };
    });
    bot = await startTestService(
      { REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: uniquePrefix('sigkill'), WORKER_CONCURRENCY: '2', WORKER_LOCK_MS: '3000', ...hfEnv(hf), ...slackEnv(slack) },
    );

    const mentions = Array.from({ length: 8 }, (_, i) => ({ ts: `1700009000.00010${i}`, channel: `C0KILL${i}`, text: `question ${i}` }));
    for (const [i, m] of mentions.entries()) {
      const event = { type: 'app_mention', user: 'U0KILL', text: `<@U0BOT> ${m.text}`, ts: m.ts, channel: m.channel, event_ts: m.ts };
      const response = await postSignedEvent(`${bot.baseUrl}/slack/events`, secrets.slackSigningSecret, eventCallback(event, { eventId: `EvKill${i}` }));
      expect(response.status).toBe(200); // acknowledged: Slack will not redeliver it
    }
    await eventually(() => hf.chatRequests.length >= 2, 'the first answers to be streaming');
    // The documented bound is the last second of writes: let a second pass so every ack is inside it.
    await sleep(1100);
    redis.kill('SIGKILL');
    await once(redis, 'exit');
    await sleep(500);
    redis = await redisServer(port, args);

    for (const [i] of mentions.entries()) expect(await settled(bot.queue, `slack-ev-EvKill${i}`, 60_000)).toBe('completed');
    for (const m of mentions) {
      const replies = slack.botReplies(m.channel, m.ts);
      expect(replies.map((reply) => reply.text)).toEqual([`Answer to ${m.text}: ${'word '.repeat(15)}done.`]);
    }
  }, 90_000);
});
