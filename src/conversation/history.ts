import { z } from 'zod';
import type { ChatTurn } from '../llm/hf-chat.ts';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';

const storedTurn = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });

/**
 * Appends a finished exchange exactly once per job: a job re-run after its completion was lost
 * (worker killed between the final edit and the queue's ack) must not write its turns twice.
 */
const APPEND_ONCE = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

export interface HistoryLimits {
  maxTurns: number;
  ttlSeconds: number;
}

/**
 * Each conversation's turns in Redis, newest last, capped and expiring. Kept here rather than
 * re-read from the platform on every message: platforms rate-limit history reads tightly (for
 * distributed apps especially), and /reset needs something to forget.
 */
export class ConversationHistory {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #limits: HistoryLimits;

  constructor(redis: RedisConnection, keys: Keyspace, limits: HistoryLimits) {
    this.#redis = redis;
    this.#keys = keys;
    this.#limits = limits;
  }

  async read(conversation: string): Promise<ChatTurn[]> {
    const raw = await this.#redis.lrange(this.#keys.history(conversation), -this.#limits.maxTurns, -1);
    return raw.flatMap((item) => {
      const parsed = storedTurn.safeParse(JSON.parse(item));
      return parsed.success ? [parsed.data] : [];
    });
  }

  async appendOnce(conversation: string, jobId: string, turns: ChatTurn[]): Promise<boolean> {
    const added = await this.#redis.eval(
      APPEND_ONCE,
      2,
      this.#keys.history(conversation),
      this.#keys.historyApplied(jobId),
      String(this.#limits.ttlSeconds),
      String(this.#limits.maxTurns),
      ...turns.map((turn) => JSON.stringify({ role: turn.role, content: turn.content })),
    );
    return added === 1;
  }

  async clear(conversation: string): Promise<void> {
    await this.#redis.del(this.#keys.history(conversation));
  }
}
