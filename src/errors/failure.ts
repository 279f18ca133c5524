/**
 * The small set of failures the workers act on. Every model or platform error is classified once,
 * where it arises (the HF client, the platforms' surfaces), into one of these; what to do
 * about each is decided in one place (src/worker/policy.ts).
 */

/** The model is loading (a cold start): wait, without spending an attempt. */
export interface LoadingFailure {
  kind: 'loading';
  /** The server's estimate of the time left, when it gave one. */
  estimatedMs: number | undefined;
  detail: string;
}

/** Too many requests: the whole queue waits, without spending an attempt. */
export interface RateLimitedFailure {
  kind: 'rate_limited';
  /** The server's Retry-After hint, when it gave one. */
  retryAfterMs: number | undefined;
  detail: string;
}

/** Something a retry may fix: a dropped connection, a 5xx, a silent stream. Spends an attempt. */
export interface TransientFailure {
  kind: 'transient';
  detail: string;
}

/** Nothing a retry fixes. `userMessage` is a short fixed explanation, safe to post; `detail` goes to the log only. */
export interface FatalFailure {
  kind: 'fatal';
  userMessage: string;
  detail: string;
}

export type Failure = LoadingFailure | RateLimitedFailure | TransientFailure | FatalFailure;
export type FailureKind = Failure['kind'];
