import { z } from 'zod';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';
import { LuaScript } from '../queue/lua-script.ts';
import type { MessageRef } from '../surface.ts';
import { dayOf, expiresAt, lastDays } from './days.ts';

/**
 * Lua run inside the sentiment fold (src/sentiment/store.ts), after the conversation's state is
 * saved, so an aggregate moves in the same atomic step as the running state and exactly once per
 * message. It sees `s` (the new state), `previous` (the label before this message), ARGV[1] (the
 * message's score) and ARGV[2] (its label); its own keys start at KEYS[3] and arguments at ARGV[8],
 * with ARGV[7] naming the part to run. Only ids and numbers are stored, never message text.
 *
 * - channel: one day's counts per channel, packed `positive,neutral,negative,scoreSum` in a hash
 *   per day, and the channel's message count that day in a sorted set per day (the busiest first).
 * - thread: the record of a thread that is negative now, kept while it stays negative; threads
 *   silent for longer than their state lives are forgotten.
 */
export const INSIGHTS_FOLD_LUA = `
if ARGV[7] == 'channel' then
  local packed = redis.call('HGET', KEYS[3], ARGV[8]) or '0,0,0,0'
  local p, u, n, sum = string.match(packed, '^([^,]+),([^,]+),([^,]+),([^,]+)$')
  p, u, n, sum = tonumber(p), tonumber(u), tonumber(n), tonumber(sum)
  if ARGV[2] == 'positive' then p = p + 1 elseif ARGV[2] == 'negative' then n = n + 1 else u = u + 1 end
  sum = sum + tonumber(ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[8], string.format('%d,%d,%d,%.4f', p, u, n, sum))
  redis.call('EXPIREAT', KEYS[3], ARGV[9])
  redis.call('ZINCRBY', KEYS[4], 1, ARGV[8])
  redis.call('EXPIREAT', KEYS[4], ARGV[9])
elseif ARGV[7] == 'thread' then
  local now = tonumber(ARGV[10])
  if s.label == 'negative' then
    local raw = previous == 'negative' and redis.call('HGET', KEYS[5], ARGV[8])
    local r = raw and cjson.decode(raw) or cjson.decode(ARGV[9])
    if not raw then
      r.turnedAt = now
      redis.call('ZADD', KEYS[3], now, ARGV[8])
    end
    r.score = s.score
    r.messages = s.count
    r.updatedAt = now
    redis.call('HSET', KEYS[5], ARGV[8], cjson.encode(r))
    redis.call('ZADD', KEYS[4], now, ARGV[8])
  elseif previous == 'negative' then
    redis.call('ZREM', KEYS[3], ARGV[8])
    redis.call('ZREM', KEYS[4], ARGV[8])
    redis.call('HDEL', KEYS[5], ARGV[8])
  end
  for _, stale in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[11], 'LIMIT', 0, 100)) do
    redis.call('ZREM', KEYS[3], stale)
    redis.call('ZREM', KEYS[4], stale)
    redis.call('HDEL', KEYS[5], stale)
  end
end`;

/**
 * Forgets silent threads (last message before ARGV[1]), then lists the newest turns, at most
 * ARGV[2], of conversations starting with ARGV[3] (their platform; '' for all).
 */
const READ_NEGATIVE = new LuaScript(`
for _, stale in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)) do
  redis.call('ZREM', KEYS[1], stale)
  redis.call('ZREM', KEYS[2], stale)
  redis.call('HDEL', KEYS[3], stale)
end
local limit, prefix = tonumber(ARGV[2]), ARGV[3]
local total, ids = 0, {}
if prefix == '' then
  total = redis.call('ZCARD', KEYS[1])
  if limit > 0 then ids = redis.call('ZREVRANGE', KEYS[1], 0, limit - 1) end
else
  for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
    if string.sub(id, 1, #prefix) == prefix then
      total = total + 1
      if #ids < limit then ids[#ids + 1] = id end
    end
  end
end
if #ids == 0 then return { total, {} } end
return { total, redis.call('HMGET', KEYS[3], unpack(ids)) }`);

