import type { Failure } from './failure.ts';

/** An error that has been classified where it arose: the workers act on its `failure`. */
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

/** The failure behind any error: classified where it arose, else a transient one. */
export function failureOf(err: unknown): Failure {
  if (err instanceof ClassifiedError) return err.failure;
  return { kind: 'transient', detail: err instanceof Error ? err.message : String(err) };
}
