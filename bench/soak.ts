/**
 * `npm run soak`: a bounded fault run against the in-repo fakes, which exits by itself with a
 * summary and a non-zero status when a goal is missed.
 *
 * A gateway and two workers (each `bin/hfbot.ts` in its own process) on a private redis-server
 * (append-only file, fsync every second, as deployments run it) take a steady stream of signed
 * Slack events (mentions in their own threads, DMs, some redelivered by "Slack", some whose
 * answers try to ping the channel, empty mentions that are refused and delivered again) mixed with
 * forged, stale, malformed and oversized payloads, while:
 * - a worker is SIGKILLed in the middle of streaming, again and again, and replaced;
 * - Redis is restarted once with work in flight; while it is down, events keep arriving and the
 *   gateway is SIGKILLed, then started again: what it did not acknowledge, "Slack" delivers again;
 * - the model answers 503 loading for a stretch, then 429 with Retry-After, then breaks inside streams.
 * Like Slack, the traffic delivers an event again when it is not answered 2xx. Then the soak waits
 * for the queue to drain and checks on the fake Slack that every event has exactly one reply with
 * the expected answer (above all, every event the gateway acknowledged), that nothing answered a
 * forged payload, that no shown text could ping, and that each refused event got one notice.
 *
 *   npm run soak                             # about 3 minutes, 50+ kills
 *   npm run soak -- --quick                  # about 30 s, 5 kills
 *   npm run soak -- --slack-stream update    # every answer by edits, not native streams
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CHAT_QUEUE } from '../src/queue/chat-queue.ts';
import { startHfFake } from '../fakes/hf/server.ts';
import { startSlackFake } from '../fakes/slack/server.ts';
import { sleep, waitUntil } from './lib/clock.ts';
import { endChildrenWithTheRun, removeBuiltEntries } from './lib/procs.ts';
import { startPrivateRedis } from './lib/redis-server.ts';
import { SoakCluster } from './lib/soak-cluster.ts';
import { scriptModel, type HfPhase } from './lib/soak-model.ts';
import { BAD_KINDS, Traffic, type ValidEvent } from './lib/soak-traffic.ts';
import { allAnswered, botMessagesByPlace, forgedAnswers, judgeEvent, noticeMismatches, pingsShown, type Outcome } from './lib/soak-verify.ts';

export interface SoakOptions {
  /** Length of the load (pauses for the Redis restart not counted). */
  durationMs: number;
  eventsPerSec: number;
  /** SIGKILLs of a streaming worker to make over the run. */
  kills: number;
  workers: number;
  restartRedis: boolean;
  /** How long the end of the run waits for every answer and an empty queue. */
  drainTimeoutMs: number;
  /**
   * Every n-th event is a DM; every n-th is redelivered by "Slack"; every n-th gets an answer that
   * tries to ping; every n-th tick adds a bad payload and a refused event (delivered three times).
   */
  dmEvery: number;
  redeliverEvery: number;
  pingEvery: number;
  badEvery: number;
  refusedEvery: number;
  /** Events sent while Redis is down. */
  outageEvents: number;
  ttftMs: number;
  tokenDelayMs: number;
  /** WORKER_LOCK_MS: a killed worker's jobs move on after about this. */
  lockMs: number;
  /** SLACK_STREAMING: thread answers by native stream (Slack's default), or every answer by edits. */
  slackStreaming: 'native' | 'update';
  log: (line: string) => void;
}

export const FULL_SOAK: SoakOptions = {
  durationMs: 150_000,
  eventsPerSec: 8,
  kills: 55,
  workers: 2,
  restartRedis: true,
  drainTimeoutMs: 45_000,
  dmEvery: 5,
  redeliverEvery: 10,
  pingEvery: 7,
  badEvery: 4,
  refusedEvery: 15,
  outageEvents: 5,
  ttftMs: 100,
  tokenDelayMs: 60,
  lockMs: 2_000,
  slackStreaming: 'native',
  log: (line) => process.stderr.write(`${line}\n`),
};

export const QUICK_SOAK: SoakOptions = {
  ...FULL_SOAK,
  durationMs: 20_000,
  eventsPerSec: 6,
  kills: 5,
  // Draining takes a few seconds; the margin is for a machine busy with other work.
  drainTimeoutMs: 40_000,
  outageEvents: 3,
};

