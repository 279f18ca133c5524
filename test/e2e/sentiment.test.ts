import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conversationKey } from '../../src/jobs/chat-job.ts';
import { InsightsStore } from '../../src/insights/store.ts';
import { keyspace } from '../../src/queue/redis.ts';
import { SENTIMENT_QUEUE } from '../../src/sentiment/queue.ts';
import { channelScope, SentimentStore } from '../../src/sentiment/store.ts';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent, slashCommandForm } from '../../fakes/slack/signing.ts';
import { discordEnv, eventually, hfEnv, secrets, slackEnv, sleep, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const TEAM = 'T0FAKE';
const SLACK_CHANNEL = 'C0SUPPORT';
const SLACK_ALERTS = 'C0ALERTS';
const GUILD = '200000000000000001';
const DISCORD_CHANNEL = '300000000000000001';
const DISCORD_ALERTS = '300000000000000002';

let hf: HfFake;
let slack: SlackFake;
let discord: DiscordFake;
let bot: RunningTestService;
let store: SentimentStore;
let insights: InsightsStore;
let storeRedis: Redis;
let sequence = 0;

const next = () => {
  sequence += 1;
  return { ts: `1700001${String(sequence).padStart(3, '0')}.000100`, eventId: `EvS${Date.now()}${sequence}` };
};

async function slackEvent(event: Record<string, unknown>, eventId: string) {
  const response = await postSignedEvent(`${bot.baseUrl}/slack/events`, secrets.slackSigningSecret, eventCallback(event, { eventId, teamId: TEAM }));
  expect(response.status).toBe(200);
}

/** Says something in a Slack thread (mentioning the bot or not) and waits until it is scored. */
async function sayInSlackThread(root: string, text: string, opts: { mention?: boolean; user?: string } = {}) {
  const { ts, eventId } = next();
  const conversation = conversationKey({ platform: 'slack', workspaceId: TEAM, channelId: SLACK_CHANNEL, threadId: root });
  const before = (await store.read(conversation))?.count ?? 0;
  const base = { user: opts.user ?? 'U0CUSTOMER', ts, channel: SLACK_CHANNEL, event_ts: ts, ...(root === ts ? {} : { thread_ts: root }) };
  // What Slack would hold: the message itself, so the bot can react to it.
  slack.seedMessage({ channel: SLACK_CHANNEL, user: base.user, text, ts, ...(root === ts ? {} : { thread_ts: root }) });
  if (opts.mention) await slackEvent({ ...base, type: 'app_mention', text: `<@U0BOT> ${text}` }, eventId);
  else await slackEvent({ ...base, type: 'message', channel_type: 'channel', text }, eventId);
  return eventually(async () => {
    const state = await store.read(conversation);
    return state && state.count > before ? state : undefined;
  }, `"${text}" to be scored`);
}

/** The reactions the bot has on a Slack message. */
const slackTags = (ts: string) =>
  (slack.messages(SLACK_CHANNEL).find((message) => message.ts === ts)?.reactions ?? []).map((reaction) => reaction.name);

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken });
  discord = await startDiscordFake({
    guilds: [{ id: GUILD, name: 'Support', channels: [{ id: DISCORD_CHANNEL, name: 'help' }, { id: DISCORD_ALERTS, name: 'alerts' }] }],
  });
  const prefix = uniquePrefix('sentiment');
  bot = await startTestService({
    QUEUE_PREFIX: prefix,
    ...hfEnv(hf),
    HF_MAX_ATTEMPTS: '2',
    ...slackEnv(slack),
    ...discordEnv(discord),
    SENTIMENT_ALERT_CHANNEL: `${SLACK_ALERTS},discord:${DISCORD_ALERTS}`,
    USER_RATE_LIMIT: '0',
  });
  storeRedis = new Redis(bot.config.redis.url);
  store = new SentimentStore(storeRedis, keyspace(prefix), 3600);
  insights = new InsightsStore(storeRedis, keyspace(prefix), { retentionDays: 90, threadTtlSeconds: 3600 });
  await discord.ready();
});

afterAll(async () => {
  await storeRedis?.quit();
  await bot?.stop();
  await Promise.all([slack?.close(), discord?.close(), hf?.close()]);
});

beforeEach(() => {
  hf.reset();
});

