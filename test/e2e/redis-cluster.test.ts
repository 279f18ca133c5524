import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/lib/procs.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { InsightsStore } from '../../src/insights/store.ts';
import { keyspace } from '../../src/queue/redis.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent } from '../../fakes/slack/signing.ts';
import { eventually, hfEnv, secrets, settled, slackEnv, startTestService, type RunningTestService } from '../support/service.ts';

let node: ChildProcess | undefined;
let dir: string;
let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;

/** A one-node Redis Cluster holding every slot: enough for keys to be routed as on a real cluster. */
async function startClusterNode(): Promise<string> {
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'hfbot-cluster-'));
  node = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, 'nodes.conf'), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const admin = new Redis(port, '127.0.0.1', { retryStrategy: () => 100 });
  admin.on('error', () => undefined); // refused until the node listens; it retries
  await eventually(async () => (await admin.ping()) === 'PONG', 'the cluster node to start');
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await eventually(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 'the cluster to be ok');
  admin.disconnect();
  return `redis://127.0.0.1:${port}`;
}

beforeAll(async () => {
  const url = await startClusterNode();
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken });
  bot = await startTestService({
    REDIS_URL: url,
    REDIS_CLUSTER: 'true',
    QUEUE_PREFIX: '{hfbot-cluster}',
    ...hfEnv(hf),
    ...slackEnv(slack),
  });
}, 30_000);

afterAll(async () => {
  await bot?.stop();
  await Promise.all([slack?.close(), hf?.close()]);
  node?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('on a Redis Cluster', () => {
  it('answers, orders, remembers and scores with a hash-tagged prefix', async () => {
    for (const [i, text] of ['my name is Grace', 'what is my name?'].entries()) {
      const ts = `1700004000.00010${i}`;
      const event = { type: 'message', channel_type: 'im', user: 'U0CL', text, ts, channel: 'D0CL', event_ts: ts };
      await postSignedEvent(`${bot.baseUrl}/slack/events`, secrets.slackSigningSecret, eventCallback(event, { eventId: `EvCl${i}` }));
    }
    expect(await settled(bot.queue, 'slack-ev-EvCl1')).toBe('completed');
    expect(slack.botReplies('D0CL').map((reply) => reply.text)).toEqual(['Echo: my name is Grace', 'Echo: what is my name?']);
    expect(JSON.stringify(hf.chatRequests[1]?.messages)).toContain('my name is Grace');
    await eventually(() => hf.classifyRequests.length === 2, 'both messages scored');
    // The insights aggregates move in the fold's script and are read in one script: one slot.
    const insights = new InsightsStore(bot.redis, keyspace('{hfbot-cluster}'), { retentionDays: 90, threadTtlSeconds: 3600 });
    const report = await eventually(async () => {
      const read = await insights.channels({ days: 7, limit: 10 });
      return read.channels[0]?.messages === 2 ? read : undefined;
    }, 'the day aggregates');
    expect(report.channels[0]).toMatchObject({ platform: 'slack', channelId: 'D0CL' });
    expect(await insights.negativeNow()).toEqual({ total: 0, threads: [] });
    expect((await insights.answers({ days: 7 })).empty).toBe(true);
  });

  it('refuses a prefix that is not a hash tag, naming the problem', async () => {
    const { loadConfig } = await import('../../src/config.ts');
    const { adapters } = await import('../../adapters/index.ts');
    expect(() => loadConfig({ HF_TOKEN: 'hf_x', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'hfbot' }, adapters)).toThrow(/hash tag/);
  });
});
