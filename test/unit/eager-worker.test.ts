import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker, type Job, type WorkerOptions } from 'bullmq';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { EagerWorker } from '../../src/queue/eager-worker.ts';
import { createRedis, type RedisConnection } from '../../src/queue/redis.ts';

const QUEUE = 'eager';
const open: Array<{ close(): Promise<unknown> }> = [];
let redis: RedisConnection | undefined;

function connection(): RedisConnection {
  redis ??= createRedis(inject('redisUrl'), 'eager-worker-test');
  return redis;
}

/** A queue under a fresh prefix holding `count` jobs (`data.n` = 0, 1, …). */
async function queueWith(count: number): Promise<{ queue: Queue; prefix: string }> {
  const prefix = `eager-test-${randomUUID()}`;
  const queue = new Queue(QUEUE, { connection: connection(), prefix });
  open.push(queue);
  await queue.addBulk(Array.from({ length: count }, (_, n) => ({ name: 'job', data: { n } })));
  return { queue, prefix };
}

/** An EagerWorker over `prefix`'s queue, running (closed after the test). */
function runEager(prefix: string, processor: (job: Job) => Promise<void>, options: Omit<WorkerOptions, 'connection' | 'prefix'>): EagerWorker<unknown, void> {
  const worker = new EagerWorker<unknown, void>(QUEUE, processor, { connection: connection(), prefix, ...options });
  open.push(worker);
  void worker.run();
  return worker;
}

afterEach(async () => {
  for (const closable of open.splice(0).reverse()) await closable.close();
});

afterAll(async () => {
  await redis?.quit();
});

/**
 * Runs a burst of jobs, all waiting before the worker starts, through one kind of worker. Returns
 * when the first processor began and when BullMQ moved the last job to active (`processedOn`,
 * stamped from the same clock).
 */
async function burst(kind: 'bullmq' | 'eager', count: number): Promise<{ firstStart: number; lastTaken: number }> {
  const { queue, prefix } = await queueWith(count);
  const startedAt: number[] = [];
  const allDone = Promise.withResolvers<void>();
  const processor = async () => {
    startedAt.push(Date.now());
    await sleep(5);
    if (startedAt.length === count) allDone.resolve();
  };
  const options = { connection: connection(), prefix, concurrency: count + 100 };
  const worker = kind === 'eager' ? new EagerWorker(QUEUE, processor, options) : new Worker(QUEUE, processor, { ...options, autorun: false });
  open.push(worker);
  void worker.run();
  await allDone.promise;
  await expect.poll(() => queue.getCompletedCount()).toBe(count);
  const jobs = await queue.getJobs(['completed']);
  return { firstStart: Math.min(...startedAt), lastTaken: Math.max(...jobs.map((job) => job.processedOn ?? 0)) };
}

describe('EagerWorker', () => {
  it('starts the first job of a burst before the last is taken (BullMQ takes them all first)', async () => {
    // BullMQ's own loop shows what the test measures: it starts nothing until it has taken all 300.
    const bullmq = await burst('bullmq', 300);
    expect(bullmq.firstStart).toBeGreaterThanOrEqual(bullmq.lastTaken);
    const eager = await burst('eager', 300);
    expect(eager.firstStart).toBeLessThan(eager.lastTaken);
  });

  it('never runs more jobs at once than its concurrency, and finishes every job', async () => {
    const { queue, prefix } = await queueWith(60);
    let running = 0;
    let most = 0;
    runEager(
      prefix,
      async () => {
        most = Math.max(most, ++running);
        await sleep(10);
        running -= 1;
      },
      { concurrency: 7 },
    );
    await expect.poll(() => queue.getCompletedCount(), { timeout: 10_000 }).toBe(60);
    expect(most).toBe(7);
  });

  it('takes messages that come one at a time with one side fetch each, not one per free slot', async () => {
    const { queue, prefix } = await queueWith(0);
    const worker = new EagerWorker<unknown, void>(QUEUE, async () => undefined, { connection: connection(), prefix, concurrency: 100 });
    open.push(worker);
    const fetches = vi.spyOn(worker, 'getNextJob');
    const rateLimitAsks = vi.spyOn(worker['backend'], 'getRateLimitTtl');
    void worker.run();
    for (let n = 0; n < 5; n += 1) {
      await queue.add('job', { n });
      await expect.poll(() => queue.getCompletedCount()).toBe(n + 1);
    }
    // The fetch after a job comes back empty at once, and the next one waits for a message: the
    // queue's rate limit is not asked for in between.
    expect(rateLimitAsks.mock.calls.length).toBeLessThanOrEqual(1);
    // Per message, beside the blocking fetches (BullMQ's marker wait): one side fetch that found
    // nothing more. (A job's side fetch is made before the job can complete.)
    const sideFetches = fetches.mock.calls.filter(([, options]) => options?.block === false);
    expect(sideFetches.length).toBeGreaterThan(0);
    expect(sideFetches.length).toBeLessThanOrEqual(5);
  });

  it('takes a job that arrives while every other slot is busy (a slot held by an empty fetch is given back)', async () => {
    const { queue, prefix } = await queueWith(1);
    const running = new Set<number>();
    let overlapped = false;
    runEager(
      prefix,
      async (job: Job) => {
        running.add(job.data.n);
        if (running.size === 2) overlapped = true;
        await sleep(job.data.n === 0 ? 600 : 10);
        running.delete(job.data.n);
      },
      { concurrency: 2 },
    );
    await expect.poll(() => running.has(0)).toBe(true);
    await sleep(100);
    await queue.add('job', { n: 1 });
    await expect.poll(() => queue.getCompletedCount(), { timeout: 10_000 }).toBe(2);
    expect(overlapped).toBe(true);
  });

  it('waits out a queue-wide rate limit set by a job, then goes on', async () => {
    const { queue, prefix } = await queueWith(3);
    const startedAt: number[] = [];
    const worker = runEager(
      prefix,
      async (job: Job) => {
        startedAt.push(Date.now());
        if (job.data.n === 0 && job.attemptsStarted === 1) {
          await queue.rateLimit(400);
          throw Worker.RateLimitError();
        }
      },
      { concurrency: 1, limiter: { max: Number.MAX_SAFE_INTEGER, duration: 1000 } },
    );
    const fetches = vi.spyOn(worker, 'getNextJob');
    await expect.poll(() => queue.getCompletedCount(), { timeout: 10_000 }).toBe(3);
    // The limited job ran again, and nothing started inside the 400 ms the queue was limited.
    expect(startedAt).toHaveLength(4);
    expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(350);
    // The limit was waited out, not polled: BullMQ answers a limited fetch at once, without I/O.
    expect(fetches.mock.calls.length).toBeLessThan(20);
  });

  it('close waits for the jobs in progress and takes no more', async () => {
    const { queue, prefix } = await queueWith(3);
    let started = 0;
    let finished = 0;
    const worker = runEager(
      prefix,
      async () => {
        started += 1;
        await sleep(200);
        finished += 1;
      },
      { concurrency: 2 },
    );
    await expect.poll(() => started).toBe(2);
    await worker.close();
    expect(finished).toBe(2);
    expect(await queue.getJobCounts('completed', 'wait', 'active')).toEqual({ completed: 2, wait: 1, active: 0 });
  });
});
