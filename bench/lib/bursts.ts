/**
 * Memory comes back: the same burst of concurrent conversations, again and again, with each
 * process's resident memory sampled after an idle wait before the first burst, after each one,
 * and after the same idle wait after the last. Growth that stays after the idle wait is retained
 * (caches, job objects, agents) or leaked; growth from burst to burst is a climb.
 */
import { sleep } from './clock.ts';
import { runClosedLoop } from './load.ts';
import type { MeasureContext } from './measure.ts';
import { sampleProc } from './procs.ts';

export interface BurstPlan {
  bursts: number;
  /** Concurrent conversations per burst, each sending one message. */
  concurrency: number;
  /** Pause after each burst before sampling (lets its last jobs' bookkeeping finish). */
  pauseMs: number;
  /** Idle time before the first burst and after the last, before their samples (the same, for a fair before and after). */
  settleMs: number;
}

export interface BurstResult {
  mode: string;
  profile: string;
  plan: BurstPlan;
  /** Per measured role: RSS (MB) before the first burst, after each, and after the idle wait. */
  rss: Array<{ role: string; beforeMb: number; afterEachMb: number[]; settledMb: number }>;
  completed: number;
  sent: number;
}

const rssOf = (pid: number) => sampleProc(pid)?.rssMb ?? Number.NaN;

export async function measureBursts(context: MeasureContext, plan: BurstPlan): Promise<BurstResult> {
  const { system, fakes, waiter, target, profile } = context;
  const roles = system.measured;
  await sleep(plan.settleMs);
  const before = roles.map(({ pid }) => rssOf(pid));
  const afterEach: number[][] = roles.map(() => []);
  let completed = 0;
  let sent = 0;
  for (let burst = 0; burst < plan.bursts; burst++) {
    await fakes.reset();
    const load = await runClosedLoop(
      target,
      { concurrency: plan.concurrency, replies: plan.concurrency, replyTimeoutMs: 60_000, rampMs: 0 },
      waiter,
    );
    sent += load.samples.length;
    completed += load.samples.filter((sample) => sample.record).length;
    await sleep(plan.pauseMs);
    roles.forEach(({ pid }, index) => afterEach[index]?.push(rssOf(pid)));
    process.stderr.write(`  ${system.mode} · burst ${burst + 1}/${plan.bursts} of ${plan.concurrency}: RSS ${roles.map(({ role, pid }) => `${role} ${rssOf(pid).toFixed(0)} MB`).join(', ')}\n`);
  }
  await system.replies([]);
  await sleep(plan.settleMs);
  return {
    mode: system.mode,
    profile: profile.name,
    plan,
    rss: roles.map(({ role, pid }, index) => ({ role, beforeMb: before[index] ?? Number.NaN, afterEachMb: afterEach[index] ?? [], settledMb: rssOf(pid) })),
    completed,
    sent,
  };
}
