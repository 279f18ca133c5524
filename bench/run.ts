/**
 * `npm run bench`: the pipeline (gateway → Redis/BullMQ → worker, separate processes) against a
 * no-queue baseline (the same adapter code in one process), on the same fakes, at several levels
 * of concurrent conversations; with a streaming model (configurable time to first token and
 * tokens per second) and an instant one. Prints Markdown tables and the issue's targets, and
 * writes everything as JSON under bench/results/.
 *
 *   npm run bench                                   # the default run (a few minutes)
 *   npm run bench -- --quick                        # a short run
 *   npm run bench -- --ttft 50 --tps 50 --tokens 30 --levels 1,10,100,1000 --edit-interval 250
 *   npm run bench -- --cpu-prof                     # also profile the service's processes
 *   npm run bench -- --only pipeline                # one system only
 *   npm run bench -- --slack-stream native          # answers as Slack native streams (default: chat.update edits)
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatProfile, mapProfilesToSources, summarizeProfile, type ProfileSummary } from './lib/cpu-profile.ts';
import { preciseNow, sleep } from './lib/clock.ts';
import { startFakesHost } from './lib/fakes-client.ts';
import { measureBursts, type BurstResult } from './lib/bursts.ts';
import { ReplyWaiter } from './lib/load.ts';
import { measureLevel, warmUp, type LevelResult, type MeasureContext } from './lib/measure.ts';
import type { ModelProfile } from './lib/model-profile.ts';
import { endChildrenWithTheRun, removeBuiltEntries, sampleProc } from './lib/procs.ts';
import { redisServerBinary, startPrivateRedis, type PrivateRedis } from './lib/redis-server.ts';
import { burstTable, cpuTable, idleTable, judgeTargets, resultTables, stagesTable, targetTable, type IdleRss } from './lib/report.ts';
import { startBaseline, startPipeline, type Mode, type RunningSystem, type SystemSettings } from './lib/systems.ts';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const SIGNING_SECRET = 'bench-signing-secret-not-real';
/** Quiet time before idle memory is sampled. */
const IDLE_SETTLE_MS = 2_000;
/** Quiet time after each burst before its memory is sampled. */
const BURST_PAUSE_MS = 3_000;

export interface BenchOptions {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
  levels: number[];
  editIntervalMs: number;
  /** Replies per conversation at each level, and the least replies a level runs. */
  rounds: number;
  minReplies: number;
  modes: Mode[];
  instant: boolean;
  /** Run the streaming model's levels (and the bursts, which use it). */
  streaming: boolean;
  cpuProf: boolean;
  /** Use this Redis instead of starting a private redis-server. */
  redisUrl: string | undefined;
  /** Node flags for the service's processes (both systems), e.g. V8 heap sizing to compare. */
  nodeArgs: string[];
  /** Memory comes back: bursts of `burstSize` concurrent conversations, then `settleSec` idle (pipeline only; 0 bursts: skipped). */
  bursts: number;
  burstSize: number;
  settleSec: number;
  /** How Slack answers are shown: chat.update edits, or native streams (SLACK_STREAMING). */
  slackStream: 'native' | 'update';
  /** Every measurement at its default (no option but `--redis-url`): the run `bench-latest.*` reports. */
  fullRun: boolean;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values, tokens } = parseArgs({
    tokens: true,
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      ttft: { type: 'string' },
      tps: { type: 'string' },
      tokens: { type: 'string' },
      levels: { type: 'string' },
      'edit-interval': { type: 'string' },
      rounds: { type: 'string' },
      'min-replies': { type: 'string' },
      only: { type: 'string' },
      'no-instant': { type: 'boolean', default: false },
      'no-streaming': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'redis-url': { type: 'string' },
      bursts: { type: 'string' },
      'burst-size': { type: 'string' },
      settle: { type: 'string' },
      'node-args': { type: 'string' },
      'slack-stream': { type: 'string' },
    },
  });
  const slackStream = values['slack-stream'] ?? 'update';
  if (slackStream !== 'native' && slackStream !== 'update') throw new Error('--slack-stream takes native or update');
  const quick = values.quick;
  const num = (value: string | undefined, fallback: number) => {
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`not a number: ${value}`);
    return parsed;
  };
  const only = values.only;
  if (only !== undefined && only !== 'baseline' && only !== 'pipeline') throw new Error('--only takes baseline or pipeline');
  const levels = (values.levels ?? (quick ? '1,10,100' : '1,10,100,1000')).split(',').map((level) => num(level, 1));
  return {
    ttftMs: num(values.ttft, 100),
    tokensPerSecond: num(values.tps, 50),
    tokens: num(values.tokens, quick ? 15 : 30),
    levels,
    editIntervalMs: num(values['edit-interval'], 250),
    rounds: num(values.rounds, quick ? 1 : 2),
    minReplies: num(values['min-replies'], quick ? 15 : 30),
    modes: only ? [only] : ['baseline', 'pipeline'],
    instant: !values['no-instant'],
    streaming: !values['no-streaming'],
    cpuProf: values['cpu-prof'],
    redisUrl: values['redis-url'],
    nodeArgs: (values['node-args'] ?? '').split(' ').filter(Boolean),
    bursts: num(values.bursts, quick ? 3 : 10),
    burstSize: num(values['burst-size'], Math.max(...levels)),
    settleSec: num(values.settle, quick ? 15 : 60),
    slackStream,
    fullRun: tokens.every((token) => token.kind !== 'option' || token.name === 'redis-url'),
  };
}

