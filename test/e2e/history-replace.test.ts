import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConversationHistory } from '../../src/conversation/history.ts';
import { createRedis, keyspace, type RedisConnection } from '../../src/queue/redis.ts';
import { uniquePrefix } from '../support/service.ts';

let redis: RedisConnection;
const keys = keyspace(uniquePrefix('history'));

beforeAll(() => {
  redis = createRedis(inject('redisUrl'), 'test-history');
});
afterAll(async () => {
  await redis.quit();
});

const exchange = (question: string, answer: string) => [
  { role: 'user' as const, content: question },
  { role: 'assistant' as const, content: answer },
];

describe('conversation history, an answer asked again', () => {
  it('replaces the turn’s exchange where it stands, once, and reads what came before it', async () => {
    const history = new ConversationHistory(redis, keys, { maxTurns: 20, ttlSeconds: 60 });
    await history.appendOnce('c1', 'j1', exchange('one?', 'first'));
    await history.appendOnce('c1', 'j2', exchange('two?', 'second'));
    expect(await history.read('c1', { before: 'j1' })).toEqual([]);
    expect(await history.read('c1', { before: 'j2' })).toEqual(exchange('one?', 'first'));

    expect(await history.appendOnce('c1', 'j1.r1', exchange('one?', 'first, again'), 'j1')).toBe(true);
    expect(await history.appendOnce('c1', 'j1.r1', exchange('one?', 'first, again'), 'j1')).toBe(false);
    expect(await history.read('c1')).toEqual([...exchange('one?', 'first, again'), ...exchange('two?', 'second')]);

    // Asked again once more: the regenerate's own exchange is the one replaced.
    await history.appendOnce('c1', 'j1.r2', exchange('one?', 'third take'), 'j1.r1');
    expect(await history.read('c1')).toEqual([...exchange('one?', 'third take'), ...exchange('two?', 'second')]);
  });

  it('appends when the replaced exchange is gone or was only partly written', async () => {
    const history = new ConversationHistory(redis, keys, { maxTurns: 20, ttlSeconds: 60 });
    // Job ids are applied once per keyspace: this conversation's are its own.
    await history.appendOnce('c2', 'k1', [{ role: 'user', content: 'odd' }]);
    await history.appendOnce('c2', 'k2', exchange('two?', 'second'));
    await history.appendOnce('c2', 'k1.r1', exchange('odd', 'even'), 'k1');
    expect(await history.read('c2')).toEqual([...exchange('two?', 'second'), ...exchange('odd', 'even')]);
    await history.appendOnce('c2', 'k9.r1', exchange('new?', 'yes'), 'k9');
    expect((await history.read('c2')).at(-1)).toEqual({ role: 'assistant', content: 'yes' });
  });
});
