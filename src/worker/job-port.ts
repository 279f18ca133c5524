import type { ChatJob } from '../jobs/chat-job.ts';

/**
 * The part of a BullMQ job the chat processor uses. A `Job<ChatJob>` is one; unit tests pass an
 * in-memory one, so the processor runs without Redis.
 */
export interface ChatJobRun {
  readonly id?: string | undefined;
  /** Validated by the processor: a job written by another version may not match. */
  readonly data: unknown;
  /** Attempts spent before this one. */
  readonly attemptsMade: number;
  /** Times a worker has taken the job, this time included (delays and hand-backs count too). */
  readonly attemptsStarted: number;
  readonly opts: { attempts?: number | undefined };
  updateData(data: ChatJob): Promise<void>;
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
  moveToWait(token?: string): Promise<unknown>;
}