/** Where the model's phases fall, as fractions of the load's length. */
const PHASES: Array<{ from: number; phase: HfPhase }> = [
  { from: 0, phase: 'normal' },
  { from: 0.12, phase: 'loading' },
  { from: 0.27, phase: 'normal' },
  { from: 0.37, phase: 'rate_limited' },
  { from: 0.5, phase: 'normal' },
  { from: 0.6, phase: 'stream_errors' },
  { from: 0.78, phase: 'normal' },
];
/** At the end of a normal stretch, so the jobs delayed by the 429s before it have finished. */
const REDIS_RESTART_AT = 0.58;
/** Share of the run during which answers stream (the kills are spread over it). */
const STREAMING_SHARE = 0.6;

export interface SoakSummary {
  eventsSent: number;
  repliesCompleted: number;
  repliesDuplicated: number;
  repliesLost: number;
  /** Events the gateway answered 2xx that never got their answer: the one loss Slack cannot repair. */
  ackedThenLost: number;
  /** Events never answered 2xx after all of Slack's retries (Slack would give up on them). */
  neverAcked: number;
  /** Live mentions in any text the bot showed. */
  pingsShown: number;
  /** Refused events that showed other than exactly one notice. */
  noticeMismatches: number;
  answersToForgedPayloads: number;
  processesCrashed: number;
  details: {
    durationSec: number;
    lostBreakdown: Record<Outcome, number>;
    redeliveries: number;
    badPayloads: Record<string, Record<string, number>>;
    kills: number;
    killsWhileStreaming: number;
    repliesRerendered: number;
    redisRestarts: number;
    eventsDuringRedisOutage: number;
    inFlightAtRedisRestart: number;
    lostInFlightAtRedisRestart: number;
    gatewayKills: number;
    refusedEvents: number;
    pingAttempts: number;
    hfRequests: number;
    hfFaultsInjected: Record<string, number>;
    crashedProcesses: string[];
    examplesOfLoss: Array<{
      eventId: string;
      outcome: Outcome;
      messages: number;
      finalText: string | undefined;
      historyTail: string[];
      finalThenOverwritten: boolean;
      job: string;
    }>;
  };
  goalsMet: boolean;
}

