/**
 * One clock for every bench process. `Date.now()` has whole-millisecond resolution; the queue's
 * overhead is a few milliseconds, so the bench stamps events with the high-resolution monotonic
 * clock anchored at the process's wall-clock origin. All processes run on the same machine, so
 * `performance.timeOrigin + performance.now()` agrees across them to well under a millisecond.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Makes `Date.now()` return the precise clock in this process. Used only in the fakes' host
 * process, so the `at` the Slack fake stamps on every Web API call has sub-millisecond resolution.
 */
export function usePreciseDateNow(): void {
  Date.now = preciseNow;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `everyMs` until it returns true; false when `timeoutMs` passes first. */
export async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
