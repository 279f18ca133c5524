import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LuaScript } from '../../src/queue/lua-script.ts';
import { createRedis, type RedisConnection } from '../../src/queue/redis.ts';
import { eventually, uniquePrefix } from '../support/service.ts';

let redis: RedisConnection;
let monitor: Redis;
const prefix = uniquePrefix('lua');
/** The commands clients sent that name this run's keys (not those the scripts ran), as MONITOR saw them. */
const sent: string[] = [];

beforeAll(async () => {
  redis = createRedis(inject('redisUrl'), 'test-lua');
  monitor = await new Redis(inject('redisUrl')).monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!source.includes('lua') && args.some((arg) => arg.includes(prefix))) sent.push(String(args[0]).toLowerCase());
  });
});
afterAll(async () => {
  monitor.disconnect();
  await redis.quit();
});

describe('LuaScript', () => {
  it('sends its body once, when Redis does not hold it, and its SHA1 after that', async () => {
    // A body no earlier run has loaded: the run's prefix is in it.
    const increment = new LuaScript(`-- ${prefix}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    expect(await increment.run(redis, [`${prefix}:n`], [2])).toBe(2);
    expect(await increment.run(redis, [`${prefix}:n`], [3])).toBe(5);
    await eventually(() => sent.length >= 3, 'MONITOR to report the calls');
    expect(sent).toEqual(['evalsha', 'eval', 'evalsha']);
  });

  it("passes on the script's own errors", async () => {
    const failing = new LuaScript(`-- ${prefix}\nreturn redis.error_reply('refused: ' .. KEYS[1])`);
    await expect(failing.run(redis, [`${prefix}:k`])).rejects.toThrow(`refused: ${prefix}:k`);
  });
});
