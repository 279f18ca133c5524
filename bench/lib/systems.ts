/**
 * The two systems under test, started the same way and driven through the same signed events:
 *
 * - baseline: one process (baseline-server.ts), the adapter code answering in process, no queue;
 * - pipeline: `bin/hfbot.ts --role gateway` and `--role worker` as separate processes over Redis
 *   and BullMQ, exactly as deployed.
 *
 * Both run compiled to JavaScript (`builtEntries`), as `npm start` runs the service.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { CHAT_QUEUE } from '../../src/queue/chat-queue.ts';
import { preciseNow } from './clock.ts';
import type { FakesHost } from './fakes-client.ts';
import { builtEntries, freePort, SERVICE_NODE_FLAGS, spawnHfbot, spawnManaged, waitHealthy, type ManagedProcess } from './procs.ts';


export type Mode = 'baseline' | 'pipeline';

export interface SystemSettings {
  fakes: FakesHost;
  signingSecret: string;
  editIntervalMs: number;
  /** SLACK_STREAMING for both systems. */
  slackStream: 'native' | 'update';
  workerConcurrency: number;
  /** Redis for the pipeline (the bench's private one, or REDIS_URL). */
  redisUrl: string;
  /** Extra pids whose cost belongs to the pipeline (the private redis-server). */
  redisPid: number | undefined;
  /** Node flags for the service's processes (e.g. --cpu-prof). */
  nodeArgs: string[];
}

export interface RunningSystem {
  mode: Mode;
  /** When its processes were spawned (precise clock), to skip start-up in CPU profiles. */
  startedAt: number;
  eventsUrl: string;
  /** The processes whose CPU and memory are this system's cost, by role. */
  measured: Array<{ role: string; pid: number }>;
  /** What the system's processes last wrote (for the report when it does not answer). */
  output(): string;
  /** Redis's own counters (pipeline only): commands run and reads from clients (each a round trip's request). */
  redisStats?(): Promise<{ commands: number; reads: number }>;
  /**
   * For these replies (a job id, and when its event was sent): each reply's worst token-to-visible
   * lag as the pacer measured it, and (the pipeline, from its finished jobs) where each reply's
   * first text went, step by step.
   */
  replies(sent: SentEvent[]): Promise<{ lags: number[]; stages?: StageSamples }>;
  stop(): Promise<void>;
}

/**
 * The steps from a message to its first visible text, in ms, one sample per reply: the gateway
 * queues it, a worker takes it (BullMQ's `moveToActive`), the processor starts it, asks the model,
 * the first token comes, the first render carrying it completes.
 */
export const STAGES = ['received', 'queued', 'taken', 'started', 'modelAsked', 'firstToken', 'shown'] as const;
export type StageSamples = Record<(typeof STAGES)[number], number[]>;

/** An event the load sent: the job it becomes, and when it left the sender (the bench's clock). */
export interface SentEvent {
  jobId: string;
  sentAt: number;
}

/** The stage durations of one finished job, from its stamps and its result's `timings`; undefined when any is missing. */
function stagesOf(job: Job | undefined, sentAt: number): Record<(typeof STAGES)[number], number> | undefined {
  if (!job) return undefined;
  const receivedAt: unknown = (job.data as { receivedAt?: unknown }).receivedAt;
  const timings: unknown = (job.returnvalue as { timings?: unknown } | null)?.timings;
  if (typeof receivedAt !== 'number' || typeof timings !== 'object' || timings === null || job.processedOn === undefined) return undefined;
  const { startedAt, modelRequestedAt, firstTokenAt, firstVisibleAt } = timings as Record<string, unknown>;
  const steps = [receivedAt, job.timestamp, job.processedOn, startedAt, modelRequestedAt, firstTokenAt, firstVisibleAt];
  if (!steps.every((step): step is number => typeof step === 'number')) return undefined;
  const [received, queued, taken, started, modelAsked, firstToken, shown] = steps as [number, number, number, number, number, number, number];
  return { received: received - sentAt, queued: queued - received, taken: taken - queued, started: started - taken, modelAsked: modelAsked - started, firstToken: firstToken - modelAsked, shown: shown - firstToken };
}

