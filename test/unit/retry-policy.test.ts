import { describe, expect, it } from 'vitest';
import { jitter, loadingDelayMs, rateLimitDelayMs, transientBackoffMs } from '../../src/worker/retry-policy.ts';

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
