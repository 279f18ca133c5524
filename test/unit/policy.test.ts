import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/errors/index.ts';
import { decide, jitter, loadingDelayMs, rateLimitDelayMs, transientBackoffMs, type Action, type AttemptState } from '../../src/worker/policy.ts';

const low = () => 0;
const high = () => 1;

describe('retry policy', () => {
  it('jitters by ±20%', () => {
    expect(jitter(1000, low)).toBe(800);
    expect(jitter(1000, high)).toBe(1200);
  });

  it('waits for a cold start as long as the model says, clamped to 2–60 s', () => {
    expect(loadingDelayMs(20_000, 0, () => 0.5)).toBe(20_000);
    expect(loadingDelayMs(100, 0, () => 0.5)).toBe(2_000);
    expect(loadingDelayMs(600_000, 0, () => 0.5)).toBe(60_000);
  });

  it('without an estimate, looks again soon, then less often', () => {
    expect(loadingDelayMs(undefined, 0, () => 0.5)).toBe(5_000);
    expect(loadingDelayMs(undefined, 30_000, () => 0.5)).toBe(20_000);
    expect(loadingDelayMs(undefined, 240_000, () => 0.5)).toBe(60_000);
  });

  it('honours Retry-After and grows without one', () => {
    expect(rateLimitDelayMs(3_000, 0, low)).toBe(3_000 + 200);
    expect(rateLimitDelayMs(undefined, 0, () => 0.5)).toBe(5_000);
    expect(rateLimitDelayMs(undefined, 20_000, () => 0.5)).toBe(25_000);
    expect(rateLimitDelayMs(undefined, 10 * 60_000, () => 0.5)).toBe(60_000);
  });

  it('backs off exponentially on transient failures, capped at 30 s', () => {
    expect([1, 2, 3, 4].map((n) => transientBackoffMs(n, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(transientBackoffMs(20, () => 0.5)).toBe(30_000);
  });
});

const MAX_WAIT = 600_000;
const fresh: AttemptState = { attemptsMade: 0, maxAttempts: 5, loadingWaitedMs: 0, rateLimitWaitedMs: 0, loadingMaxWaitMs: MAX_WAIT };
const lastAttempt: AttemptState = { ...fresh, attemptsMade: 4 };
const middle = () => 0.5;

const loading = (estimatedMs?: number): Failure => ({ kind: 'loading', estimatedMs, detail: 'HTTP 503' });
const rateLimited = (retryAfterMs?: number): Failure => ({ kind: 'rate_limited', retryAfterMs, detail: 'HTTP 429' });
const transient: Failure = { kind: 'transient', detail: 'socket hang up' };
const fatal: Failure = { kind: 'fatal', userMessage: 'The bot’s Hugging Face token was rejected. (HTTP 401)', detail: 'HTTP 401: bad token' };

describe('decide: one action per failure and attempt', () => {
  it.each<[string, Failure, AttemptState, Action]>([
    ['a cold start with an estimate waits that long', loading(20_000), fresh, { type: 'delay', reason: 'loading', ms: 20_000, notice: { kind: 'warming', seconds: 20 } }],
    ['a cold start without an estimate waits longer as the wait grows', loading(), { ...fresh, loadingWaitedMs: 30_000 }, { type: 'delay', reason: 'loading', ms: 20_000, notice: { kind: 'warming', seconds: 20 } }],
    ['a cold start on the last attempt still waits: waits spend no attempt', loading(20_000), lastAttempt, { type: 'delay', reason: 'loading', ms: 20_000, notice: { kind: 'warming', seconds: 20 } }],
    ['a cold start that just fits the budget waits', loading(20_000), { ...fresh, loadingWaitedMs: MAX_WAIT - 20_000 }, { type: 'delay', reason: 'loading', ms: 20_000, notice: { kind: 'warming', seconds: 20 } }],
    ['a cold start past the budget gives up', loading(20_000), { ...fresh, loadingWaitedMs: MAX_WAIT - 19_999 }, { type: 'give_up', notice: { kind: 'gave_up_warming', minutes: 10 } }],
    ['a cold start is not held against the rate-limit budget', loading(20_000), { ...fresh, rateLimitWaitedMs: MAX_WAIT }, { type: 'delay', reason: 'loading', ms: 20_000, notice: { kind: 'warming', seconds: 20 } }],
    ['a 429 with Retry-After pauses the queue that long', rateLimited(3_000), fresh, { type: 'rate_limit_queue', ms: 3_250, notice: { kind: 'busy', seconds: 4 } }],
    ['a 429 without a hint pauses longer as the wait grows', rateLimited(), { ...fresh, rateLimitWaitedMs: 20_000 }, { type: 'rate_limit_queue', ms: 25_000, notice: { kind: 'busy', seconds: 25 } }],
    ['a 429 on the last attempt still pauses: waits spend no attempt', rateLimited(3_000), lastAttempt, { type: 'rate_limit_queue', ms: 3_250, notice: { kind: 'busy', seconds: 4 } }],
    ['a 429 past the budget gives up', rateLimited(3_000), { ...fresh, rateLimitWaitedMs: MAX_WAIT - 3_000 }, { type: 'give_up', notice: { kind: 'failed' } }],
    ['a 429 is not held against the cold-start budget', rateLimited(3_000), { ...fresh, loadingWaitedMs: MAX_WAIT }, { type: 'rate_limit_queue', ms: 3_250, notice: { kind: 'busy', seconds: 4 } }],
    ['a transient failure on the first attempt retries', transient, fresh, { type: 'retry', notice: { kind: 'retrying' } }],
    ['a transient failure before the last attempt retries', transient, { ...fresh, attemptsMade: 3 }, { type: 'retry', notice: { kind: 'retrying' } }],
    ['a transient failure on the last attempt gives up', transient, lastAttempt, { type: 'give_up', notice: { kind: 'failed' } }],
    ['a transient failure with a single attempt allowed gives up', transient, { ...fresh, maxAttempts: 1 }, { type: 'give_up', notice: { kind: 'failed' } }],
    ['a fatal failure on the first attempt gives up with its fixed message', fatal, fresh, { type: 'give_up', notice: { kind: 'fatal', message: fatal.userMessage } }],
    ['a fatal failure with attempts left still gives up', fatal, { ...fresh, attemptsMade: 2 }, { type: 'give_up', notice: { kind: 'fatal', message: fatal.userMessage } }],
  ])('%s', (_name, failure, state, expected) => {
    expect(decide(failure, state, middle)).toEqual(expected);
  });

  it('jitters delays from the injected randomness', () => {
    expect(decide(loading(20_000), fresh, () => 0)).toMatchObject({ ms: 16_000 });
    expect(decide(loading(20_000), fresh, () => 1)).toMatchObject({ ms: 24_000 });
  });
});
