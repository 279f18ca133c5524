import { DelayedError } from 'bullmq';
import { EagerWorker } from '../queue/eager-worker.ts';
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

/** The BullMQ worker over the chat queue and the processor it runs. */
export interface ChatWorker {
  processor: ChatProcessor;
  /** Aborts a job this process runs (a no-op for others). */
  cancelJob(jobId: string, reason: string): void;
  close(): Promise<void>;
}

export function createChatWorker(deps: ChatWorkerDeps, options: ChatWorkerOptions): ChatWorker {
  const processor = new ChatProcessor(deps, options);
  const worker = createBullWorker(deps, processor, options);
  worker.run().catch((err: unknown) => deps.logger.error({ err }, 'chat worker stopped'));
  return {
    processor,
    cancelJob: (jobId, reason) => worker.cancelJob(jobId, reason),
    close: () => worker.close(),
  };
}

function createBullWorker(deps: ChatWorkerDeps, processor: ChatProcessor, options: ChatWorkerOptions): EagerWorker<ChatJob, ChatResult> {
  const worker = new EagerWorker<ChatJob, ChatResult>(CHAT_QUEUE, (job, token, signal) => processor.process(job, token, signal), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
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
