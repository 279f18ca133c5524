/** The bench's printed tables and its verdict on the targets. */
import type { LevelResult } from './measure.ts';

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
  { title: 'replies/s', value: (r) => r.repliesPerSec },
  { title: 'calls/reply', value: (r) => r.callsPerReply, digits: 2 },
  { title: 'edits/reply', value: (r) => r.editsPerReply, digits: 2 },
  { title: 'worst lag', value: (r) => r.worstLagMs },
  { title: 'min edit gap', value: (r) => r.minEditGapMs },
  { title: 'CPU ms/reply', value: (r) => r.cpuMsPerReply, digits: 2 },
];

/** Peak RSS per process, in the column order of roles across both systems. */
const RSS_ROLES = ['baseline', 'gateway', 'worker', 'redis'];

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** One Markdown table per model profile: baseline, pipeline and their ratio at each level. */
export function resultTables(results: LevelResult[]): string {
  const profiles = [...new Set(results.map((result) => result.profile))];
  const header = ['conc.', 'system', ...COLUMNS.map((column) => column.title), ...RSS_ROLES.map((role) => `RSS ${role} MB`), 'lost'];
  const out: string[] = [];
  for (const profile of profiles) {
    out.push(`\n**${profile}** (times in ms; "first" = event → first model text visible, "final" = event → final text visible)\n`);
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

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

export interface TargetInputs {
  results: LevelResult[];
  modelProfile: string;
  instantProfile: string;
  editIntervalMs: number;
}

/** The targets, judged from the measurements (undefined: not measured in this run). */
export function judgeTargets({ results, modelProfile, instantProfile, editIntervalMs }: TargetInputs): TargetVerdict[] {
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
    verdicts.push({
      target: `memory per concurrent reply flat (${role} peak RSS growth per added stream)`,
      measured: rows
        .slice(1)
        .map((r, i) => `${rows[i]?.concurrency}→${r.concurrency}: ${fmt(perStream[i] ?? Number.NaN, 0)} kB/stream`)
        .join(', '),
      met: undefined,
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
