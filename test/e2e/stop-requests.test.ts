import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { StopRequests } from '../../src/control/stop-requests.ts';
import { createRedis, keyspace, type RedisConnection } from '../../src/queue/redis.ts';
import { eventually, uniquePrefix } from '../support/service.ts';

let redis: RedisConnection;
const subscribers: RedisConnection[] = [];
const keys = keyspace(uniquePrefix('stops'));

beforeAll(() => {
  redis = createRedis(inject('redisUrl'), 'test-stops');
});

afterAll(async () => {
  await Promise.all([redis.quit(), ...subscribers.map((subscriber) => subscriber.quit())]);
});

const subscriber = () => {
  const connection = createRedis(inject('redisUrl'), 'test-stops-sub');
  subscribers.push(connection);
  return connection;
};

describe('stop requests', () => {
  it('reach every listening process, and mark the job for one that has not started it yet', async () => {
    const stops = new StopRequests(redis, keys);
    const heardByA: string[] = [];
    const heardByB: string[] = [];
    const stopA = await stops.listen(subscriber(), (jobId) => heardByA.push(jobId));
    await stops.listen(subscriber(), (jobId) => heardByB.push(jobId));

    expect(await stops.isRequested('job-1')).toBe(false);
    await stops.request('job-1');
    expect(await stops.isRequested('job-1')).toBe(true);
    await eventually(() => heardByA.length === 1 && heardByB.length === 1, 'both listeners to hear the stop');
    expect([heardByA, heardByB]).toEqual([['job-1'], ['job-1']]);

    await stopA();
    await stops.request('job-2');
    await eventually(() => heardByB.includes('job-2'), 'the remaining listener to hear it');
    expect(heardByA).toEqual(['job-1']);
    expect(await stops.isRequested('job-3')).toBe(false);
  });
});
