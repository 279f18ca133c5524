import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../bench/lib/redis-server.ts';
import { startDiscordFake } from '../../fakes/discord/server.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent } from '../../fakes/slack/signing.ts';
import { discordEnv, eventually, hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';
import { spawnHfbot } from '../support/worker-process.ts';

/**
 * "Nothing acknowledged is ever lost": the platform hears success only once the job is durably
 * queued. Each test owns a private redis-server, so pausing or stopping it touches no other file.
 */
const CHANNEL = 'C0DURABLE';
const BOT = 'UBOT';

let redis: PrivateRedis;
let admin: Redis;
let hf: HfFake;
let slack: SlackFake;
let env: Record<string, string>;
let sequence = 0;

function mentionEvent(text: string, user = `UACK${++sequence}`) {
  const ts = `1700100${String(++sequence).padStart(3, '0')}.000100`;
  const eventId = `EvAck${Date.now()}${sequence}`;
  const event = { type: 'app_mention', user, text: `<@${BOT}> ${text}`, ts, channel: CHANNEL, event_ts: ts };
  return { body: eventCallback(event, { eventId }), ts, jobId: `slack-ev-${eventId}` };
}

const deliver = (baseUrl: string, body: object | string, retryNum?: number) =>
  postSignedEvent(`${baseUrl}/slack/events`, secrets.slackSigningSecret, body, retryNum === undefined ? {} : { retryNum });

beforeAll(async () => {
  redis = await startPrivateRedis();
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined); // the drills stop this Redis on purpose
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: BOT, botToken: secrets.slackBotToken });
  env = { REDIS_URL: redis.url, REDIS_AUTOSTART: 'false', QUEUE_PREFIX: uniquePrefix('acknowledged'), ...hfEnv(hf), ...slackEnv(slack), SHUTDOWN_GRACE_MS: '500' };
});

afterAll(async () => {
  admin?.disconnect();
  await Promise.all([redis?.stop(), hf?.close(), slack?.close()]);
});

beforeEach(() => {
  slack.reset();
  hf.reset();
});

