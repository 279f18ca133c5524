import type { InsightsStore } from '../insights/store.ts';
import type { Metrics } from '../metrics.ts';
import { LuaScript } from '../queue/lua-script.ts';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';
import type { AnswerRecords } from './answer-records.ts';

export const RATINGS = ['up', 'down'] as const;
export type Rating = (typeof RATINGS)[number];

/** How long the per-channel daily counts are kept: long enough for "the last 7 days". */
const DAY_COUNT_TTL_SECONDS = 8 * 24 * 3600;
const DAY_MS = 24 * 3600 * 1000;

/**
 * KEYS[1]: the answer's votes (user → rating), KEYS[2]: the channel's counts for the day.
 * ARGV: user, rating, votes TTL, day-count TTL. The first vote of a user on an answer counts; a
 * second click (the same or the other button) changes nothing.
 */
const RECORD_ONCE = new LuaScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1`);

export type FeedbackOutcome = 'recorded' | 'already_recorded' | 'unknown_answer';

export interface FeedbackCounts {
  up: number;
  down: number;
}

/**
 * 👍 / 👎 on answers, from any platform's buttons: once per user and answer, counted per channel
 * and day (for `/sentiment`), per model and day (the insights page) and in metrics.
 */
export class FeedbackStore {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #answers: Pick<AnswerRecords, 'get'>;
  readonly #insights: Pick<InsightsStore, 'recordFeedback'> | undefined;
  readonly #metrics: Pick<Metrics, 'feedback'>;
  readonly #votesTtlSeconds: number;

  constructor(deps: {
    redis: RedisConnection;
    keys: Keyspace;
    answers: Pick<AnswerRecords, 'get'>;
    insights: Pick<InsightsStore, 'recordFeedback'> | undefined;
    metrics: Pick<Metrics, 'feedback'>;
    votesTtlSeconds: number;
  }) {
    this.#redis = deps.redis;
    this.#keys = deps.keys;
    this.#answers = deps.answers;
    this.#insights = deps.insights;
    this.#metrics = deps.metrics;
    this.#votesTtlSeconds = deps.votesTtlSeconds;
  }

  async record(vote: { answerId: string; userId: string; rating: Rating }, now = Date.now()): Promise<FeedbackOutcome> {
    const answer = await this.#answers.get(vote.answerId);
    if (!answer) return 'unknown_answer';
    const { platform, workspaceId, channelId } = answer.job;
    const first = await RECORD_ONCE.run(
      this.#redis,
      [this.#keys.feedbackVotes(vote.answerId), this.#keys.feedbackDay(platform, workspaceId, channelId, dayOf(now))],
      [vote.userId, vote.rating, this.#votesTtlSeconds, DAY_COUNT_TTL_SECONDS],
    );
    if (first !== 1) return 'already_recorded';
    this.#metrics.feedback(platform, vote.rating);
    await this.#insights?.recordFeedback(answer.model, vote.rating);
    return 'recorded';
  }

  /** A channel's 👍 / 👎 over the last `days` days, today included. */
  async recent(channel: { platform: string; workspaceId: string; channelId: string }, days = 7, now = Date.now()): Promise<FeedbackCounts> {
    const pipeline = this.#redis.pipeline();
    for (let back = 0; back < days; back++) {
      pipeline.hgetall(this.#keys.feedbackDay(channel.platform, channel.workspaceId, channel.channelId, dayOf(now - back * DAY_MS)));
    }
    const counts: FeedbackCounts = { up: 0, down: 0 };
    for (const [, day] of (await pipeline.exec()) ?? []) {
      const fields = (day ?? {}) as Record<string, string>;
      counts.up += Number(fields.up ?? 0);
      counts.down += Number(fields.down ?? 0);
    }
    return counts;
  }
}

/** The UTC day, as the insights keep days. */
function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}
