/**
 * `node bench/insights.ts`: what reading the /insights page costs at size. Writes N channels × D
 * days of aggregates (one message per channel and day, through the real sentiment fold with the
 * clock moved back) and T negative threads, then times each read the page makes and counts its
 * Redis commands. The keys are removed afterwards.
 *
 *   node bench/insights.ts                          # 1,000 channels × 90 days, 1,000 negative threads
 *   node bench/insights.ts --channels 200 --days 30 --threads 100
 */
import { parseArgs } from 'node:util';
import { InsightsStore } from '../src/insights/store.ts';
import { createRedis, keyspace } from '../src/queue/redis.ts';
import { channelScope, SentimentStore } from '../src/sentiment/store.ts';

const DAY = 24 * 3600 * 1000;
const { values } = parseArgs({
  options: {
    channels: { type: 'string', default: '1000' },
    days: { type: 'string', default: '90' },
    threads: { type: 'string', default: '1000' },
    reads: { type: 'string', default: '20' },
  },
});
const channels = Number(values.channels);
const days = Number(values.days);
const threads = Number(values.threads);
const reads = Number(values.reads);

const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'insights-bench');
const prefix = `bench-insights-${process.pid}`;
const keys = keyspace(prefix);
const clock = { now: Date.now() };
const insights = new InsightsStore(redis, keys, { retentionDays: days + 1, threadTtlSeconds: 14 * 24 * 3600, now: () => clock.now });
const sentiment = new SentimentStore(redis, keys, 3600);

/** Runs `count` writes, `width` at a time. */
async function inBatches(count: number, write: (i: number) => Promise<unknown>, width = 2000): Promise<void> {
  for (let start = 0; start < count; start += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, i) => write(start + i)));
  }
}

const channel = (c: number) => ({ platform: c % 2 ? 'slack' : 'discord', workspaceId: 'W1', channelId: `C${c}` });

try {
  const writeStarted = performance.now();
  for (let back = days - 1; back >= 0; back -= 1) {
    clock.now = Date.now() - back * DAY;
    await inBatches(channels, (c) => {
      const { platform, workspaceId, channelId } = channel(c);
      const score = Math.sin(c + back) * 0.8;
      return sentiment.fold(channelScope(platform, workspaceId, channelId), `m${back}-${c}`, { score, classifier: 'lexicon' }, insights.channelFold(platform, workspaceId, channelId));
    });
  }
  clock.now = Date.now();
  await inBatches(threads * 2, (i) => {
    const t = Math.floor(i / 2);
    const where = channel(t % channels);
    const conversation = `${where.platform}:W1:${where.channelId}:t${t}`;
    return sentiment.fold(conversation, `n${i}`, { score: -0.9, classifier: 'lexicon' }, insights.threadFold(conversation, { ...where, messageId: `t${t}` }));
  });
  const writeSeconds = (performance.now() - writeStarted) / 1000;
  const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);

  const measure = async (name: string, read: () => Promise<unknown>) => {
    // Every command ioredis sends goes through sendCommand: count them.
    const original = redis.sendCommand;
    let commands = 0;
    redis.sendCommand = function (this: typeof redis, ...args: unknown[]) {
      commands += 1;
      return Reflect.apply(original, this, args) as ReturnType<typeof original>;
    } as typeof original;
    const times: number[] = [];
    for (let i = 0; i < reads; i += 1) {
      const started = performance.now();
      await read();
      times.push(performance.now() - started);
    }
    redis.sendCommand = original;
    times.sort((a, b) => a - b);
    const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
    return `| ${name} | ${commands / reads} | ${at(0.5)} | ${at(0.95)} |`;
  };

  const rows = [
    await measure('negative now (100 newest)', () => insights.negativeNow(100)),
    await measure('channels, 30 days, busiest 10', () => insights.channels({ days: 30, limit: 10 })),
    await measure('channels, 30 days, one platform, busiest 10', () => insights.channels({ days: 30, platform: 'slack', limit: 10 })),
    await measure(`channels, ${days} days, busiest 100`, () => insights.channels({ days, limit: 100 })),
    await measure('answers, 30 days', () => insights.answers({ days: 30 })),
  ];
  console.log(`${channels} channels × ${days} days (${channels * days} channel-days), ${threads} negative threads; written in ${writeSeconds.toFixed(1)} s`);
  console.log(`Redis used_memory after writing: ${(memory / 1024 / 1024).toFixed(1)} MiB (the whole server, not only these keys)\n`);
  console.log('| read | Redis commands | median ms | p95 ms |\n| --- | --- | --- | --- |');
  console.log(rows.join('\n'));
} finally {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
  await redis.quit();
}