/** Adds a thread's link to its negative-now record, if it is still negative. */
const SET_LINK = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local r = cjson.decode(raw)
r.link = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
return 1`);

/**
 * The busiest channels over N days (KEYS[1..N]: each day's volume set) on a platform (ARGV[2], ''
 * for all), at most ARGV[3] of them, with their packed counts on each day (KEYS[N+1..2N]).
 */
const READ_CHANNELS = new LuaScript(`
local n = tonumber(ARGV[1])
local union = { 'ZUNION', n }
for i = 1, n do union[i + 2] = KEYS[i] end
union[n + 3] = 'WITHSCORES'
local ranked = redis.call(unpack(union))
local prefix, limit = ARGV[2], tonumber(ARGV[3])
local total, picked, sizes = 0, {}, {}
for i = #ranked - 1, 1, -2 do
  local channel = ranked[i]
  if prefix == '' or string.sub(channel, 1, #prefix) == prefix then
    total = total + 1
    if #picked < limit then
      picked[#picked + 1] = channel
      sizes[#sizes + 1] = ranked[i + 1]
    end
  end
end
local days = {}
if #picked > 0 then
  for i = 1, n do days[i] = redis.call('HMGET', KEYS[n + i], unpack(picked)) end
end
return { total, picked, sizes, days }`);

/** Every field of each day's answers hash (KEYS), in order. */
const READ_ANSWERS = new LuaScript(`
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out`);

export const FEEDBACK_RATINGS = ['up', 'down'] as const;
export type FeedbackRating = (typeof FEEDBACK_RATINGS)[number];

/** A thread (by its root message) on a platform. */
export interface ThreadRef extends MessageRef {
  platform: string;
}

/** Extra keys and arguments a sentiment fold carries to run one part of INSIGHTS_FOLD_LUA. */
export interface InsightsFold {
  keys: string[];
  args: Array<string | number>;
}

const negativeRecord = z.object({
  platform: z.string(),
  workspaceId: z.string(),
  channelId: z.string(),
  rootId: z.string(),
  conversation: z.string(),
  link: z.string().optional(),
  score: z.number(),
  messages: z.number(),
  turnedAt: z.number(),
  updatedAt: z.number(),
});
export type NegativeThread = z.infer<typeof negativeRecord>;

export interface ChannelDay {
  day: string;
  positive: number;
  neutral: number;
  negative: number;
  /** Share of the day's messages per label, 0…1; all 0 on a day without messages. */
  share: { positive: number; neutral: number; negative: number };
  /** Mean message score of the day, −1…+1; null without messages. */
  meanScore: number | null;
}

export interface ChannelTrend {
  platform: string;
  workspaceId: string;
  channelId: string;
  /** Messages over the whole window. */
  messages: number;
  daily: ChannelDay[];
}

export interface ChannelsReport {
  days: string[];
  /** Channels with messages in the window (on the platform asked for). */
  totalChannels: number;
  /** The busiest first. */
  channels: ChannelTrend[];
}

export interface AnswerCounts {
  up: number;
  down: number;
  stopped: number;
}

export interface AnswersReport {
  days: string[];
  perDay: Array<{ day: string } & AnswerCounts>;
  perModel: Array<{ model: string } & AnswerCounts>;
  /** Nothing recorded in the window. */
  empty: boolean;
}

export interface InsightsOptions {
  retentionDays: number;
  /** A thread silent this long is no longer "negative now" (its running state has expired). */
  threadTtlSeconds: number;
  /** The clock; tests pass their own to write days in the past. */
  now?: () => number;
}

const channelField = (platform: string, workspaceId: string, channelId: string) => `${platform}:${workspaceId}:${channelId}`;

function parseChannelField(field: string): { platform: string; workspaceId: string; channelId: string } {
  const [platform = '', workspaceId = '', ...rest] = field.split(':');
  return { platform, workspaceId, channelId: rest.join(':') };
}

function unpackDay(day: string, packed: string | null): ChannelDay {
  const [positive = 0, neutral = 0, negative = 0, sum = 0] = (packed ?? '0,0,0,0').split(',').map(Number);
  const total = positive + neutral + negative;
  const share = (count: number) => (total === 0 ? 0 : count / total);
  return {
    day,
    positive,
    neutral,
    negative,
    share: { positive: share(positive), neutral: share(neutral), negative: share(negative) },
    meanScore: total === 0 ? null : sum / total,
  };
}

/**
 * Daily sentiment aggregates per channel, the threads that are negative now, and answer feedback,
 * for the /insights page. Written by the sentiment worker (through the fold) and by whoever records
 * feedback; every read is one Redis call whatever the history holds.
 */
export class InsightsStore {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #options: InsightsOptions;
  readonly #now: () => number;

  constructor(redis: RedisConnection, keys: Keyspace, options: InsightsOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get retentionDays(): number {
    return this.#options.retentionDays;
  }

  /** What a channel's fold carries: today's counts for the channel. */
  channelFold(platform: string, workspaceId: string, channelId: string): InsightsFold {
    const now = this.#now();
    const day = dayOf(now);
    return {
      keys: [this.#keys.insights(`day:${day}`), this.#keys.insights(`volume:${day}`)],
      args: ['channel', channelField(platform, workspaceId, channelId), expiresAt(now, this.#options.retentionDays)],
    };
  }

  /** What a thread's fold carries: its negative-now record, added, updated or removed. */
  threadFold(conversation: string, root: ThreadRef): InsightsFold {
    const now = this.#now();
    const record = { platform: root.platform, workspaceId: root.workspaceId, channelId: root.channelId, rootId: root.messageId, conversation };
    return {
      keys: this.#negativeKeys(),
      args: ['thread', conversation, JSON.stringify(record), now, this.#forgetBefore(now)],
    };
  }

  /** Whether a negative thread's record still lacks its link. */
  async needsLink(conversation: string): Promise<boolean> {
    const raw = await this.#redis.hget(this.#keys.insights('negative:records'), conversation);
    if (!raw) return false;
    const parsed = negativeRecord.safeParse(JSON.parse(raw));
    return parsed.success && parsed.data.link === undefined;
  }

  async setLink(conversation: string, link: string): Promise<void> {
    await SET_LINK.run(this.#redis, [this.#keys.insights('negative:records')], [conversation, link]);
  }

  /** One 👍 or 👎 on an answer by `model`, today. The caller records each vote once. */
  async recordFeedback(model: string, rating: FeedbackRating): Promise<void> {
    await this.#countAnswer(rating, model);
  }

  /** An answer by `model` stopped by its user, today. */
  async recordStopped(model: string): Promise<void> {
    await this.#countAnswer('stopped', model);
  }

  /** The threads negative now (on one platform, or all), newest turn first, and how many there are. */
  async negativeNow(limit = 100, platform?: string): Promise<{ total: number; threads: NegativeThread[] }> {
    const [total, raws] = (await READ_NEGATIVE.run(this.#redis, this.#negativeKeys(), [this.#forgetBefore(this.#now()), limit, platform ? `${platform}:` : ''])) as [
      number,
      Array<string | null>,
    ];
    const threads = raws.flatMap((raw) => {
      const parsed = raw ? negativeRecord.safeParse(JSON.parse(raw)) : undefined;
      return parsed?.success ? [parsed.data] : [];
    });
    return { total, threads };
  }

  /** Per channel, the busiest first, each day's counts, shares and mean score over `days` days. */
  async channels(options: { days: number; platform?: string | undefined; limit: number }): Promise<ChannelsReport> {
    const days = lastDays(this.#now(), options.days);
    const keys = [...days.map((day) => this.#keys.insights(`volume:${day}`)), ...days.map((day) => this.#keys.insights(`day:${day}`))];
    const [total, picked, sizes, perDay] = (await READ_CHANNELS.run(this.#redis, keys, [days.length, options.platform ? `${options.platform}:` : '', options.limit])) as [number, string[], string[], Array<Array<string | null>>];
    return {
      days,
      totalChannels: total,
      channels: picked.map((field, c) => ({
        ...parseChannelField(field),
        messages: Number(sizes[c]),
        daily: days.map((day, d) => unpackDay(day, perDay[d]?.[c] ?? null)),
      })),
    };
  }

  /** 👍, 👎 and stopped answers per day and per model over `days` days. */
  async answers(options: { days: number }): Promise<AnswersReport> {
    const days = lastDays(this.#now(), options.days);
    const keys = days.map((day) => this.#keys.insights(`answers:${day}`));
    const hashes = (await READ_ANSWERS.run(this.#redis, keys)) as string[][];
    const models = new Map<string, AnswerCounts>();
    let empty = true;
    const perDay = days.map((day, d) => {
      const counts: AnswerCounts = { up: 0, down: 0, stopped: 0 };
      const flat = hashes[d] ?? [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const [kind, ...modelParts] = (flat[i] ?? '').split('\t');
        if (kind !== 'up' && kind !== 'down' && kind !== 'stopped') continue;
        const value = Number(flat[i + 1]);
        const model = modelParts.join('\t');
        counts[kind] += value;
        const forModel = models.get(model) ?? { up: 0, down: 0, stopped: 0 };
        forModel[kind] += value;
        models.set(model, forModel);
        empty = false;
      }
      return { day, ...counts };
    });
    const perModel = [...models].map(([model, counts]) => ({ model, ...counts })).sort((a, b) => b.up + b.down + b.stopped - (a.up + a.down + a.stopped));
    return { days, perDay, perModel, empty };
  }

  async #countAnswer(kind: FeedbackRating | 'stopped', model: string): Promise<void> {
    const now = this.#now();
    const key = this.#keys.insights(`answers:${dayOf(now)}`);
    await this.#redis.multi().hincrby(key, `${kind}\t${model}`, 1).expireat(key, expiresAt(now, this.#options.retentionDays)).exec();
  }

  #negativeKeys(): string[] {
    return [this.#keys.insights('negative:by-turn'), this.#keys.insights('negative:by-last'), this.#keys.insights('negative:records')];
  }

  #forgetBefore(now: number): number {
    return now - this.#options.threadTtlSeconds * 1000;
  }
}
