/** The bench's printed tables and its verdict on the targets. */
import type { BurstResult } from './bursts.ts';
import type { LevelResult } from './measure.ts';
import { STAGES } from './systems.ts';

const fmt = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const ratio = (pipeline: number, baseline: number): string =>
  Number.isFinite(pipeline) && Number.isFinite(baseline) && baseline !== 0 ? `×${(pipeline / baseline).toFixed(2)}` : '–';

interface Column {
  title: string;
  value: (result: LevelResult) => number;
  digits?: number;
}

const peak = (role: string) => (result: LevelResult) => result.processes.find((proc) => proc.role === role)?.peakRssMb ?? Number.NaN;

const COLUMNS: Column[] = [
  { title: 'first p50', value: (r) => r.firstVisibleMs.p50 },
  { title: 'first p95', value: (r) => r.firstVisibleMs.p95 },
  { title: 'first p99', value: (r) => r.firstVisibleMs.p99 },
  { title: 'final p50', value: (r) => r.finalMs.p50 },
  { title: 'final p95', value: (r) => r.finalMs.p95 },
  { title: 'final p99', value: (r) => r.finalMs.p99 },
  { title: 'ack p50', value: (r) => r.ackMs.p50 },
  { title: 'ack p95', value: (r) => r.ackMs.p95 },
  { title: 'replies/s', value: (r) => r.repliesPerSec },
  { title: 'calls/reply', value: (r) => r.callsPerReply, digits: 2 },
  { title: 'edits/reply', value: (r) => r.editsPerReply, digits: 2 },
  { title: 'worst lag', value: (r) => r.worstLagMs },
  { title: 'min edit gap', value: (r) => r.minEditGapMs },
  { title: 'CPU ms/reply', value: (r) => r.cpuMsPerReply, digits: 2 },
  { title: 'Redis cmds/reply', value: (r) => r.redisCommandsPerReply },
  { title: 'Redis reads/reply', value: (r) => r.redisReadsPerReply },
];

/** Peak RSS per process, in the column order of roles across both systems. */
const RSS_ROLES = ['baseline', 'gateway', 'worker', 'redis'];

