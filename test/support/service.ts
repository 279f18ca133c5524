import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { inject } from 'vitest';
import { adapters } from '../../adapters/index.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { ChatJob } from '../../src/jobs/chat-job.ts';
import { createLogger } from '../../src/logger.ts';
import { CHAT_QUEUE } from '../../src/queue/chat-queue.ts';
import { createRedis, type RedisConnection } from '../../src/queue/redis.ts';
import { startService, type Service } from '../../src/service.ts';

/** Test credentials: shaped like real ones, so the logger's token patterns would catch them too. */
export const secrets = {
  hfToken: 'hf_TestTokenDoNotLog1234567',
  slackBotToken: 'xoxb-1111-2222-TestBotTokenDoNotLog',
  slackSigningSecret: 'signing-secret-do-not-log-9876',
  slackAppToken: 'xapp-1-A111-2222-TestAppTokenDoNotLog',
  discordToken: 'discord-token-do-not-log.abc.def',
};

/** Points the service at the fake Hugging Face server. */
export const hfEnv = (hf: { baseUrl: string; inferenceUrl: string }) => ({
  HF_TOKEN: secrets.hfToken,
  HF_BASE_URL: hf.baseUrl,
  HF_INFERENCE_URL: hf.inferenceUrl,
});

/** Points the service at the fake Slack (HTTP Events API), with quick edits. */
export const slackEnv = (slack: { apiUrl: string }) => ({
  SLACK_BOT_TOKEN: secrets.slackBotToken,
  SLACK_SIGNING_SECRET: secrets.slackSigningSecret,
  SLACK_API_URL: slack.apiUrl,
  SLACK_EDIT_INTERVAL_MS: '100',
});

/** Points the service at the fake Slack in Socket Mode, with quick edits. */
export const slackSocketEnv = (slack: { apiUrl: string }) => ({
  SLACK_BOT_TOKEN: secrets.slackBotToken,
  SLACK_APP_TOKEN: secrets.slackAppToken,
  SLACK_API_URL: slack.apiUrl,
  SLACK_EDIT_INTERVAL_MS: '100',
});

/** Points the service at the fake Discord, with quick edits. */
export const discordEnv = (discord: { token: string; applicationId: string; api: string }) => ({
  DISCORD_TOKEN: discord.token,
  DISCORD_APPLICATION_ID: discord.applicationId,
  DISCORD_API_URL: discord.api,
  DISCORD_EDIT_INTERVAL_MS: '100',
});

/** A unique key prefix: test files and runs share one Redis without seeing each other. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

export interface RunningTestService {
  service: Service;
  config: Config;
  baseUrl: string;
  /** Every log line the service wrote. */
  logs: string[];
  /** Reads job state in the service's queue. */
  queue: Queue<ChatJob>;
  redis: RedisConnection;
  stop(): Promise<void>;
}

/**
 * Starts the real service (gateway and/or worker roles) in this process, configured through the
 * same environment variables a deployment uses, with logs captured for inspection.
 */
export async function startTestService(env: Record<string, string>, roles?: Array<'gateway' | 'worker'>): Promise<RunningTestService> {
  const redisUrl = inject('redisUrl');
  const config = loadConfig({ REDIS_URL: redisUrl, PORT: '0', LOG_LEVEL: 'debug', PLAYGROUND_ENABLED: 'false', ...env }, adapters, roles);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, secrets: config.secrets, redaction: config.redaction }, sink);
  const service = await startService(config, logger);
  const redis = createRedis(config.redis.url, 'test', config.redis.cluster);
  const queue = new Queue<ChatJob>(CHAT_QUEUE, { connection: redis, prefix: config.redis.prefix });
  return {
    service,
    config,
    baseUrl: `http://127.0.0.1:${service.port}`,
    logs,
    queue,
    redis,
    stop: async () => {
      await service.stop();
      await queue.close();
      await redis.quit();
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `predicate` holds, or fails with `message` after `timeoutMs`. */
export async function eventually<T>(probe: () => T | Promise<T>, message: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${message}`);
    await sleep(25);
  }
}

/** Waits until the job has settled and returns its final state. */
export async function settled(queue: Queue<ChatJob>, jobId: string, timeoutMs = 15_000): Promise<string> {
  return eventually(async () => {
    const state = await queue.getJobState(jobId);
    return state === 'completed' || state === 'failed' ? state : undefined;
  }, `job ${jobId} to settle`, timeoutMs);
}