export async function runSoak(overrides: Partial<SoakOptions> = {}): Promise<SoakSummary> {
  const options: SoakOptions = { ...FULL_SOAK, ...overrides };
  const log = options.log;
  const startedAt = Date.now();
  const signingSecret = 'soak-signing-secret-not-real';
  const prefix = `soak-${randomUUID().slice(0, 8)}`;

  const hf = await startHfFake();
  const slack = await startSlackFake({ botToken: 'xoxb-soak-bot-token' });
  const model = scriptModel(hf, { ttftMs: options.ttftMs, tokenDelayMs: options.tokenDelayMs });
  const redis = await startPrivateRedis({ appendonly: true });
  const cluster = new SoakCluster({
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    REDIS_AUTOSTART: 'false',
    QUEUE_PREFIX: prefix,
    HF_TOKEN: 'hf_SoakTokenNotReal000',
    HF_BASE_URL: hf.baseUrl,
    HF_STREAM_IDLE_TIMEOUT_MS: '5000',
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    SLACK_EDIT_INTERVAL_MS: '200',
    SLACK_STREAMING: options.slackStreaming,
    WORKER_CONCURRENCY: '50',
    WORKER_LOCK_MS: String(options.lockMs),
    USER_RATE_LIMIT: '0',
    // Sentiment scoring is a queue of its own, not what this soak is about.
    SENTIMENT_ENABLED: 'false',
  });
  const queueRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  queueRedis.on('error', () => undefined);
  const queue = new Queue(CHAT_QUEUE, { connection: queueRedis, prefix });
  queue.on('error', () => undefined);

  try {
    await cluster.start(options.workers);
    log(`soak: gateway and ${options.workers} workers up on Redis ${redis.url}; ${options.durationMs / 1000} s of load`);
    const traffic = new Traffic(cluster.eventsUrl, signingSecret, slack.botUserId, (message) => slack.seedMessage(message));
    const sends: Array<Promise<unknown>> = [];

    /**
     * Nothing left to do: every event sent has been taken in, and the queue has held no waiting,
     * active or delayed job at two looks in a row. (An event whose job ended without its answer is
     * not waited for: nothing would ever answer it.)
     */
    let emptyLooks = 0;
    const quiet = async (): Promise<boolean> => {
      await Promise.all(sends);
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      emptyLooks = Object.values(counts).every((count) => count === 0) ? emptyLooks + 1 : 0;
      return emptyLooks >= 2 || (emptyLooks >= 1 && allAnswered(traffic.valid, botMessagesByPlace(slack.messages())));
    };

    let restarts = 0;
    let gatewayKills = 0;
    let inFlightAtRestart = 0;
    /**
     * Redis goes down with answers in flight (its append-only file keeps them); events arrive while
     * it is down and the gateway is killed, then both come back and "Slack" delivers again what was
     * not acknowledged.
     */
    const restartRedis = async () => {
      const byPlace = botMessagesByPlace(slack.messages());
      inFlightAtRestart = traffic.valid.filter((event) => judgeEvent(event, byPlace).outcome !== 'completed').length;
      for (const event of traffic.valid) event.inFlightAtRedisRestart = judgeEvent(event, byPlace).outcome !== 'completed';
      log(`soak: restarting Redis with ${inFlightAtRestart} answers in flight; the gateway is killed while it is down`);
      await redis.down();
      for (let i = 0; i < options.outageEvents; i++) sends.push(traffic.sendValid('mention', { duringRedisOutage: true }));
      await sleep(2_500); // the outage events have had their answer (an error) by now
      await cluster.killGateway();
      gatewayKills += 1;
      await redis.up();
      await cluster.startGateway();
      restarts += 1;
      log('soak: Redis and the gateway are back');
    };

    let killsWhileStreaming = 0;
    const killInterval = Math.max(1_000, (options.durationMs * STREAMING_SHARE) / Math.max(1, options.kills));
    let nextKillAt = Date.now() + killInterval;
    const tickMs = 1000 / options.eventsPerSec;
    let loadMs = 0;
    let tick = 0;
    const extensionEnd = options.durationMs * 1.5;

    while (loadMs < options.durationMs || (cluster.kills < options.kills && loadMs < extensionEnd)) {
      const tickStart = Date.now();
      const progress = loadMs / options.durationMs;
      model.phase = progress >= 1 ? 'normal' : (PHASES.findLast((entry) => progress >= entry.from)?.phase ?? 'normal');
      if (options.restartRedis && restarts === 0 && progress >= REDIS_RESTART_AT) {
        await restartRedis();
        nextKillAt = Date.now() + killInterval;
        continue;
      }

      tick += 1;
      const kind = tick % options.dmEvery === 0 ? 'dm' : 'mention';
      const sent = traffic.sendValid(kind, { pings: kind === 'mention' && tick % options.pingEvery === 0 });
      sends.push(sent);
      if (tick % options.redeliverEvery === 0) {
        sends.push(sent.then(async (event: ValidEvent) => {
          await sleep(300);
          return traffic.redeliver(event);
        }));
      }
      if (tick % options.badEvery === 0) sends.push(traffic.sendBad(BAD_KINDS[(tick / options.badEvery) % BAD_KINDS.length] ?? 'stale'));
      if (tick % options.refusedEvery === 0) sends.push(traffic.sendRefused(3));

      if (Date.now() >= nextKillAt && cluster.kills < options.kills && hf.activeStreams > 0) {
        killsWhileStreaming += 1;
        await cluster.killWorker();
        nextKillAt = Date.now() + killInterval;
      }
      await sleep(Math.max(0, tickMs - (Date.now() - tickStart)));
      loadMs += Date.now() - tickStart;
    }
    model.phase = 'normal';
    await Promise.all(sends);
    log(`soak: load done (${traffic.valid.length} events, ${cluster.kills} kills); draining…`);
    emptyLooks = 0;
    const drained = await waitUntil(quiet, options.drainTimeoutMs, 500);
    if (!drained) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      log(`soak: not drained within ${options.drainTimeoutMs} ms (queue ${JSON.stringify(counts)}); judging what is there`);
    }
    // Let any last edit land before reading the fake.
    await sleep(1_000);

    const messages = slack.messages();
    const byPlace = botMessagesByPlace(messages);
    const verdicts = traffic.valid.map((event) => judgeEvent(event, byPlace));
    const count = (outcome: Outcome) => verdicts.filter((verdict) => verdict.outcome === outcome).length;
    const isLost = (outcome: Outcome) => outcome.startsWith('lost_');
    const lostBreakdown: Record<Outcome, number> = {
      completed: count('completed'),
      duplicated: count('duplicated'),
      lost_no_reply: count('lost_no_reply'),
      lost_stuck: count('lost_stuck'),
      lost_failed_notice: count('lost_failed_notice'),
    };
    const badPayloads: Record<string, Record<string, number>> = {};
    for (const bad of traffic.bad) {
      const statuses = (badPayloads[bad.kind] ??= {});
      statuses[String(bad.status)] = (statuses[String(bad.status)] ?? 0) + 1;
    }
    const acceptedForged = traffic.bad.filter((bad) => bad.status >= 200 && bad.status < 300).length;
    const crashed = [
      ...cluster.crashes.map((crash) => `${crash.name} (${crash.exit} at ${crash.atSec.toFixed(0)} s)`),
      ...(redis.crashes > 0 ? ['redis-server'] : []),
    ];
    const lost = lostBreakdown.lost_no_reply + lostBreakdown.lost_stuck + lostBreakdown.lost_failed_notice;

    const summary: SoakSummary = {
      eventsSent: traffic.valid.length,
      repliesCompleted: lostBreakdown.completed,
      repliesDuplicated: lostBreakdown.duplicated,
      repliesLost: lost,
      ackedThenLost: verdicts.filter((verdict) => verdict.event.acked && isLost(verdict.outcome)).length,
      neverAcked: traffic.valid.filter((event) => !event.acked).length,
      pingsShown: pingsShown(traffic.valid, byPlace).length,
      noticeMismatches: noticeMismatches(traffic.refused, slack.ephemerals),
      answersToForgedPayloads: forgedAnswers(messages, hf.chatRequests) + acceptedForged,
      processesCrashed: crashed.length,
      details: {
        durationSec: (Date.now() - startedAt) / 1000,
        lostBreakdown,
        redeliveries: traffic.redeliveries,
        badPayloads,
        kills: cluster.kills,
        killsWhileStreaming,
        repliesRerendered: verdicts.filter((verdict) => verdict.rerendered).length,
        redisRestarts: restarts,
        eventsDuringRedisOutage: traffic.valid.filter((event) => event.duringRedisOutage).length,
        inFlightAtRedisRestart: inFlightAtRestart,
        lostInFlightAtRedisRestart: verdicts.filter((v) => v.event.inFlightAtRedisRestart && v.outcome !== 'completed').length,
        gatewayKills,
        refusedEvents: traffic.refused.length,
        pingAttempts: traffic.valid.filter((event) => event.pings).length,
        hfRequests: hf.chatRequests.length,
        hfFaultsInjected: { ...model.injected },
        crashedProcesses: crashed,
        examplesOfLoss: await Promise.all(
          verdicts
            .filter((verdict) => verdict.outcome !== 'completed')
            .slice(0, 10)
            .map(async (verdict) => ({
              eventId: verdict.event.eventId,
              outcome: verdict.outcome,
              messages: verdict.messages,
              finalText: verdict.finalText,
              historyTail: verdict.historyTail,
              finalThenOverwritten: verdict.finalThenOverwritten,
              job: await describeJob(queue, `slack-ev-${verdict.event.eventId}`),
            })),
        ),
      },
      goalsMet: false,
    };
    summary.goalsMet =
      summary.repliesDuplicated === 0 &&
      summary.repliesLost === 0 &&
      summary.ackedThenLost === 0 &&
      summary.neverAcked === 0 &&
      summary.pingsShown === 0 &&
      summary.noticeMismatches === 0 &&
      summary.answersToForgedPayloads === 0 &&
      summary.processesCrashed === 0 &&
      summary.details.kills >= options.kills &&
      summary.details.redisRestarts === (options.restartRedis ? 1 : 0);
    for (const crash of cluster.crashes) {
      log(`soak: ${crash.name} crashed (${crash.exit}) ${crash.atSec.toFixed(1)} s into the run; its last output:\n${crash.output.split('\n').slice(-15).join('\n')}`);
    }
    return summary;
  } finally {
    await cluster.stop();
    await queue.close().catch(() => undefined);
    queueRedis.disconnect();
    await redis.stop();
    await Promise.all([hf.close(), slack.close()]);
    removeBuiltEntries();
  }
}