/** The environment both systems read: the service's own variables. */
function serviceEnv(settings: SystemSettings, port: number, prefix: string): Record<string, string> {
  return {
    LOG_LEVEL: 'warn',
    PORT: String(port),
    REDIS_URL: settings.redisUrl,
    REDIS_AUTOSTART: 'false',
    QUEUE_PREFIX: prefix,
    HF_TOKEN: 'hf_BenchTokenNotReal000',
    HF_BASE_URL: settings.fakes.hfBaseUrl,
    SLACK_BOT_TOKEN: settings.fakes.botToken,
    SLACK_SIGNING_SECRET: settings.signingSecret,
    SLACK_API_URL: settings.fakes.slackApiUrl,
    SLACK_EDIT_INTERVAL_MS: String(settings.editIntervalMs),
    SLACK_STREAMING: settings.slackStream,
    WORKER_CONCURRENCY: String(settings.workerConcurrency),
    USER_RATE_LIMIT: '0',
    // The bench measures the chat path; sentiment scoring is a queue of its own (measure it apart).
    SENTIMENT_ENABLED: 'false',
  };
}

export async function startBaseline(settings: SystemSettings): Promise<RunningSystem> {
  const port = await freePort();
  const { baseline } = await builtEntries();
  const startedAt = preciseNow();
  const proc = spawnManaged({
    name: 'baseline',
    args: [baseline],
    nodeArgs: [...SERVICE_NODE_FLAGS, ...settings.nodeArgs],
    env: { PATH: process.env.PATH ?? '', ...serviceEnv(settings, port, 'bench-baseline') },
  });
  await waitHealthy(proc, port);
  const base = `http://127.0.0.1:${port}`;
  return {
    mode: 'baseline',
    startedAt,
    eventsUrl: `${base}/slack/events`,
    measured: [{ role: 'baseline', pid: proc.pid }],
    output: () => proc.output(),
    async replies() {
      const response = await fetch(`${base}/bench/lags`);
      const body = (await response.json()) as { lags: number[] };
      await fetch(`${base}/bench/reset`, { method: 'POST' }).then((reset) => reset.arrayBuffer());
      return { lags: body.lags };
    },
    stop: () => stopAll([proc]),
  };
}

export async function startPipeline(settings: SystemSettings): Promise<RunningSystem> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const [gatewayPort, workerPort] = [await freePort(), await freePort()];
  const nodeArgs = settings.nodeArgs;
  await builtEntries();
  const startedAt = preciseNow();
  const [gateway, worker] = await Promise.all([
    spawnHfbot('gateway', serviceEnv(settings, gatewayPort, prefix), { nodeArgs }),
    spawnHfbot('worker', serviceEnv(settings, workerPort, prefix), { nodeArgs }),
  ]);
  try {
    await Promise.all([waitHealthy(gateway, gatewayPort), waitHealthy(worker, workerPort)]);
  } catch (err) {
    await stopAll([gateway, worker]);
    throw err;
  }
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(CHAT_QUEUE, { connection: redis, prefix });
  const measured = [
    { role: 'gateway', pid: gateway.pid },
    { role: 'worker', pid: worker.pid },
    ...(settings.redisPid === undefined ? [] : [{ role: 'redis', pid: settings.redisPid }]),
  ];
  return {
    mode: 'pipeline',
    startedAt,
    eventsUrl: `http://127.0.0.1:${gatewayPort}/slack/events`,
    measured,
    output: () => `gateway:\n${gateway.output()}\nworker:\n${worker.output()}`,
    async redisStats() {
      const info = await redis.info('stats');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
      return { commands: field('total_commands_processed'), reads: field('total_reads_processed') };
    },
    async replies(sent) {
      const lags: number[] = [];
      const stages = Object.fromEntries(STAGES.map((stage) => [stage, [] as number[]])) as StageSamples;
      for (let i = 0; i < sent.length; i += 200) {
        const batch = await Promise.all(sent.slice(i, i + 200).map(async ({ jobId, sentAt }) => ({ sentAt, job: await queue.getJob(jobId) })));
        for (const { sentAt, job } of batch) {
          const value: unknown = job?.returnvalue;
          if (typeof value === 'object' && value !== null && 'maxVisibleLagMs' in value && typeof value.maxVisibleLagMs === 'number') {
            lags.push(value.maxVisibleLagMs);
          }
          const steps = stagesOf(job, sentAt);
          if (steps) for (const stage of STAGES) stages[stage].push(steps[stage]);
        }
      }
      return { lags, stages };
    },
    async stop() {
      await stopAll([gateway, worker]);
      await queue.close();
      await deleteKeys(redis, `${prefix}:*`);
      redis.disconnect();
    },
  };
}

/** Removes this run's keys, so a shared Redis is left as it was found. */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 })) {
    const batch = keys as string[];
    if (batch.length > 0) await redis.unlink(...batch);
  }
}

async function stopAll(processes: ManagedProcess[]): Promise<void> {
  await Promise.all(processes.map((proc) => proc.stop()));
  const crashed = processes.filter((proc) => proc.crashed);
  if (crashed.length > 0) {
    throw new Error(`crashed during the bench: ${crashed.map((proc) => `${proc.name}\n${proc.output()}`).join('\n')}`);
  }
}
