/** One measured run: a system, a model profile, a concurrency level; what it cost and how it felt. */
import { sleep } from './clock.ts';
import type { FakesHost } from './fakes-client.ts';
import { runClosedLoop, type LoadTarget, type ReplyWaiter } from './load.ts';
import type { ModelProfile } from './model-profile.ts';
import { resetPeakRss, sampleProc } from './procs.ts';
import { maxOf, mean, minOf, percentiles, quantile, type Percentiles } from './stats.ts';
import { STAGES, type Mode, type RunningSystem } from './systems.ts';

export interface ProcessCost {
  role: string;
  peakRssMb: number;
  cpuSec: number;
}

export interface LevelResult {
  mode: Mode;
  profile: string;
  concurrency: number;
  sent: number;
  completed: number;
  /** Events the gateway did not take (non-200) and replies not final within the timeout. */
  rejected: number;
  timedOut: number;
  durationSec: number;
  repliesPerSec: number;
  /** Event sent → first model text visible, and → final text visible (ms). */
  firstVisibleMs: Percentiles;
  finalMs: Percentiles;
  /** Event sent → the system's HTTP answer (the baseline answers before its work, the gateway once the job is queued). */
  ackMs: Percentiles;
  callsPerReply: number;
  editsPerReply: number;
  /** Worst time between a token reaching the pacer and a render carrying it completing (ms). */
  worstLagMs: number;
  lagP99Ms: number;
  /** Smallest gap between two intermediate edits of one message, and before a final edit (ms). */
  minEditGapMs: number;
  minFinalGapMs: number;
  /** Gaps shorter than the edit interval (less 5% for network jitter): intermediate, and final. */
  fastEdits: number;
  fastFinals: number;
  processes: ProcessCost[];
  /** CPU of the system's processes per completed reply (ms). */
  cpuMsPerReply: number;
  /** Redis commands, and reads of client requests (≈ round trips), per completed reply (pipeline). */
  redisCommandsPerReply: number;
  redisReadsPerReply: number;
  /** CPU of the fakes' host and of the load generator over the run (s), for context. */
  fakesCpuSec: number;
  loadCpuSec: number;
  /** The pipeline's steps to first text (ms), from the jobs' own stamps. */
  stagesMs?: Record<(typeof STAGES)[number], Percentiles>;
}

export interface MeasureContext {
  system: RunningSystem;
  fakes: FakesHost;
  waiter: ReplyWaiter;
  target: LoadTarget;
  profile: ModelProfile;
  editIntervalMs: number;
}

export interface LevelPlan {
  concurrency: number;
  replies: number;
}

const cpuOf = (pid: number) => sampleProc(pid)?.cpuSec ?? Number.NaN;

export async function measureLevel(context: MeasureContext, plan: LevelPlan): Promise<LevelResult> {
  const { system, fakes, waiter, target, profile, editIntervalMs } = context;
  await fakes.reset();
  for (const { pid } of system.measured) resetPeakRss(pid);
  const cpuBefore = system.measured.map(({ pid }) => cpuOf(pid));
  const fakesBefore = cpuOf(fakes.pid);
  const loadBefore = process.cpuUsage();
  const redisBefore = await system.redisStats?.();

  const load = await runClosedLoop(
    target,
    {
      concurrency: plan.concurrency,
      replies: plan.replies,
      replyTimeoutMs: 60_000,
      rampMs: Math.min(1_000, plan.concurrency),
    },
    waiter,
  );
  // Let the last jobs' completion bookkeeping land in the CPU counters.
  await sleep(250);
  const redisAfter = await system.redisStats?.();

  const processes = system.measured.map(({ role, pid }, index) => {
    const sample = sampleProc(pid);
    return { role, peakRssMb: sample?.peakRssMb ?? Number.NaN, cpuSec: (sample?.cpuSec ?? Number.NaN) - (cpuBefore[index] ?? 0) };
  });
  const loadUsage = process.cpuUsage(loadBefore);
  const done = load.samples.flatMap((sample) => (sample.record ? [{ sample, record: sample.record }] : []));
  const { lags, stages } = await system.replies(done.map(({ sample }) => ({ jobId: sample.jobId, sentAt: sample.sentAt })));
  const gaps = done.flatMap(({ record }) => record.editGaps);
  const finalGaps = done.flatMap(({ record }) => (record.finalGapMs === undefined ? [] : [record.finalGapMs]));
  const paced = editIntervalMs * 0.95;
  const durationSec = (load.endedAt - load.startedAt) / 1000;
  const totalCpu = processes.reduce((sum, proc) => sum + proc.cpuSec, 0);

  return {
    mode: system.mode,
    profile: profile.name,
    concurrency: plan.concurrency,
    sent: load.samples.length,
    completed: done.length,
    rejected: load.samples.filter((sample) => sample.status !== 200).length,
    timedOut: load.samples.filter((sample) => sample.status === 200 && !sample.record).length,
    durationSec,
    repliesPerSec: done.length / durationSec,
    firstVisibleMs: percentiles(done.map(({ sample, record }) => record.firstVisibleAt - sample.sentAt)),
    finalMs: percentiles(done.map(({ sample, record }) => record.finalAt - sample.sentAt)),
    ackMs: percentiles(done.map(({ sample }) => sample.ackedAt - sample.sentAt)),
    callsPerReply: mean(done.map(({ record }) => record.calls)),
    editsPerReply: mean(done.map(({ record }) => record.edits)),
    worstLagMs: maxOf(lags),
    lagP99Ms: quantile(lags, 0.99),
    minEditGapMs: minOf(gaps),
    minFinalGapMs: minOf(finalGaps),
    fastEdits: gaps.filter((gap) => gap < paced).length,
    fastFinals: finalGaps.filter((gap) => gap < paced).length,
    processes,
    cpuMsPerReply: (totalCpu * 1000) / Math.max(1, done.length),
    redisCommandsPerReply: redisBefore && redisAfter ? (redisAfter.commands - redisBefore.commands) / Math.max(1, done.length) : Number.NaN,
    redisReadsPerReply: redisBefore && redisAfter ? (redisAfter.reads - redisBefore.reads) / Math.max(1, done.length) : Number.NaN,
    fakesCpuSec: cpuOf(fakes.pid) - fakesBefore,
    loadCpuSec: (loadUsage.user + loadUsage.system) / 1e6,
    ...(stages ? { stagesMs: Object.fromEntries(STAGES.map((stage) => [stage, percentiles(stages[stage])])) as Record<(typeof STAGES)[number], Percentiles> } : {}),
  };
}

/** A few replies before measuring, so connections, JIT and lazy imports are warm in both systems. */
export async function warmUp(context: MeasureContext): Promise<void> {
  await context.fakes.reset();
  const load = await runClosedLoop(context.target, { concurrency: 4, replies: 24, replyTimeoutMs: 20_000, rampMs: 50 }, context.waiter);
  const missing = load.samples.filter((sample) => !sample.record);
  if (missing.length > 0) {
    const statuses = missing.map((sample) => sample.status).join(', ');
    throw new Error(
      `${context.system.mode}: ${missing.length} warm-up replies never became final (HTTP ${statuses}); its output:\n${context.system.output().slice(-4000)}`,
    );
  }
  await context.system.replies([]);
}