describe('thread sentiment on Slack', () => {
  const root = { ts: '' };

  it('classifies every message of a thread the bot is in and tags the root; a turn to negative swaps the tag and alerts once', async () => {
    const first = await sayInSlackThread((root.ts = `1700001${String(sequence + 1).padStart(3, '0')}.000100`), 'can you help me with the deploy?', { mention: true });
    expect(first).toMatchObject({ label: 'neutral', count: 1 });
    await eventually(() => slackTags(root.ts).includes('white_circle'), 'the neutral tag');

    const worse = await sayInSlackThread(root.ts, 'it is broken and terrible, nothing works');
    expect(worse.label).toBe('negative');
    await eventually(() => slackTags(root.ts).includes('red_circle'), 'the negative tag');
    expect(slackTags(root.ts)).toEqual(['red_circle']);
    await eventually(() => slack.messages(SLACK_ALERTS).length === 1, 'the alert');

    const worst = await sayInSlackThread(root.ts, 'I hate this, it is awful');
    expect(worst).toMatchObject({ label: 'negative', trend: 'worsening', count: 3 });
    await sleep(300);
    const alerts = slack.messages(SLACK_ALERTS);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain(`https://fake.slack.com/archives/${SLACK_CHANNEL}/p${root.ts.replace('.', '')}`);
    expect(alerts[0]!.text).toMatch(/turned negative/);
    // The insights page lists the thread with its permalink, recorded when it turned.
    const listed = await eventually(async () => (await insights.negativeNow()).threads.find((thread) => thread.rootId === root.ts && thread.link), 'the insights record');
    expect(listed).toMatchObject({ platform: 'slack', workspaceId: TEAM, channelId: SLACK_CHANNEL, messages: 3, link: `https://fake.slack.com/archives/${SLACK_CHANNEL}/p${root.ts.replace('.', '')}` });
    // Three messages, two label changes: one add, then one remove and one add. Nothing for the third.
    expect(slack.callsTo('reactions.add')).toHaveLength(2);
    expect(slack.callsTo('reactions.remove')).toHaveLength(1);
    expect(hf.classifyRequests.map((request) => request.inputs)).toEqual([
      'can you help me with the deploy?',
      'it is broken and terrible, nothing works',
      'I hate this, it is awful',
    ]);
  });

  it('re-tags a thread that recovers', async () => {
    await sayInSlackThread(root.ts, 'ok thanks, that is great, I love it');
    const recovered = await sayInSlackThread(root.ts, 'thanks, awesome, perfect');
    expect(recovered).toMatchObject({ label: 'positive', trend: 'improving' });
    await eventually(() => slackTags(root.ts).join() === 'large_green_circle', 'the positive tag alone');
    expect((await insights.negativeNow()).threads.map((thread) => thread.rootId)).not.toContain(root.ts);
    expect(slack.messages(SLACK_ALERTS)).toHaveLength(1);
  });

  it('ignores threads the bot is not part of', async () => {
    const { ts, eventId } = next();
    await slackEvent({ type: 'message', channel_type: 'channel', user: 'U0OTHER', text: 'this is awful', ts, channel: SLACK_CHANNEL, thread_ts: '1600000000.000100' }, eventId);
    await sleep(500);
    expect(hf.classifyRequests).toHaveLength(0);
    expect(await store.read(conversationKey({ platform: 'slack', workspaceId: TEAM, channelId: SLACK_CHANNEL, threadId: '1600000000.000100' }))).toBeUndefined();
  });

  it('/sentiment reports what the state holds, only to the person who asked', async () => {
    const state = await store.read(channelScope('slack', TEAM, SLACK_CHANNEL));
    const form = slashCommandForm({ command: '/sentiment', text: '', user_id: 'U0LEAD', channel_id: SLACK_CHANNEL, team_id: TEAM, response_url: slack.responseUrl('s') });
    const response = await postSignedEvent(`${bot.baseUrl}/slack/events`, secrets.slackSigningSecret, form);
    const body = (await response.json()) as { response_type: string; text: string };
    body.text = body.text.replaceAll('\u200B', '');
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(`:${{ positive: 'large_green_circle', neutral: 'white_circle', negative: 'red_circle' }[state!.label]}: *${state!.label}* in this channel: score ${state!.score.toFixed(2)}`);
    expect(body.text).toContain(`${state!.count} messages: ${state!.counts.positive} positive, ${state!.counts.neutral} neutral, ${state!.counts.negative} negative`);
  });

  it('absorbs a cold start of the sentiment model without falling back', async () => {
    hf.enqueueClassify({ kind: 'loading', estimatedTime: 1 });
    const { ts, eventId } = next();
    const dm = 'D0MOOD';
    await slackEvent({ type: 'message', channel_type: 'im', user: 'U0DM', text: 'thanks, great work', ts, channel: dm, event_ts: ts }, eventId);
    const state = await eventually(() => store.read(conversationKey({ platform: 'slack', workspaceId: TEAM, channelId: dm, threadId: undefined })), 'the DM to be scored', 20_000);
    expect(state.lastClassifier).toBe('hf:cardiffnlp/twitter-roberta-base-sentiment-latest');
    expect(hf.classifyRequests).toHaveLength(2);
  });

  it('waits out a 429 from the sentiment model by pausing its queue, then scores with the model', async () => {
    hf.enqueueClassify({ kind: 'status', status: 429, body: { error: 'Too many requests' }, headers: { 'retry-after': '1' } });
    const { ts, eventId } = next();
    const dm = 'D0BUSY';
    await slackEvent({ type: 'message', channel_type: 'im', user: 'U0DM3', text: 'thanks, lovely', ts, channel: dm, event_ts: ts }, eventId);
    // The wait is the whole sentiment queue's, not one job's. Asked with the highest max: only a
    // queue-level pause counts, not the worker's own job counter.
    const sentimentQueue = new Queue(SENTIMENT_QUEUE, { connection: storeRedis, prefix: bot.config.redis.prefix });
    try {
      await eventually(async () => (await sentimentQueue.getRateLimitTtl(Number.MAX_SAFE_INTEGER)) > 0, 'the sentiment queue to be rate limited');
      // Seen while the wait still runs: the job was not taken again.
      const requests = hf.classifyRequests.length;
      expect(await sentimentQueue.getRateLimitTtl(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
      expect(requests).toBe(1);
    } finally {
      await sentimentQueue.close();
    }
    const state = await eventually(() => store.read(conversationKey({ platform: 'slack', workspaceId: TEAM, channelId: dm, threadId: undefined })), 'the DM to be scored', 20_000);
    expect(state.lastClassifier).toBe('hf:cardiffnlp/twitter-roberta-base-sentiment-latest');
    expect(hf.classifyRequests).toHaveLength(2);
  });

  it('falls back to the lexicon when the model stays down, and records which classifier scored', async () => {
    hf.enqueueClassify({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const { ts, eventId } = next();
    const dm = 'D0DOWN';
    await slackEvent({ type: 'message', channel_type: 'im', user: 'U0DM2', text: 'this is a terrible, awful experience', ts, channel: dm, event_ts: ts }, eventId);
    const state = await eventually(() => store.read(conversationKey({ platform: 'slack', workspaceId: TEAM, channelId: dm, threadId: undefined })), 'the DM to be scored', 20_000);
    expect(state).toMatchObject({ label: 'negative', lastClassifier: 'lexicon' });
    expect(hf.classifyRequests).toHaveLength(2);
  });
});

describe('thread sentiment on Discord', () => {
  it('tags the root of a reply chain, swaps the reaction when it turns, alerts once, and /sentiment reports it', async () => {
    const user = '400000000000000777';
    const root = discord.messageCreate({ channelId: DISCORD_CHANNEL, guildId: GUILD, authorId: user, content: `<@${discord.botUser.id}> how do I reset my password?`, mentionsBot: true });
    const conversation = conversationKey({ platform: 'discord', workspaceId: GUILD, channelId: DISCORD_CHANNEL, threadId: root.id });
    await eventually(() => discord.reactions.some((reaction) => reaction.message_id === root.id && reaction.emoji === '⚪'), 'the neutral tag');

    // Reply to the bot's answer twice, angrier each time: the chain stays one conversation.
    const answerTo = (messageId: string) =>
      eventually(() => discord.botMessages(DISCORD_CHANNEL).find((message) => message.message_reference?.message_id === messageId), 'an answer');
    let replyTo = await answerTo(root.id);
    for (const text of ['this is useless and broken', 'worst support ever, I hate it']) {
      const before = (await store.read(conversation))?.count ?? 0;
      const message = discord.messageCreate({ channelId: DISCORD_CHANNEL, guildId: GUILD, authorId: user, content: text, messageReference: { message_id: replyTo.id, channel_id: DISCORD_CHANNEL, guild_id: GUILD } });
      await eventually(async () => ((await store.read(conversation))?.count ?? 0) > before, `"${text}" to be scored`);
      replyTo = await answerTo(message.id);
    }

    const state = await store.read(conversation);
    expect(state).toMatchObject({ label: 'negative', count: 3 });
    await eventually(() => discord.reactions.filter((reaction) => reaction.message_id === root.id).map((reaction) => reaction.emoji).join() === '🔴', 'the negative tag alone');
    await eventually(() => discord.botMessages(DISCORD_ALERTS).length === 1, 'the alert');
    expect(discord.botMessages(DISCORD_ALERTS)[0]!.content).toContain(`https://discord.com/channels/${GUILD}/${DISCORD_CHANNEL}/${root.id}`);
    const listed = await eventually(async () => (await insights.negativeNow()).threads.find((thread) => thread.rootId === root.id && thread.link), 'the insights record');
    expect(listed?.link).toBe(`https://discord.com/channels/${GUILD}/${DISCORD_CHANNEL}/${root.id}`);

    const channelState = await store.read(channelScope('discord', GUILD, DISCORD_CHANNEL));
    const { token } = discord.interactionCreate({ name: 'sentiment', channelId: DISCORD_CHANNEL, guildId: GUILD, userId: user });
    const response = await eventually(() => discord.interactionResponses.get(token)?.content, '/sentiment to answer');
    expect(discord.interactionResponses.get(token)?.ephemeral).toBe(true);
    expect(response).toContain(`**${channelState!.label}** in this channel: score ${channelState!.score.toFixed(2)}`);
  });
});
