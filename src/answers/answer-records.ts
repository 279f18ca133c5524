import { z } from 'zod';
import { chatJobSchema, type ChatJob } from '../jobs/chat-job.ts';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';

/**
 * What a button on an answer needs to know about it, long after its job has left the queue: the
 * question as it was asked (a regenerate asks it again), who asked, which model answered, where it
 * is shown and how it ended.
 */
export const answerRecordSchema = z.object({
  job: chatJobSchema,
  model: z.string(),
  state: z.enum(['final', 'stopped', 'failed']),
  finishedAt: z.number(),
});
export type AnswerRecord = z.infer<typeof answerRecordSchema>;
export type AnswerState = AnswerRecord['state'];

/** Answers by their job's id, kept as long as conversations are (CONTEXT_TTL_SECONDS). */
export class AnswerRecords {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #ttlSeconds: number;

  constructor(redis: RedisConnection, keys: Keyspace, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
  }

  async finished(job: ChatJob, model: string, state: AnswerState, now = Date.now()): Promise<void> {
    const record: AnswerRecord = { job, model, state, finishedAt: now };
    await this.#redis.set(this.#keys.answer(job.id), JSON.stringify(record), 'EX', this.#ttlSeconds);
  }

  /** The answer, or undefined when it is unknown or expired (or was written by an incompatible version). */
  async get(jobId: string): Promise<AnswerRecord | undefined> {
    const raw = await this.#redis.get(this.#keys.answer(jobId));
    if (raw === null) return undefined;
    const parsed = answerRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }
}