/** What BullMQ knows of a job, for the report on a loss. */
async function describeJob(queue: Queue, jobId: string): Promise<string> {
  const job = await queue.getJob(jobId);
  if (!job) return 'no such job in Redis';
  const state = await job.getState();
  return `${state}; attempts ${job.attemptsMade} made / ${job.attemptsStarted} started; stalled ${job.stalledCounter} times${job.failedReason ? `; failed: ${job.failedReason}` : ''}`;
}

export function formatSummary(summary: SoakSummary): string {
  const d = summary.details;
  const rows: Array<[string, string | number]> = [
    ['events sent', summary.eventsSent],
    ['replies completed', summary.repliesCompleted],
    ['replies duplicated (goal 0)', summary.repliesDuplicated],
    ['replies lost (goal 0)', summary.repliesLost],
    ['acknowledged, then lost (goal 0)', summary.ackedThenLost],
    ['never acknowledged after Slack\'s retries (goal 0)', summary.neverAcked],
    ['live pings shown, in every edit (goal 0)', `${summary.pingsShown} (of ${d.pingAttempts} answers trying)`],
    ['refused events without exactly one notice (goal 0)', `${summary.noticeMismatches} (of ${d.refusedEvents}, each delivered 3 times)`],
    ['answers to forged payloads (goal 0)', summary.answersToForgedPayloads],
    ['processes crashed (goal 0)', summary.processesCrashed],
    ['workers killed -9 (while streaming)', `${d.kills} (${d.killsWhileStreaming})`],
    ['replies re-rendered after a kill or a broken stream', d.repliesRerendered],
    ['Redis restarts / events sent while it was down / gateway kills then', `${d.redisRestarts} / ${d.eventsDuringRedisOutage} / ${d.gatewayKills}`],
    ['in flight at the Redis restart (of which lost)', `${d.inFlightAtRedisRestart} (${d.lostInFlightAtRedisRestart})`],
    ['Slack redeliveries sent', d.redeliveries],
    ['bad payloads (kind: HTTP status × count)', Object.entries(d.badPayloads).map(([kind, statuses]) => `${kind} ${Object.entries(statuses).map(([s, n]) => `${s}×${n}`).join(' ')}`).join('; ')],
    ['model faults injected', Object.entries(d.hfFaultsInjected).map(([kind, n]) => `${kind} ${n}`).join(', ')],
    ['model requests', d.hfRequests],
    ['lost by kind', `no reply ${d.lostBreakdown.lost_no_reply}, stuck ${d.lostBreakdown.lost_stuck}, failure notice ${d.lostBreakdown.lost_failed_notice}`],
    ['crashed processes', d.crashedProcesses.join(', ') || 'none'],
    ['duration', `${d.durationSec.toFixed(1)} s`],
  ];
  const lines = ['| soak | count |', '| --- | --- |', ...rows.map(([name, value]) => `| ${name} | ${value} |`)];
  if (d.examplesOfLoss.length > 0) lines.push('', 'Examples:', ...d.examplesOfLoss.map((example) => `- ${JSON.stringify(example)}`));
  lines.push('', summary.goalsMet ? 'Soak goals met.' : 'Soak goals MISSED.');
  return lines.join('\n');
}

if (import.meta.main) {
  endChildrenWithTheRun();
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'slack-stream': { type: 'string', default: 'native' } } });
  const slackStreaming = values['slack-stream'];
  if (slackStreaming !== 'native' && slackStreaming !== 'update') throw new Error('--slack-stream takes native or update');
  const summary = await runSoak({ ...(values.quick ? QUICK_SOAK : FULL_SOAK), slackStreaming });
  process.stdout.write(`${formatSummary(summary)}\n`);
  process.exitCode = summary.goalsMet ? 0 : 1;
}
