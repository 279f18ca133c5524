import { z } from 'zod';
import type { ChatTurn } from '../llm/hf-chat.ts';
import { LuaScript } from '../queue/lua-script.ts';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';

const storedTurn = z.object({ role: z.enum(['user', 'assistant']), content: z.string(), job: z.string().optional() });

/**
 * Appends a finished exchange exactly once per job: a job re-run after its completion was lost
 * (worker killed between the final edit and the queue's ack) must not write its turns twice.
 */
const APPEND_ONCE = new LuaScript(`
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`);

/**
 * The same, for an answer asked again (regenerate): the exchange the replaced job wrote is
 * overwritten where it stands (its turns carry the job's id), so later turns keep their place; when
 * it is gone (trimmed, or a stop that wrote nothing) the new exchange is appended.
 * ARGV: TTL, max turns, the replaced job's id, the turns.
 */
const REPLACE_ONCE = new LuaScript(`
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
local found = {}
for i, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, turn = pcall(cjson.decode, item)
  if ok and type(turn) == 'table' and turn.job == ARGV[3] then table.insert(found, i - 1) end
end
if #found == #ARGV - 3 then
  for k, index in ipairs(found) do redis.call('LSET', KEYS[1], index, ARGV[3 + k]) end
else
  for _, index in ipairs(found) do redis.call('LSET', KEYS[1], index, '\0replaced') end
  redis.call('LREM', KEYS[1], 0, '\0replaced')
  for i = 4, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`);

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

  /** The turns, oldest first; `before`: only those before the exchange that job wrote (an answer asked again). */
  async read(conversation: string, options: { before?: string | undefined } = {}): Promise<ChatTurn[]> {
    const raw = await this.#redis.lrange(this.#keys.history(conversation), -this.#limits.maxTurns, -1);
    const turns = raw.flatMap((item) => {
      const parsed = storedTurn.safeParse(JSON.parse(item));
      return parsed.success ? [parsed.data] : [];
    });
    const end = options.before === undefined ? -1 : turns.findIndex((turn) => turn.job === options.before);
    return (end === -1 ? turns : turns.slice(0, end)).map(({ role, content }) => ({ role, content }));
  }

  /**
   * Writes a job's exchange once. Each turn keeps the job's id, so that `replaces` (the job whose
   * answer this one regenerates) can have its exchange overwritten in place.
   */
  async appendOnce(conversation: string, jobId: string, turns: ChatTurn[], replaces?: string): Promise<boolean> {
    const stored = turns.map((turn) => JSON.stringify({ role: turn.role, content: turn.content, job: jobId }));
    const added = await (replaces ? REPLACE_ONCE : APPEND_ONCE).run(
      this.#redis,
      [this.#keys.history(conversation), this.#keys.historyApplied(jobId)],
      [String(this.#limits.ttlSeconds), String(this.#limits.maxTurns), ...(replaces ? [replaces] : []), ...stored],
    );
    return added === 1;
  }

  async clear(conversation: string): Promise<void> {
    await this.#redis.del(this.#keys.history(conversation));
  }
}
