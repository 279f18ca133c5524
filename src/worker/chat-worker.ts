import { DelayedError, Worker } from 'bullmq';
import type { RedisConnection } from '../queue/redis.ts';
import type { ChatJob } from '../jobs/chat-job.ts';
import { CHAT_QUEUE } from '../queue/chat-queue.ts';
import { ChatProcessor, type ChatProcessorDeps, type ChatProcessorOptions, type ChatResult } from './chat-processor.ts';
import { transientBackoffMs } from './policy.ts';

export type { ChatResult } from './chat-processor.ts';

/** Workers lost while holding one job before it is given up. */
const MAX_STALLS = 10;
/** BullMQ's message for a job failed by the stalled-job checker. */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/i;
/**
 * BullMQ honours a queue-level rate limit (`queue.rateLimit`, set on a 429) only in workers that
 * have a limiter. Without HF_RATE_LIMIT this one never limits by itself.
 */
const NO_LIMIT = { max: Number.MAX_SAFE_INTEGER, duration: 1000 };

export interface ChatWorkerOptions extends ChatProcessorOptions {
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  lockMs: number;
  rateLimit: { max: number; windowMs: number } | undefined;
  systemPrompt: string;
}

export type ChatWorkerDeps = ChatProcessorDeps;

/** BullMQ workers over the one queue (several fetch loops, see fetchLoops) sharing one processor. */
export interface ChatWorker {
  processor: ChatProcessor;
  /** Aborts a job this process runs (a no-op for others). */
  cancelJob(jobId: string, reason: string): void;
  close(): Promise<void>;
}

/** Concurrency one fetch loop serves; more slots get more loops. */
const SLOTS_PER_FETCH_LOOP = 25;
const MAX_FETCH_LOOPS = 4;

/**
 * A BullMQ worker fetches jobs one after another, each `moveToActive` awaited before the next, and
 * starts none until it has fetched all it may: when a hundred conversations write at once, the
 * last waits a hundred round trips. Several workers in one process fetch side by side.
 */
function fetchLoops(concurrency: number): number {
  return Math.max(1, Math.min(MAX_FETCH_LOOPS, Math.floor(concurrency / SLOTS_PER_FETCH_LOOP)));
}

export function createChatWorker(deps: ChatWorkerDeps, options: ChatWorkerOptions): ChatWorker {
  const processor = new ChatProcessor(deps, options);
  const loops = fetchLoops(options.concurrency);
  const workers = Array.from({ length: loops }, (_, loop) =>
    createBullWorker(deps, processor, options, Math.floor(options.concurrency / loops) + (loop < options.concurrency % loops ? 1 : 0)),
  );
  return {
    processor,
    cancelJob: (jobId, reason) => {
      for (const worker of workers) worker.cancelJob(jobId, reason);
    },
    close: async () => {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}

function createBullWorker(deps: ChatWorkerDeps, processor: ChatProcessor, options: ChatWorkerOptions, concurrency: number): Worker<ChatJob, ChatResult> {
  const worker = new Worker<ChatJob, ChatResult>(CHAT_QUEUE, (job, token, signal) => processor.process(job, token, signal), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency,
    // A killed worker's job is picked up by another after about one lock period.
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    // Each stall is a worker lost while holding the job; after this many, the job is given up (below).
    maxStalledCount: MAX_STALLS,
    limiter: options.rateLimit ? { max: options.rateLimit.max, duration: options.rateLimit.windowMs } : NO_LIMIT,
    settings: { backoffStrategy: (attemptsMade: number) => transientBackoffMs(attemptsMade) },
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError) return;
    deps.logger.warn({ jobId: job.id, err: err.message }, 'chat job failed');
    // BullMQ failed it without our processor running: tell the user in the reply they were watching.
    if (STALLED_TOO_OFTEN.test(err.message)) {
      processor.abandon(job).catch((abandonErr: unknown) => deps.logger.warn({ err: abandonErr, jobId: job.id }, 'could not tell the user'));
    }
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'chat worker error'));
  return worker;
}
