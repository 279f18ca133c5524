/** Failed logins an address gets free; after them each failure doubles the wait. */
const FREE_FAILURES = 5;
const MAX_WAIT_MS = 15 * 60_000;
/** An address's failures are forgotten this long after its last one. */
const FORGET_AFTER_MS = 15 * 60_000;
/** Addresses remembered at most (the oldest are forgotten first), so a flood cannot grow memory. */
const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  last: number;
  blockedUntil: number;
}

/**
 * Slows down password guessing per client address: the first FREE_FAILURES wrong passwords cost
 * nothing, then each further failure blocks the address for 1 s, 2 s, 4 s … up to 15 minutes, in
 * which it gets no answer but "retry later" (the password is not even checked). A success clears
 * the address. Kept in this process's memory: each process counts on its own, and a restart forgets.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, Failures>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Milliseconds until `address` may try again; 0 when it may now. */
  waitMs(address: string): number {
    const entry = this.#current(address);
    return entry ? Math.max(0, entry.blockedUntil - this.#now()) : 0;
  }

  failed(address: string): void {
    const now = this.#now();
    const entry = this.#current(address) ?? { count: 0, last: now, blockedUntil: 0 };
    entry.count += 1;
    entry.last = now;
    if (entry.count > FREE_FAILURES) entry.blockedUntil = now + Math.min(1000 * 2 ** (entry.count - FREE_FAILURES - 1), MAX_WAIT_MS);
    // Re-inserted so the map stays ordered by last failure, oldest first.
    this.#failures.delete(address);
    this.#failures.set(address, entry);
    if (this.#failures.size > MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }

  #current(address: string): Failures | undefined {
    const entry = this.#failures.get(address);
    if (entry && this.#now() - entry.last > FORGET_AFTER_MS && this.#now() >= entry.blockedUntil) {
      this.#failures.delete(address);
      return undefined;
    }
    return entry;
  }
}