/** A model profile's name without its parameters: "streaming model (TTFT 100 ms, …)" → "streaming model". */
function modelName(profile: string): string {
  return profile.split(' (')[0] ?? profile;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** One Markdown table per model profile: baseline, pipeline and their ratio at each level. */
export function resultTables(results: LevelResult[]): string {
  const profiles = [...new Set(results.map((result) => result.profile))];
  const header = ['conc.', 'system', ...COLUMNS.map((column) => column.title), ...RSS_ROLES.map((role) => `RSS ${role} MB`), 'lost'];
  const out: string[] = [];
  for (const profile of profiles) {
    out.push(`\n**${profile}** (times in ms; "first" = event → first model text visible, "final" = event → final text visible, "ack" = event → the system's HTTP answer, which the baseline sends before its work and the gateway once the job is queued; Slack wants it within 3 s)\n`);
    out.push(row(header), row(header.map(() => '---')));
    const levels = [...new Set(results.filter((r) => r.profile === profile).map((r) => r.concurrency))].sort((a, b) => a - b);
    for (const level of levels) {
      const base = results.find((r) => r.profile === profile && r.concurrency === level && r.mode === 'baseline');
      const pipe = results.find((r) => r.profile === profile && r.concurrency === level && r.mode === 'pipeline');
      for (const result of [base, pipe]) {
        if (!result) continue;
        out.push(
          row([
            String(level),
            result.mode,
            ...COLUMNS.map((column) => fmt(column.value(result), column.digits)),
            ...RSS_ROLES.map((role) => fmt(peak(role)(result), 0)),
            String(result.timedOut + result.rejected),
          ]),
        );
      }
      if (base && pipe) {
        out.push(
          row([
            String(level),
            '**ratio**',
            ...COLUMNS.map((column) => ratio(column.value(pipe), column.value(base))),
            ...RSS_ROLES.map(() => ''),
            '',
          ]),
        );
      }
    }
  }
  return out.join('\n');
}

const STAGE_TITLES: Record<(typeof STAGES)[number], string> = {
  received: 'sent → received',
  queued: 'received → queued',
  taken: 'queued → taken',
  started: 'taken → started',
  modelAsked: 'started → model asked',
  firstToken: 'model asked → first token',
  shown: 'first token → shown',
};

/**
 * Where the pipeline's first text goes, step by step (p50 / p95 ms per step, from the load's send
 * and the jobs' own stamps: the gateway's receipt, BullMQ's queued and taken, the worker's),
 * beside the baseline's whole first text at the same level; empty when no level has the stamps.
 */
export function stagesTable(results: LevelResult[]): string {
  const staged = results.filter((result) => result.stagesMs && result.stagesMs.queued.n > 0);
  if (staged.length === 0) return '';
  const header = ['model', 'conc.', ...STAGES.map((stage) => STAGE_TITLES[stage]), 'pipeline first', 'baseline first'];
  const out = [row(header), row(header.map(() => '---'))];
  for (const result of staged) {
    const base = results.find((r) => r.mode === 'baseline' && r.profile === result.profile && r.concurrency === result.concurrency);
    out.push(
      row([
        modelName(result.profile),
        String(result.concurrency),
        ...STAGES.map((stage) => `${fmt(result.stagesMs?.[stage].p50 ?? Number.NaN, 0)} / ${fmt(result.stagesMs?.[stage].p95 ?? Number.NaN, 0)}`),
        `${fmt(result.firstVisibleMs.p50, 0)} / ${fmt(result.firstVisibleMs.p95, 0)}`,
        base ? `${fmt(base.firstVisibleMs.p50, 0)} / ${fmt(base.firstVisibleMs.p95, 0)}` : '–',
      ]),
    );
  }
  return out.join('\n');
}

/**
 * Where each level's CPU went, per process (ms per reply), and how many of the machine's cores each
 * side kept busy: the system's processes, the fakes, the load generator. A level whose "all" is near
 * the core count was bound by the machine, so its replies/s follow the CPU per reply of everything
 * running, fakes and load included.
 */
export function cpuTable(results: LevelResult[]): string {
  const header = ['model', 'conc.', 'system', 'CPU ms/reply by process', 'system cores', 'fakes cores', 'load cores', 'all cores'];
  const out = [row(header), row(header.map(() => '---'))];
  for (const result of results) {
    const cores = (cpuSec: number) => (result.durationSec > 0 ? cpuSec / result.durationSec : Number.NaN);
    const systemSec = result.processes.reduce((sum, proc) => sum + proc.cpuSec, 0);
    out.push(
      row([
        modelName(result.profile),
        String(result.concurrency),
        result.mode,
        result.processes.map((proc) => `${proc.role} ${fmt((proc.cpuSec * 1000) / result.completed, 2)}`).join(' · '),
        fmt(cores(systemSec), 2),
        fmt(cores(result.fakesCpuSec), 2),
        fmt(cores(result.loadCpuSec), 2),
        fmt(cores(systemSec + result.fakesCpuSec + result.loadCpuSec), 2),
      ]),
    );
  }
  return out.join('\n');
}

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** A process's resident memory once started, and once warm and idle again. */
export interface IdleRss {
  mode: string;
  role: string;
  startedMb: number;
  warmMb: number;
}

export function idleTable(idle: IdleRss[]): string {
  const lines = [row(['system', 'process', 'started', 'warm, idle']), row(['---', '---', '---', '---'])];
  for (const entry of idle) lines.push(row([entry.mode, entry.role, fmt(entry.startedMb, 0), fmt(entry.warmMb, 0)]));
  return lines.join('\n');
}

export function burstTable(bursts: BurstResult[]): string {
  const count = Math.max(0, ...bursts.map((burst) => burst.plan.bursts));
  const header = ['system', 'process', 'before', ...Array.from({ length: count }, (_, i) => `#${i + 1}`), 'idle after', 'replies'];
  const lines = [row(header), row(header.map(() => '---'))];
  for (const burst of bursts) {
    for (const rss of burst.rss) {
      lines.push(
        row([
          `${burst.mode} (${burst.plan.concurrency} at once)`,
          rss.role,
          fmt(rss.beforeMb, 0),
          ...rss.afterEachMb.map((mb) => fmt(mb, 0)),
          fmt(rss.settledMb, 0),
          `${burst.completed}/${burst.sent}`,
        ]),
      );
    }
  }
  return lines.join('\n');
}

export interface TargetInputs {
  results: LevelResult[];
  modelProfile: string;
  instantProfile: string;
  editIntervalMs: number;
  idle?: IdleRss[];
  bursts?: BurstResult[];
}

/** The targets, judged from the measurements (undefined: not measured in this run). */
export function judgeTargets({ results, modelProfile, instantProfile, editIntervalMs, idle = [], bursts = [] }: TargetInputs): TargetVerdict[] {
  const find = (profile: string, mode: string, level: number) =>
    results.find((r) => r.profile === profile && r.mode === mode && r.concurrency === level);
  const verdicts: TargetVerdict[] = [];
  const levels = [...new Set(results.map((r) => r.concurrency))].sort((a, b) => a - b);

  for (const level of levels) {
    const base = find(modelProfile, 'baseline', level);
    const pipe = find(modelProfile, 'pipeline', level);
    if (!base || !pipe) continue;
    const p50 = pipe.firstVisibleMs.p50 - base.firstVisibleMs.p50;
    const p99 = pipe.firstVisibleMs.p99 - base.firstVisibleMs.p99;
    verdicts.push({
      target: `queue overhead on first visible text ≤ 5 ms p50, ≤ 20 ms p99 (${level} concurrent)`,
      measured: `+${fmt(p50)} ms p50, +${fmt(p99)} ms p99`,
      met: p50 <= 5 && p99 <= 20,
    });
  }

  const top = levels.at(-1);
  const streams = top === undefined ? undefined : find(modelProfile, 'pipeline', top);
  const workerRss = streams ? peak('worker')(streams) : Number.NaN;
  verdicts.push({
    target: '1,000 concurrent streams in one worker under 300 MB RSS',
    measured: streams ? `${fmt(workerRss, 0)} MB peak at ${streams.concurrency} concurrent` : 'not run',
    met: streams && streams.concurrency >= 1000 ? workerRss < 300 : undefined,
  });

  const idleWorker = idle.find((entry) => entry.role === 'worker');
  verdicts.push({
    target: 'an idle worker under 120 MB RSS (warm: after the warm-up replies)',
    measured: idleWorker ? `${fmt(idleWorker.warmMb, 0)} MB warm (${fmt(idleWorker.startedMb, 0)} MB just started)` : 'not run',
    met: idleWorker ? idleWorker.warmMb < 120 : undefined,
  });

  const burstBase = find(modelProfile, 'baseline', 100);
  const burstPipe = find(modelProfile, 'pipeline', 100);
  const burstGap = burstPipe && burstBase ? burstPipe.firstVisibleMs.p50 - burstBase.firstVisibleMs.p50 : Number.NaN;
  verdicts.push({
    target: 'bursts: first visible text at 100 concurrent within 20 ms p50 of the baseline',
    measured: burstPipe && burstBase ? `${fmt(burstPipe.firstVisibleMs.p50)} vs ${fmt(burstBase.firstVisibleMs.p50)} ms p50 (${burstGap >= 0 ? '+' : ''}${fmt(burstGap)} ms)` : 'not run',
    met: burstPipe && burstBase ? burstGap <= 20 : undefined,
  });

  for (const level of levels.filter((l) => l >= 100)) {
    const base = find(instantProfile, 'baseline', level);
    const pipe = find(instantProfile, 'pipeline', level);
    if (!base || !pipe) continue;
    verdicts.push({
      target: `throughput at least the baseline's (instant model, ${level} concurrent)`,
      measured: `${fmt(pipe.repliesPerSec, 0)} vs ${fmt(base.repliesPerSec, 0)} replies/s (${ratio(pipe.repliesPerSec, base.repliesPerSec)})`,
      met: pipe.repliesPerSec >= base.repliesPerSec,
    });
  }
  const cpuRows = results.filter((r) => r.profile === instantProfile && r.mode === 'pipeline' && r.concurrency >= 10);
  if (cpuRows.length > 0) {
    verdicts.push({
      target: 'CPU per reply ≤ 2 ms, all processes incl. Redis (pipeline, instant model, ≥ 100 concurrent)',
      measured: cpuRows.map((r) => `${r.concurrency}: ${fmt(r.cpuMsPerReply, 2)} ms`).join(', '),
      met: cpuRows.filter((r) => r.concurrency >= 100).every((r) => r.cpuMsPerReply <= 2) && cpuRows.some((r) => r.concurrency >= 100),
    });
  }

  for (const burst of bursts) {
    const worker = burst.rss.find((rss) => rss.role === 'worker');
    if (!worker) continue;
    const first = worker.afterEachMb[0] ?? Number.NaN;
    const last = worker.afterEachMb.at(-1) ?? Number.NaN;
    verdicts.push({
      target: `memory comes back: worker RSS ${burst.plan.settleMs / 1000} s after ${burst.plan.bursts} bursts within 20% of before`,
      measured:
        `${fmt(worker.beforeMb, 0)} MB before, ${fmt(worker.settledMb, 0)} MB after (${ratio(worker.settledMb, worker.beforeMb)}; ` +
        `${fmt(idleWorker?.warmMb ?? Number.NaN, 0)} MB warm and idle before any level)`,
      met: worker.settledMb <= 1.2 * worker.beforeMb,
    });
    verdicts.push({
      target: `memory does not climb over ${burst.plan.bursts} bursts of ${burst.plan.concurrency} (worker RSS after the last within 10% of after the first)`,
      measured: `${fmt(first, 0)} MB after #1, ${fmt(last, 0)} MB after #${worker.afterEachMb.length}`,
      met: worker.afterEachMb.length >= 2 ? last <= 1.1 * first : undefined,
    });
  }

  const instant = results.filter((r) => r.profile === instantProfile && r.mode === 'pipeline');
  const best = instant.reduce<LevelResult | undefined>((a, b) => (a && a.repliesPerSec >= b.repliesPerSec ? a : b), undefined);
  verdicts.push({
    target: '500 replies/s with an instant model (pipeline)',
    measured: best ? `${fmt(best.repliesPerSec, 0)} replies/s at ${best.concurrency} concurrent` : 'not run',
    met: best ? best.repliesPerSec >= 500 : undefined,
  });

  const paced = results.filter((r) => r.profile === modelProfile);
  const fastEdits = paced.reduce((sum, r) => sum + r.fastEdits, 0);
  const fastFinals = paced.reduce((sum, r) => sum + r.fastFinals, 0);
  const minGap = paced.reduce((min, r) => Math.min(min, r.minEditGapMs), Number.POSITIVE_INFINITY);
  const minFinal = paced.reduce((min, r) => Math.min(min, r.minFinalGapMs), Number.POSITIVE_INFINITY);
  verdicts.push({
    target: `edits never faster than the platform pacing (${editIntervalMs} ms)`,
    measured:
      `intermediate edits: ${fastEdits} too fast (min gap ${fmt(minGap)} ms); ` +
      `final edits: ${fastFinals} sooner than the interval after the previous edit (min ${fmt(minFinal)} ms)`,
    met: fastEdits === 0 && fastFinals === 0,
  });

  for (const mode of ['baseline', 'pipeline'] as const) {
    const rows = results.filter((r) => r.profile === modelProfile && r.mode === mode && r.concurrency >= 10);
    if (rows.length < 2) continue;
    // Flat means it does not grow with concurrency: each level within 1.5× the cheapest level below it.
    // (It may fall: fixed per-second costs, such as timers and polling, spread over more replies.)
    const grows = rows.some((r, i) => i > 0 && r.cpuMsPerReply > 1.5 * Math.min(...rows.slice(0, i).map((low) => low.cpuMsPerReply)));
    verdicts.push({
      target: `CPU per reply does not grow with concurrency (${mode}, ≥ 10 concurrent; within 1.5× of lower levels)`,
      measured: rows.map((r) => `${r.concurrency}: ${fmt(r.cpuMsPerReply, 2)} ms`).join(', '),
      met: !grows,
    });
    const role = mode === 'baseline' ? 'baseline' : 'worker';
    const perStream = rows.slice(1).map((r, i) => {
      const previous = rows[i];
      if (!previous) return Number.NaN;
      return ((peak(role)(r) - peak(role)(previous)) * 1024) / (r.concurrency - previous.concurrency);
    });
    // Judged from 100 streams up, where the per-stream cost outweighs the noise of a few MB.
    const judged = rows.slice(1).flatMap((r, i) => ((rows[i]?.concurrency ?? 0) >= 100 ? [perStream[i] ?? Number.NaN] : []));
    verdicts.push({
      target: `memory per added stream ≤ 100 kB (${role} peak RSS growth per added stream, from 100 up)`,
      measured: rows
        .slice(1)
        .map((r, i) => `${rows[i]?.concurrency}→${r.concurrency}: ${fmt(perStream[i] ?? Number.NaN, 0)} kB/stream`)
        .join(', '),
      met: mode === 'pipeline' && judged.length > 0 ? judged.every((kb) => kb <= 100) : undefined,
    });
  }
  return verdicts;
}

export function targetTable(verdicts: TargetVerdict[]): string {
  const lines = [row(['target', 'measured', 'met']), row(['---', '---', '---'])];
  for (const verdict of verdicts) {
    lines.push(row([verdict.target, verdict.measured, verdict.met === undefined ? '–' : verdict.met ? 'yes' : '**no**']));
  }
  return lines.join('\n');
}
