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
