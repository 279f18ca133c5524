import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { dayOf, lastDays } from '../../src/insights/days.ts';
import { InsightsStore, type ThreadRef } from '../../src/insights/store.ts';
import { createRedis, keyspace, type RedisConnection } from '../../src/queue/redis.ts';
import { channelScope, SentimentStore } from '../../src/sentiment/store.ts';
import { uniquePrefix } from '../support/service.ts';

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
/** Noon (UTC) three days ago: the scripted days are recent, so their expiry is still ahead. */
const START = (Math.floor(Date.now() / DAY) - 3) * DAY + 12 * HOUR;

let redis: RedisConnection;

beforeAll(() => {
  redis = createRedis(inject('redisUrl'), 'insights-test');
});
afterAll(async () => {
  await redis.quit();
});

/** A sentiment store and an insights store on a fresh prefix, with a clock the test moves. */
function setUp(options: { retentionDays?: number; threadTtlSeconds?: number } = {}) {
  const keys = keyspace(uniquePrefix('insights'));
  const clock = { now: START };
  const insights = new InsightsStore(redis, keys, {
    retentionDays: options.retentionDays ?? 90,
    threadTtlSeconds: options.threadTtlSeconds ?? 14 * 24 * 3600,
    now: () => clock.now,
  });
  const sentiment = new SentimentStore(redis, keys, 3600);
  let nextId = 0;
  /** One message, folded as the sentiment worker folds it: into its channel and, in a thread, its thread. */
  const message = async (channel: { platform: string; workspaceId: string; channelId: string }, score: number, thread?: string, id = `msg${(nextId += 1)}`) => {
    const result = { score, classifier: 'lexicon' };
    await sentiment.fold(channelScope(channel.platform, channel.workspaceId, channel.channelId), id, result, insights.channelFold(channel.platform, channel.workspaceId, channel.channelId));
    if (thread) {
      const root: ThreadRef = { ...channel, messageId: thread };
      const conversation = [channel.platform, channel.workspaceId, channel.channelId, thread].join(':');
      return sentiment.fold(conversation, id, result, insights.threadFold(conversation, root));
    }
    return undefined;
  };
  return { keys, clock, insights, message };
}

const support = { platform: 'slack', workspaceId: 'T1', channelId: 'C1' };
const billing = { platform: 'discord', workspaceId: '100', channelId: '200' };

