import { z } from 'zod';
import { INSIGHTS_FOLD_LUA, type InsightsFold } from '../insights/store.ts';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';
import { LuaScript } from '../queue/lua-script.ts';
import { labelOf, NEUTRAL_BAND, RETURN_BAND, sentimentLabels, type SentimentLabel } from './labels.ts';
import type { Classification } from './classifier.ts';

/** Weight of the newest message in the running score. */
const ALPHA = 0.4;
/** Running scores kept to tell the trend; per-message records kept for inspection. */
const TRAIL = 4;
const RECORDS = 20;
/** A change of the running score over the trail larger than this is a trend. */
const TREND_THRESHOLD = 0.15;

/**
 * Folds one classified message into a scope's state, once per message id. cjson keeps it one
 * atomic step, so messages classified in parallel never lose each other's updates. The insights
 * aggregates move in the same step (ARGV[7] and on, see INSIGHTS_FOLD_LUA).
 */
const FOLD = new LuaScript(`
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[6]) == false then return redis.call('GET', KEYS[1]) end
local raw = redis.call('GET', KEYS[1])
local s = raw and cjson.decode(raw) or { count = 0, score = 0, counts = { positive = 0, neutral = 0, negative = 0 }, trail = {}, records = {} }
local score = tonumber(ARGV[1])
s.count = s.count + 1
if s.count == 1 then s.score = score else s.score = ${ALPHA} * score + ${1 - ALPHA} * s.score end
s.counts[ARGV[2]] = (s.counts[ARGV[2]] or 0) + 1
local previous = s.label
local label = s.label or 'neutral'
if s.score > ${NEUTRAL_BAND} then label = 'positive'
elseif s.score < -${NEUTRAL_BAND} then label = 'negative'
elseif (label == 'positive' and s.score < ${RETURN_BAND}) or (label == 'negative' and s.score > -${RETURN_BAND}) then label = 'neutral' end
s.label = label
table.insert(s.trail, s.score)
while #s.trail > ${TRAIL} do table.remove(s.trail, 1) end
table.insert(s.records, { messageId = ARGV[4], score = score, label = ARGV[2], classifier = ARGV[3], at = tonumber(ARGV[5]) })
while #s.records > ${RECORDS} do table.remove(s.records, 1) end
s.updatedAt = tonumber(ARGV[5])
redis.call('SET', KEYS[1], cjson.encode(s), 'EX', ARGV[6])
${INSIGHTS_FOLD_LUA}
return cjson.encode(s)`);

/**
 * Decides, atomically, what the platform must be told after a fold: re-tag when the label differs
 * from the tag shown, alert when the thread has just turned negative. Marks both as done; the
 * caller reverts a mark whose platform call failed, so a retry decides the same way.
 */
const DECIDE = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return '{}' end
local s = cjson.decode(raw)
local out = {}
if ARGV[2] == '1' and s.tagged ~= ARGV[1] then
  out.retagFrom = s.tagged or ''
  s.tagged = ARGV[1]
end
if ARGV[1] == 'negative' then
  if ARGV[3] == '1' and not s.alerted then s.alerted = true; out.alert = true end
else
  s.alerted = false
end
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return cjson.encode(out)`);

/** Puts a field back to its value before DECIDE, if nobody changed it since. */
const REVERT = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
if tostring(s[ARGV[1]]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then s[ARGV[1]] = nil elseif ARGV[3] == 'false' then s[ARGV[1]] = false else s[ARGV[1]] = ARGV[3] end
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1`);

const storedState = z.object({
  count: z.number(),
  score: z.number(),
  counts: z.object({ positive: z.number().default(0), neutral: z.number().default(0), negative: z.number().default(0) }),
  // cjson writes an empty Lua table as {}: read that as an empty list.
  trail: z.union([z.array(z.number()), z.object({}).transform(() => [])]),
  records: z.union([
    z.array(z.object({ messageId: z.string(), score: z.number(), label: z.string(), classifier: z.string(), at: z.number() })),
    z.object({}).transform(() => []),
  ]),
  updatedAt: z.number(),
  label: z.enum(sentimentLabels).optional(),
  tagged: z.string().optional(),
});

export type Trend = 'improving' | 'worsening' | 'steady';

export interface SentimentSummary {
  /** From the running score, with hysteresis: see RETURN_BAND. */
  label: SentimentLabel;
  /** Running (exponentially weighted) score, -1…+1. */
  score: number;
  trend: Trend;
  count: number;
  counts: Record<SentimentLabel, number>;
  /** The classifier of the newest message, and of each recent message. */
  lastClassifier: string | undefined;
  records: Array<{ messageId: string; score: number; label: string; classifier: string; at: number }>;
  updatedAt: number;
}

export interface FollowUp {
  /** Set when the thread's tag must change: the label shown so far ('' for none). */
  retagFrom?: SentimentLabel | '';
  alert?: boolean;
}

function summarize(raw: string | null): SentimentSummary | undefined {
  if (!raw) return undefined;
  const parsed = storedState.safeParse(JSON.parse(raw));
  if (!parsed.success) return undefined;
  const state = parsed.data;
  const change = (state.trail.at(-1) ?? 0) - (state.trail[0] ?? 0);
  return {
    label: state.label ?? labelOf(state.score),
    score: state.score,
    trend: change > TREND_THRESHOLD ? 'improving' : change < -TREND_THRESHOLD ? 'worsening' : 'steady',
    count: state.count,
    counts: state.counts,
    lastClassifier: state.records.at(-1)?.classifier,
    records: state.records,
    updatedAt: state.updatedAt,
  };
}

/** Scope of a whole channel's sentiment, which `/sentiment` reports where there is no thread. */
export function channelScope(platform: string, workspaceId: string, channelId: string): string {
  return `channel:${platform}:${workspaceId}:${channelId}`;
}

/** Running sentiment per conversation (thread, chain, DM) and per channel, in Redis with an expiry. */
export class SentimentStore {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #ttlSeconds: number;

  constructor(redis: RedisConnection, keys: Keyspace, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * Adds one message's score to a scope, once per message id; returns the new state. `insights`
   * moves the scope's insights aggregates in the same step.
   */
  async fold(scope: string, messageId: string, result: Classification, insights?: InsightsFold): Promise<SentimentSummary | undefined> {
    const raw = (await FOLD.run(
      this.#redis,
      [this.#keys.sentiment(scope), this.#keys.sentimentApplied(scope, messageId), ...(insights?.keys ?? [])],
      [result.score, labelOf(result.score), result.classifier, messageId, Date.now(), this.#ttlSeconds, ...(insights?.args ?? [''])],
    )) as string | null;
    return summarize(raw);
  }

  async decide(scope: string, label: SentimentLabel, options: { tag: boolean; alert: boolean }): Promise<FollowUp> {
    const raw = (await DECIDE.run(this.#redis, [this.#keys.sentiment(scope)], [label, options.tag ? '1' : '0', options.alert ? '1' : '0'])) as string;
    return JSON.parse(raw) as FollowUp;
  }

  /** Undoes a `decide` mark whose platform call failed. */
  async revert(scope: string, field: 'tagged' | 'alerted', markedAs: string, previous: string): Promise<void> {
    await REVERT.run(this.#redis, [this.#keys.sentiment(scope)], [field, markedAs, previous]);
  }

  async read(scope: string): Promise<SentimentSummary | undefined> {
    return summarize(await this.#redis.get(this.#keys.sentiment(scope)));
  }
}
