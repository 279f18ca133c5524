import { describe, expect, it } from 'vitest';
import { formatSummary, QUICK_SOAK, runSoak } from '../../bench/soak.ts';

/**
 * The short soak (bench/soak.ts --quick): a gateway and two workers as separate processes on a
 * private redis-server (never the shared one), workers killed -9 mid-stream, Redis restarted with
 * work in flight and the gateway killed while it is down, the model loading, rate limited and
 * breaking inside streams, answers trying to ping, refused events redelivered, forged and oversized
 * payloads mixed in.
 */
describe('the quick soak', () => {
  it('loses, duplicates and crashes nothing, and answers no forged payload', async () => {
    const lines: string[] = [];
    const summary = await runSoak({ ...QUICK_SOAK, log: (line) => lines.push(line) });
    const report = `${lines.join('\n')}\n${formatSummary(summary)}`;
    expect(summary.eventsSent, report).toBeGreaterThan(50);
    expect(summary.details.kills, report).toBeGreaterThanOrEqual(QUICK_SOAK.kills);
    expect(summary.details.redisRestarts, report).toBe(1);
    expect(
      {
        duplicated: summary.repliesDuplicated,
        lost: summary.repliesLost,
        ackedThenLost: summary.ackedThenLost,
        neverAcked: summary.neverAcked,
        pingsShown: summary.pingsShown,
        noticeMismatches: summary.noticeMismatches,
        forgedAnswered: summary.answersToForgedPayloads,
        crashed: summary.processesCrashed,
      },
      report,
    ).toEqual({ duplicated: 0, lost: 0, ackedThenLost: 0, neverAcked: 0, pingsShown: 0, noticeMismatches: 0, forgedAnswered: 0, crashed: 0 });
    expect(summary.details.gatewayKills, report).toBe(1);
    expect(summary.repliesCompleted, report).toBe(summary.eventsSent);
  }, 90_000);
});