describe('insights daily aggregates', () => {
  it('counts each day’s messages per channel, with shares and mean score, busiest channel first', async () => {
    const { clock, insights, message } = setUp();
    // Day 0: support has one positive, one neutral and one negative message.
    await message(support, 0.8);
    await message(support, 0.1);
    await message(support, -0.6, undefined, 'same-id');
    // The same message folded again (a retried job) counts once.
    await message(support, -0.6, undefined, 'same-id');
    // Day 1: billing has four negative messages, support one positive.
    clock.now += DAY;
    for (const score of [-0.9, -0.7, -0.5, -0.3]) await message(billing, score);
    await message(support, 0.5);
    // Day 2: nothing. Day 3: support two neutral.
    clock.now += 2 * DAY;
    await message(support, 0);
    await message(support, 0.2);

    const report = await insights.channels({ days: 5, limit: 10 });
    expect(report.days).toEqual(lastDays(clock.now, 5));
    expect(report.days.at(-1)).toBe(dayOf(clock.now));
    expect(report.totalChannels).toBe(2);
    expect(report.channels.map((channel) => [channel.platform, channel.channelId, channel.messages])).toEqual([
      ['slack', 'C1', 6],
      ['discord', '200', 4],
    ]);
    const [supportTrend, billingTrend] = report.channels;
    expect(supportTrend?.workspaceId).toBe('T1');
    const [before, day0, day1, day2, day3] = supportTrend?.daily ?? [];
    expect(before).toMatchObject({ positive: 0, neutral: 0, negative: 0, meanScore: null });
    expect(day0).toMatchObject({ day: dayOf(START), positive: 1, neutral: 1, negative: 1 });
    expect(day0?.share.positive).toBeCloseTo(1 / 3);
    expect(day0?.meanScore).toBeCloseTo((0.8 + 0.1 - 0.6) / 3);
    expect(day1).toMatchObject({ positive: 1, neutral: 0, negative: 0, meanScore: 0.5 });
    expect(day2).toMatchObject({ positive: 0, neutral: 0, negative: 0, meanScore: null, share: { positive: 0, neutral: 0, negative: 0 } });
    expect(day3).toMatchObject({ positive: 0, neutral: 2, negative: 0 });
    expect(day3?.meanScore).toBeCloseTo(0.1);
    expect(billingTrend?.daily[2]).toMatchObject({ negative: 4, share: { positive: 0, neutral: 0, negative: 1 } });
    expect(billingTrend?.daily[2]?.meanScore).toBeCloseTo(-0.6);

    // A platform filter, a limit, and a window that leaves the older days out.
    const discordOnly = await insights.channels({ days: 5, platform: 'discord', limit: 10 });
    expect(discordOnly.totalChannels).toBe(1);
    expect(discordOnly.channels.map((channel) => channel.channelId)).toEqual(['200']);
    const top = await insights.channels({ days: 5, limit: 1 });
    expect([top.totalChannels, top.channels.length, top.channels[0]?.channelId]).toEqual([2, 1, 'C1']);
    const lastTwo = await insights.channels({ days: 2, limit: 10 });
    expect(lastTwo.channels.map((channel) => [channel.channelId, channel.messages])).toEqual([['C1', 2]]);
  });

  it('keeps a day’s aggregates INSIGHTS_RETENTION_DAYS after the day ends, then drops them', async () => {
    const { clock, keys, insights, message } = setUp({ retentionDays: 2 });
    // Five days ago is past a two-day retention: written, and already expired.
    clock.now = START - 2 * DAY;
    await message(support, -0.5);
    // Today's aggregates expire at the end of today plus two days.
    clock.now = Date.now();
    await message(support, 0.5);
    const today = keys.insights(`day:${dayOf(clock.now)}`);
    const endOfToday = (Math.floor(clock.now / DAY) + 1) * DAY;
    expect(await redis.pexpiretime(today)).toBe(endOfToday + 2 * DAY);
    expect(await redis.pexpiretime(keys.insights(`volume:${dayOf(clock.now)}`))).toBe(endOfToday + 2 * DAY);
    expect(await redis.exists(keys.insights(`day:${dayOf(START - 2 * DAY)}`))).toBe(0);
    const report = await insights.channels({ days: 2, limit: 10 });
    expect(report.channels.map((channel) => channel.messages)).toEqual([1]);
  });

  it('reads in one Redis call whatever the number of channels and days', async () => {
    const { clock, insights, message } = setUp();
    await message(support, 0.3);
    const calls = async (read: () => Promise<unknown>) => {
      const spy = vi.spyOn(redis, 'sendCommand');
      await read();
      const count = spy.mock.calls.length;
      spy.mockRestore();
      return count;
    };
    const readAll = () => Promise.all([insights.channels({ days: 30, limit: 20 }), insights.negativeNow(), insights.answers({ days: 30 })]);
    const small = await calls(readAll);
    for (let day = 0; day < 5; day += 1) {
      clock.now += DAY;
      await Promise.all(Array.from({ length: 40 }, (_, i) => message({ ...support, channelId: `C${i}` }, i % 2 ? 0.6 : -0.6, `t${day}-${i}`)));
    }
    const large = await calls(readAll);
    expect(small).toBe(3);
    expect(large).toBe(3);
    const report = await insights.channels({ days: 30, limit: 20 });
    expect([report.totalChannels, report.channels.length]).toEqual([40, 20]);
  });
});

