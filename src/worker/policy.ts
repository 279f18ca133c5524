import type { Failure } from '../errors/index.ts';

/** Spreads a delay by ±20% so many jobs delayed by the same cold start do not return at once. */
export function jitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * Cold start: the model's own estimate, clamped, so we neither hammer it nor oversleep. Without
 * an estimate, look again soon and then less often, as the wait so far grows.
 */
export function loadingDelayMs(estimatedMs: number | undefined, waitedSoFarMs: number, random?: () => number): number {
  const wait = estimatedMs ?? 5_000 + waitedSoFarMs / 2;
  return jitter(clamp(wait, 2_000, 60_000), random);
}

/** Rate limited: the server's hint when it gave one, else a growing wait. */
export function rateLimitDelayMs(retryAfterMs: number | undefined, waitedSoFarMs: number, random?: () => number): number {
  if (retryAfterMs !== undefined) return clamp(retryAfterMs, 250, 120_000) + jitter(250, random);
  return jitter(clamp(5_000 + waitedSoFarMs, 5_000, 60_000), random);
}

/** Backoff for transient failures, which do spend attempts: 1 s, 2 s, 4 s … capped at 30 s. */
export function transientBackoffMs(attemptsMade: number, random?: () => number): number {
  return jitter(Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), 30_000), random);
}

/** What the user is told about a failure; the chat worker words it (notices.ts), the sentiment worker shows nothing. */
export type Notice =
  | { kind: 'warming'; seconds: number }
  | { kind: 'busy'; seconds: number }
  | { kind: 'retrying' }
  | { kind: 'gave_up_warming'; minutes: number }
  | { kind: 'failed' }
  | { kind: 'fatal'; message: string };

/** What a worker does about one failure. */
export type Action =
  /** Come back to this job in `ms`, without spending an attempt (a cold start). */
  | { type: 'delay'; reason: 'loading'; ms: number; notice: Notice }
  /** Every worker of the queue pauses for `ms`; this job goes back without spending an attempt. */
  | { type: 'rate_limit_queue'; ms: number; notice: Notice }
  /** Spend an attempt: the queue retries with backoff (transientBackoffMs). */
  | { type: 'retry'; notice: Notice }
  /** No further attempts. */
  | { type: 'give_up'; notice: Notice };

export interface AttemptState {
  /** Attempts spent before this one (BullMQ's attemptsMade). */
  attemptsMade: number;
  maxAttempts: number;
  /** Time already spent delayed by cold starts, and by rate limits (HF_LOADING_MAX_WAIT_MS bounds each). */
  loadingWaitedMs: number;
  rateLimitWaitedMs: number;
  loadingMaxWaitMs: number;
}

/**
 * The one failure policy of both workers: from a failure and how far the job has come, what to
 * do next. Pure; `random` is the jitter's source, so tests can fix it.
 */
export function decide(failure: Failure, state: AttemptState, random: () => number = Math.random): Action {
  switch (failure.kind) {
    case 'loading': {
      const ms = loadingDelayMs(failure.estimatedMs, state.loadingWaitedMs, random);
      if (state.loadingWaitedMs + ms > state.loadingMaxWaitMs) {
        return { type: 'give_up', notice: { kind: 'gave_up_warming', minutes: Math.round(state.loadingMaxWaitMs / 60_000) } };
      }
      return { type: 'delay', reason: 'loading', ms, notice: { kind: 'warming', seconds: Math.ceil(ms / 1000) } };
    }
    case 'rate_limited': {
      const ms = rateLimitDelayMs(failure.retryAfterMs, state.rateLimitWaitedMs, random);
      if (state.rateLimitWaitedMs + ms > state.loadingMaxWaitMs) return { type: 'give_up', notice: { kind: 'failed' } };
      return { type: 'rate_limit_queue', ms, notice: { kind: 'busy', seconds: Math.ceil(ms / 1000) } };
    }
    case 'transient':
      if (state.attemptsMade + 1 >= state.maxAttempts) return { type: 'give_up', notice: { kind: 'failed' } };
      return { type: 'retry', notice: { kind: 'retrying' } };
    case 'fatal':
      return { type: 'give_up', notice: { kind: 'fatal', message: failure.userMessage } };
  }
}