describe('acknowledged only once queued', () => {
  let bot: RunningTestService;
  beforeAll(async () => {
    bot = await startTestService({ ...env, USER_RATE_LIMIT: '2', USER_RATE_WINDOW_SECONDS: '60' });
  });
  afterAll(async () => bot?.stop());

  it('answers Slack with an error while Redis cannot take the event, and its redelivery once', async () => {
    const mention = mentionEvent('are you there?');
    await admin.call('CLIENT', 'PAUSE', '3500', 'ALL');
    const sent = Date.now();
    const first = await deliver(bot.baseUrl, mention.body);
    expect(first.status).toBe(503);
    expect(Date.now() - sent).toBeLessThan(3000); // inside Slack's deadline, so the error is what Slack sees
    // The first intake goes on and lands once Redis is back; Slack's redelivery (a minute later in
    // real life) then finds the event queued: one job, one answer.
    await eventually(async () => (await bot.queue.getJobState(mention.jobId)) !== 'unknown', 'the late intake to land');
    const again = await deliver(bot.baseUrl, mention.body, 1);
    expect(again.status).toBe(200);
    expect(await settled(bot.queue, mention.jobId)).toBe('completed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.botReplies(CHANNEL, mention.ts)).toHaveLength(1);
  });

  it('shows one notice for a refused event however often it is delivered', async () => {
    const empty = mentionEvent('   ');
    for (let retry = 0; retry < 5; retry++) expect((await deliver(bot.baseUrl, empty.body, retry || undefined)).status).toBe(200);
    expect(slack.ephemerals).toHaveLength(1);
  });

  it('tells a flooding user once per window, not once per message', async () => {
    hf.setDefaultChat(() => ({ kind: 'stream', text: 'ok' }));
    const mentions = Array.from({ length: 8 }, () => mentionEvent('again', 'UFLOOD'));
    for (const mention of mentions) expect((await deliver(bot.baseUrl, mention.body)).status).toBe(200);
    await settled(bot.queue, mentions[1]!.jobId);
    expect(slack.ephemerals.filter((notice) => notice.user === 'UFLOOD')).toHaveLength(1);
  });

  it('counts a message against its sender once, however often it is delivered', async () => {
    hf.setDefaultChat(() => ({ kind: 'stream', text: 'ok' }));
    const [first, second] = [mentionEvent('one', 'UREDELIVER'), mentionEvent('two', 'UREDELIVER')];
    for (let retry = 0; retry < 4; retry++) expect((await deliver(bot.baseUrl, first.body, retry || undefined)).status).toBe(200);
    // The limit is 2 a window: the redeliveries of the first did not use up the second.
    expect((await deliver(bot.baseUrl, second.body)).status).toBe(200);
    expect(await settled(bot.queue, second.jobId)).toBe('completed');
    expect(slack.ephemerals.filter((notice) => notice.user === 'UREDELIVER')).toHaveLength(0);
  });

  it('answers 400, not 500, to signed bodies it cannot route', async () => {
    for (const body of ['null', '{"event":null}', '{"type":"event_callback","event":"x"}']) {
      const response = await deliver(bot.baseUrl, JSON.parse(body) as object);
      expect(response.status, body).toBe(400);
    }
  });
});

describe('a gateway stopped while Redis is down', () => {
  it('acknowledged nothing it did not queue, so every redelivery is answered once', async () => {
    const gateway = spawnHfbot(['gateway'], env);
    const port = await eventually(() => /"port":(\d+),"msg":"ready"/.exec(gateway.output())?.[1], 'the gateway to start', 20_000);
    const baseUrl = `http://127.0.0.1:${port}`;
    await redis.down();
    const mentions = [mentionEvent('one'), mentionEvent('two'), mentionEvent('three')];
    for (const mention of mentions) expect((await deliver(baseUrl, mention.body)).status).not.toBe(200);
    gateway.kill('SIGTERM');
    await new Promise((resolve) => gateway.once('exit', resolve));

    await redis.up();
    const bot = await startTestService(env);
    try {
      for (const mention of mentions) expect((await deliver(bot.baseUrl, mention.body, 1)).status).toBe(200);
      for (const mention of mentions) expect(await settled(bot.queue, mention.jobId)).toBe('completed');
      for (const mention of mentions) expect(slack.botReplies(CHANNEL, mention.ts)).toHaveLength(1);
    } finally {
      await bot.stop();
    }
  });
});

describe('during a Redis outage, over the gateways', () => {
  it('holds a Socket Mode ack until the job is queued, and answers the redelivered envelope once', async () => {
    const socketSlack = await startSlackFake({ botUserId: BOT, botToken: secrets.slackBotToken, appToken: secrets.slackAppToken });
    const bot = await startTestService({ ...env, SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: secrets.slackAppToken, SLACK_API_URL: socketSlack.apiUrl });
    try {
      await socketSlack.socketConnected();
      const mention = mentionEvent('over the socket');
      await admin.call('CLIENT', 'PAUSE', '3500', 'ALL');
      await expect(socketSlack.sendEnvelope('events_api', mention.body, { ackTimeoutMs: 2_800 })).rejects.toThrow();
      await eventually(async () => (await bot.queue.getJobState(mention.jobId)) !== 'unknown', 'the late intake to land');
      await socketSlack.sendEnvelope('events_api', mention.body, { retryAttempt: 1, retryReason: 'timeout' });
      expect(await settled(bot.queue, mention.jobId)).toBe('completed');
      expect(socketSlack.botReplies(CHANNEL, mention.ts)).toHaveLength(1);
    } finally {
      await bot.stop();
      await socketSlack.close();
    }
  });

  it('answers a Discord message that arrived while Redis was paused', async () => {
    const discord = await startDiscordFake();
    const bot = await startTestService({ ...env, SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '', ...discordEnv(discord) });
    try {
      await discord.ready();
      await admin.call('CLIENT', 'PAUSE', '2500', 'ALL');
      const message = discord.messageCreate({ channelId: '300000000000000001', guildId: '200000000000000001', authorId: '400000000000009999', content: `<@${discord.botUser.id}> still there?`, mentionsBot: true });
      expect(await settled(bot.queue, `discord-msg-${message.id}`)).toBe('completed');
      expect(discord.botMessages().filter((sent) => sent.message_reference?.message_id === message.id && !sent.deleted)).toHaveLength(1);
    } finally {
      await bot.stop();
      await discord.close();
    }
  });
});
