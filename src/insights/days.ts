const DAY_MS = 24 * 3600 * 1000;

/** The UTC calendar day of a time, as `yyyy-mm-dd`: the unit of every insights aggregate. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The `count` days ending with the day of `ms`, oldest first. */
export function lastDays(ms: number, count: number): string[] {
  const today = Math.floor(ms / DAY_MS);
  return Array.from({ length: count }, (_, i) => dayOf((today - count + 1 + i) * DAY_MS));
}

/** When the aggregates of the day of `ms` expire: `retentionDays` after that day ends (unix seconds). */
export function expiresAt(ms: number, retentionDays: number): number {
  return (Math.floor(ms / DAY_MS) + 1 + retentionDays) * (DAY_MS / 1000);
}