function profilesFor(options: BenchOptions): { streaming?: ModelProfile; instant?: ModelProfile } {
  const streaming: ModelProfile = {
    name: `streaming model (TTFT ${options.ttftMs} ms, ${options.tokensPerSecond} tokens/s, ${options.tokens} tokens)`,
    ttftMs: options.ttftMs,
    tokenDelayMs: options.tokensPerSecond > 0 ? 1000 / options.tokensPerSecond : 0,
    tokens: options.tokens,
  };
  const instant: ModelProfile = { name: `instant model (${options.tokens} tokens at once)`, ttftMs: 0, tokenDelayMs: 0, tokens: options.tokens };
  return { ...(options.streaming ? { streaming } : {}), ...(options.instant ? { instant } : {}) };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export async function runBench(options: BenchOptions): Promise<{ results: LevelResult[]; report: string; written: string }> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const profileDir = join(RESULTS_DIR, `profiles-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  // A private redis-server when one is installed (its CPU counts as the pipeline's); else the given
  // or usual Redis, under a unique key prefix removed afterwards.
  const ownRedis = !options.redisUrl && redisServerBinary() !== undefined;
  if (!options.redisUrl && !ownRedis) options.redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis: PrivateRedis | undefined = ownRedis ? await startPrivateRedis() : undefined;
  const fakes = await startFakesHost();
  const waiter = new ReplyWaiter(fakes);
  const results: LevelResult[] = [];
  const idle: IdleRss[] = [];
  const bursts: BurstResult[] = [];
  const { streaming, instant } = profilesFor(options);
  const profiles = [streaming, instant].filter((profile) => profile !== undefined);
  /** Per system: its processes' roles by pid, and how long after their start measuring began. */
  const profiled: Array<{ mode: Mode; roles: Map<number, string>; skipMs: number }> = [];
  /** Both systems run side by side and take turns at each level, so load from outside the bench falls on both alike. */
  const running: Array<{ mode: Mode; system: RunningSystem; started: Array<{ role: string; rssMb: number }>; measuringFrom?: number }> = [];
  const contextOf = (system: RunningSystem, profile: ModelProfile): MeasureContext => ({
    system,
    fakes,
    waiter,
    target: { eventsUrl: system.eventsUrl, signingSecret: SIGNING_SECRET, botUserId: fakes.botUserId },
    profile,
    editIntervalMs: options.editIntervalMs,
  });
  try {
    for (const mode of options.modes) {
      const settings: SystemSettings = {
        fakes,
        signingSecret: SIGNING_SECRET,
        editIntervalMs: options.editIntervalMs,
        slackStream: options.slackStream,
        workerConcurrency: Math.max(...options.levels, options.burstSize) + 100,
        redisUrl: redis?.url ?? options.redisUrl ?? 'redis://127.0.0.1:6379',
        redisPid: redis?.process.pid,
        nodeArgs: [...options.nodeArgs, ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, mode)] : [])],
      };
      log(`starting the ${mode}…`);
      const system: RunningSystem = mode === 'baseline' ? await startBaseline(settings) : await startPipeline(settings);
      running.push({ mode, system, started: [] });
    }
    // Idle memory: once started, and once warm (a few replies answered) and idle again.
    await sleep(IDLE_SETTLE_MS);
    for (const entry of running) entry.started = entry.system.measured.map(({ role, pid }) => ({ role, rssMb: sampleProc(pid)?.rssMb ?? Number.NaN }));
    for (const [profileIndex, profile] of profiles.entries()) {
      await fakes.configure(profile);
      for (const entry of running) await warmUp(contextOf(entry.system, profile));
      if (profileIndex === 0) {
        await sleep(IDLE_SETTLE_MS);
        for (const entry of running) {
          for (const [index, { role, pid }] of entry.system.measured.entries()) {
            idle.push({ mode: entry.mode, role, startedMb: entry.started[index]?.rssMb ?? Number.NaN, warmMb: sampleProc(pid)?.rssMb ?? Number.NaN });
          }
          entry.measuringFrom = preciseNow();
        }
      }
      for (const concurrency of options.levels) {
        for (const { mode, system } of running) {
          // An instant model's replies take milliseconds: run enough of them to measure a rate.
          const least = profile.tokenDelayMs === 0 && profile.ttftMs === 0 ? options.minReplies * 10 : options.minReplies;
          const replies = Math.max(least, concurrency * options.rounds);
          const result = await measureLevel(contextOf(system, profile), { concurrency, replies });
          results.push(result);
          log(
            `  ${mode} · ${profile.name} · ${concurrency} concurrent: ${result.completed}/${result.sent} replies, ` +
              `${result.repliesPerSec.toFixed(0)}/s, first p50 ${result.firstVisibleMs.p50.toFixed(1)} ms, ` +
              `final p50 ${result.finalMs.p50.toFixed(1)} ms`,
          );
        }
      }
    }
    const pipeline = running.find((entry) => entry.mode === 'pipeline');
    if (pipeline && options.bursts > 0 && streaming) {
      await fakes.configure(streaming);
      log(`  pipeline · ${options.bursts} bursts of ${options.burstSize}, then ${options.settleSec} s idle…`);
      bursts.push(
        await measureBursts(contextOf(pipeline.system, streaming), {
          bursts: options.bursts,
          concurrency: options.burstSize,
          pauseMs: BURST_PAUSE_MS,
          settleMs: options.settleSec * 1000,
        }),
      );
    }
  } finally {
    let stopError: unknown;
    for (const { mode, system, measuringFrom } of running) {
      await system.stop().catch((err: unknown) => (stopError ??= err));
      const roles = new Map(system.measured.map(({ role, pid }) => [pid, role]));
      profiled.push({ mode, roles, skipMs: (measuringFrom ?? system.startedAt) - system.startedAt });
    }
    await fakes.stop();
    await redis?.stop();
    if (options.cpuProf) mapProfilesToSources(profileDir);
    removeBuiltEntries();
    if (stopError) throw stopError;
  }

  const verdicts = judgeTargets({
    results,
    modelProfile: streaming?.name ?? '',
    instantProfile: instant?.name ?? '',
    editIntervalMs: options.editIntervalMs,
    idle,
    bursts,
  });
  const profileSummaries = options.cpuProf ? summarizeProfiles(profileDir, profiled) : [];
  const report = [
    `# Bench: pipeline vs no-queue baseline`,
    ``,
    `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, edit interval ${options.editIntervalMs} ms, Slack replies by ${options.slackStream === 'native' ? 'native stream' : 'chat.update'}, ` +
      `closed loop (each conversation sends its next event once its answer is final), ` +
      `${options.rounds} replies per conversation per level (at least ${options.minReplies}).`,
    resultTables(results),
    ...(stagesTable(results)
      ? ['', `**Where the pipeline's first text goes** (p50 / p95 ms of each step, from the load's send and the jobs' own stamps; "received" = the gateway normalized the event, "taken" = a worker's loop moved it to active, "started" = the processor began it)`, '', stagesTable(results)]
      : []),
    ``,
    `**Where the CPU goes** (each process's CPU per completed reply; cores = CPU seconds per second of the level, on ${cpus().length} cores)`,
    ``,
    cpuTable(results),
    ``,
    `**Idle memory** (RSS, MB: ${IDLE_SETTLE_MS / 1000} s after start, and after the warm-up replies and ${IDLE_SETTLE_MS / 1000} s idle)`,
    ``,
    idleTable(idle),
    ...(bursts.length > 0
      ? ['', `**Memory comes back** (RSS, MB: after ${options.settleSec} s idle before the first burst, ${BURST_PAUSE_MS / 1000} s after each burst, and after ${options.settleSec} s idle after the last)`, '', burstTable(bursts)]
      : []),
    ``,
    `### Targets`,
    ``,
    targetTable(verdicts),
    ...(profileSummaries.length > 0 ? ['', '### CPU profiles', '', '```', ...profileSummaries.map((s) => formatProfile(s)), '```'] : []),
  ].join('\n');

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify({ at: new Date().toISOString(), node: process.version, cores: cpus().length, options, results, idle, bursts, verdicts, profiles: profileSummaries }, null, 2);
  // A partial or tuned run (a level, one system, a profile) must not replace the full run's report.
  const name = options.fullRun ? 'bench-latest' : `bench-${stamp}`;
  writeFileSync(join(RESULTS_DIR, `bench-${stamp}.json`), json);
  if (options.fullRun) writeFileSync(join(RESULTS_DIR, 'bench-latest.json'), json);
  writeFileSync(join(RESULTS_DIR, `${name}.md`), `${report}\n`);
  return { results, report, written: `bench/results/${name}.{json,md}` };
}

/** Every profile written under `dir` (one folder per system), named by role, start-up skipped. */
function summarizeProfiles(dir: string, systems: Array<{ mode: Mode; roles: Map<number, string>; skipMs: number }>): ProfileSummary[] {
  const summaries: ProfileSummary[] = [];
  for (const { mode, roles, skipMs } of systems) {
    let files: string[] = [];
    try {
      files = readdirSync(join(dir, mode)).filter((file) => file.endsWith('.cpuprofile'));
    } catch {
      continue;
    }
    for (const file of files) {
      // Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile.
      const pid = Number(file.split('.')[3]);
      const label = `${mode} ${roles.get(pid) ?? `pid ${pid}`} (${join(dir, mode, file)}; first ${(skipMs / 1000).toFixed(1)} s skipped)`;
      summaries.push(summarizeProfile(join(dir, mode, file), { skipMs, label }));
    }
  }
  return summaries;
}

if (import.meta.main) {
  endChildrenWithTheRun();
  const options = parseOptions(process.argv.slice(2));
  const { report, written } = await runBench(options);
  process.stdout.write(`${report}\n\nJSON and this report: ${written}${options.fullRun ? '' : ' (a partial run: bench-latest.* keeps the last full one)'}\n`);
}