describe('threads negative now', () => {
  it('lists a thread from the message it turns negative until it recovers, newest turn first', async () => {
    const { clock, insights, message } = setUp();
    const first = await message(support, -0.2, '111.1');
    expect(first?.label).toBe('neutral');
    expect((await insights.negativeNow()).total).toBe(0);

    await message(support, -0.9, '111.1');
    const turnedAt = clock.now;
    const listed = await insights.negativeNow();
    expect(listed.total).toBe(1);
    expect(listed.threads[0]).toMatchObject({ platform: 'slack', workspaceId: 'T1', channelId: 'C1', rootId: '111.1', conversation: 'slack:T1:C1:111.1', messages: 2, turnedAt });
    expect(listed.threads[0]?.score).toBeLessThan(-0.25);
    expect(listed.threads[0]?.link).toBeUndefined();

    // The link is asked for once and kept with the record.
    expect(await insights.needsLink('slack:T1:C1:111.1')).toBe(true);
    await insights.setLink('slack:T1:C1:111.1', 'https://example.slack.com/archives/C1/p1111');
    expect(await insights.needsLink('slack:T1:C1:111.1')).toBe(false);

    // Still negative an hour later: same turn time, running numbers updated.
    clock.now += HOUR;
    await message(support, -0.8, '111.1');
    clock.now += HOUR;
    await message(billing, -0.9, '300');
    const both = await insights.negativeNow();
    expect(both.threads.map((thread) => [thread.channelId, thread.messages, thread.turnedAt])).toEqual([
      ['200', 1, clock.now],
      ['C1', 3, turnedAt],
    ]);
    expect(both.threads[1]?.link).toBe('https://example.slack.com/archives/C1/p1111');
    expect((await insights.negativeNow(1)).threads.map((thread) => thread.channelId)).toEqual(['200']);
    const slackOnly = await insights.negativeNow(100, 'slack');
    expect([slackOnly.total, slackOnly.threads.map((thread) => thread.rootId)]).toEqual([1, ['111.1']]);
    expect(await insights.negativeNow(100, 'playground')).toEqual({ total: 0, threads: [] });

    // Recovering takes the thread off the list (and a link for a thread no longer listed is not kept).
    for (const score of [0.9, 0.9, 0.9]) await message(support, score, '111.1');
    expect((await insights.negativeNow()).threads.map((thread) => thread.rootId)).toEqual(['300']);
    await insights.setLink('slack:T1:C1:111.1', 'https://example.slack.com/archives/C1/p1111');
    expect((await insights.negativeNow()).total).toBe(1);
  });

  it('forgets a negative thread that went silent for longer than its state lives', async () => {
    const { clock, insights, message } = setUp({ threadTtlSeconds: 3600 });
    await message(billing, -0.9, '300');
    clock.now += 30 * 60 * 1000;
    expect((await insights.negativeNow()).total).toBe(1);
    clock.now += 31 * 60 * 1000;
    expect(await insights.negativeNow()).toEqual({ total: 0, threads: [] });
  });
});

describe('answer feedback', () => {
  it('counts 👍, 👎 and stopped answers per day and per model', async () => {
    const { clock, insights } = setUp();
    expect((await insights.answers({ days: 7 })).empty).toBe(true);
    await insights.recordFeedback('meta-llama/Llama-3.1-8B-Instruct', 'up');
    await insights.recordFeedback('meta-llama/Llama-3.1-8B-Instruct', 'up');
    await insights.recordFeedback('Qwen/Qwen2.5-7B-Instruct', 'down');
    clock.now += DAY;
    await insights.recordStopped('meta-llama/Llama-3.1-8B-Instruct');
    await insights.recordFeedback('Qwen/Qwen2.5-7B-Instruct', 'down');

    const report = await insights.answers({ days: 3 });
    expect(report.empty).toBe(false);
    expect(report.perDay).toEqual([
      { day: dayOf(START - DAY), up: 0, down: 0, stopped: 0 },
      { day: dayOf(START), up: 2, down: 1, stopped: 0 },
      { day: dayOf(START + DAY), up: 0, down: 1, stopped: 1 },
    ]);
    expect(report.perModel).toEqual([
      { model: 'meta-llama/Llama-3.1-8B-Instruct', up: 2, down: 0, stopped: 1 },
      { model: 'Qwen/Qwen2.5-7B-Instruct', up: 0, down: 2, stopped: 0 },
    ]);
  });
});
