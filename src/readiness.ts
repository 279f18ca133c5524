/**
 * What `/readyz` reports: every registered check passes and the process is not shutting down.
 * Checks are cheap (a Redis PING, a connection flag), so they run on each request.
 */
export class Readiness {
  readonly #checks = new Map<string, () => boolean | Promise<boolean>>();
  readonly #warnings = new Map<string, string>();
  #stopping = false;

  add(name: string, check: () => boolean | Promise<boolean>): void {
    this.#checks.set(name, check);
  }

  /** Something an operator should fix that does not make the process unready (shown in the report). */
  warn(name: string, message: string): void {
    this.#warnings.set(name, message);
  }

  /** From now on the process reports not ready, so load balancers send it nothing new. */
  stopping(): void {
    this.#stopping = true;
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, boolean>; warnings?: Record<string, string> }> {
    const checks: Record<string, boolean> = { accepting: !this.#stopping };
    await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        checks[name] = await Promise.resolve()
          .then(check)
          .catch(() => false);
      }),
    );
    const ready = Object.values(checks).every(Boolean);
    return this.#warnings.size > 0 ? { ready, checks, warnings: Object.fromEntries(this.#warnings) } : { ready, checks };
  }
}
