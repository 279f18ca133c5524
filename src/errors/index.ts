export { ClassifiedError, failureOf } from './classified-error.ts';
export type { FatalFailure, Failure, FailureKind, LoadingFailure, RateLimitedFailure, TransientFailure } from './failure.ts';
