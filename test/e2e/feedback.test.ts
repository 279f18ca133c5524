import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AnswerRecords } from '../../src/answers/answer-records.ts';
import { FeedbackStore, type Rating } from '../../src/answers/feedback.ts';
import { chatJobSchema } from '../../src/jobs/chat-job.ts';
import { createRedis, keyspace, type RedisConnection } from '../../src/queue/redis.ts';
import { uniquePrefix } from '../support/service.ts';

let redis: RedisConnection;
const keys = keyspace(uniquePrefix('feedback'));

beforeAll(() => {
  redis = createRedis(inject('redisUrl'), 'test-feedback');
});
afterAll(async () => {
  await redis.quit();
});

const job = (id: string, channelId = 'C1') =>
  chatJobSchema.parse({ v: 1, id, platform: 'slack', kind: 'mention', workspaceId: 'T1', channelId, userId: 'U1', text: 'q?', receivedAt: 0, reply: { channelId } });

describe('feedback on answers', () => {
  it('counts one vote per user and answer, per channel and day, in metrics and per model', async () => {
    const answers = new AnswerRecords(redis, keys, 3600);
    const counted: Array<[string, Rating]> = [];
    const perModel: Array<[string, Rating]> = [];
    const feedback = new FeedbackStore({
      redis,
      keys,
      answers,
      insights: { recordFeedback: async (model, rating) => void perModel.push([model, rating]) },
      metrics: { feedback: (platform, rating) => void counted.push([platform, rating]) },
      votesTtlSeconds: 3600,
    });
    const now = Date.UTC(2026, 11, 2, 12);
    await answers.finished(job('a1'), 'org/model-a', 'final');
    await answers.finished(job('a2'), 'org/model-b', 'stopped');

    expect(await feedback.record({ answerId: 'a1', userId: 'U1', rating: 'up' }, now)).toBe('recorded');
    expect(await feedback.record({ answerId: 'a1', userId: 'U1', rating: 'up' }, now)).toBe('already_recorded');
    expect(await feedback.record({ answerId: 'a1', userId: 'U1', rating: 'down' }, now)).toBe('already_recorded');
    expect(await feedback.record({ answerId: 'a1', userId: 'U2', rating: 'down' }, now)).toBe('recorded');
    expect(await feedback.record({ answerId: 'a2', userId: 'U1', rating: 'up' }, now - 6 * 86_400_000)).toBe('recorded');
    expect(await feedback.record({ answerId: 'a2', userId: 'U3', rating: 'up' }, now - 8 * 86_400_000)).toBe('recorded');
    expect(await feedback.record({ answerId: 'gone', userId: 'U1', rating: 'up' }, now)).toBe('unknown_answer');

    expect(await feedback.recent({ platform: 'slack', workspaceId: 'T1', channelId: 'C1' }, 7, now)).toEqual({ up: 2, down: 1 });
    expect(await feedback.recent({ platform: 'slack', workspaceId: 'T1', channelId: 'C2' }, 7, now)).toEqual({ up: 0, down: 0 });
    expect(counted).toEqual([['slack', 'up'], ['slack', 'down'], ['slack', 'up'], ['slack', 'up']]);
    expect(perModel).toEqual([['org/model-a', 'up'], ['org/model-a', 'down'], ['org/model-b', 'up'], ['org/model-b', 'up']]);
    expect((await answers.get('a2'))?.state).toBe('stopped');
  });
});
