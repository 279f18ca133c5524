/**
 * The small set of failures the worker switches on. Every model or platform error is classified
 * once, where it arises, into one of these; the retry policy is then a table over `kind`.
 */
export type Failure =
  | { kind: 'loading'; estimatedMs: number | undefined; detail: string }
  | { kind: 'rate_limited'; retryAfterMs: number | undefined; detail: string }
  | { kind: 'transient'; detail: string }
  | { kind: 'fatal'; userMessage: string; detail: string };

export class ClassifiedError extends Error {
  readonly failure: Failure;
  /** The HTTP status behind the failure, when there was one (metrics count errors by it). */
  readonly status: number | undefined;
  constructor(failure: Failure, options?: { cause?: unknown; status?: number | undefined }) {
    super(`${failure.kind}: ${failure.detail}`, { cause: options?.cause });
    this.name = 'ClassifiedError';
    this.failure = failure;
    this.status = options?.status;
  }
}

/**
 * Reads a retry hint from rate-limit headers: `Retry-After` (seconds or HTTP date),
 * `retry-after-ms`, and the IETF draft `ratelimit: "api";r=0;t=55` (t = seconds until reset).
 */
export function retryAfterMsFromHeaders(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const rateLimit = headers.get('ratelimit');
  const reset = rateLimit ? /(?:^|;)\s*t=(\d+(?:\.\d+)?)/.exec(rateLimit) : null;
  if (reset?.[1]) return Number(reset[1]) * 1000;
  return undefined;
}

/** The failure behind any error: classified where it arose, else a transient one. */
export function failureOf(err: unknown): Failure {
  if (err instanceof ClassifiedError) return err.failure;
  return { kind: 'transient', detail: err instanceof Error ? err.message : String(err) };
}
