import type { DefaultJobOptions } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A single Redis or a Redis Cluster: every command the service uses works on both. */
export type RedisConnection = Redis | Cluster;

/**
 * A Redis connection as BullMQ wants it: `maxRetriesPerRequest: null` so a blocked worker call
 * waits out a Redis restart instead of failing, and a bounded reconnect backoff. With `cluster`,
 * the URL is one seed node of a Redis Cluster (the prefix must then be hash-tagged, see config).
 */
export function createRedis(url: string, name: string, cluster = false): RedisConnection {
  const options: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    // Commands issued in the same tick go out in one write: a job's reads before the model request
    // (stop check, turn check, settings, history) cost one round trip, and a burst of jobs far fewer.
    enableAutoPipelining: true,
  };
  if (!cluster) return new Redis(url, options);
  const seed = new URL(url);
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: {
      ...options,
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

/**
 * How every queue keeps its jobs: `attempts` for failures that spend them, backoff computed by the
 * worker's strategy (jittered), finished jobs kept an hour for inspection, failed ones longer.
 */
export function jobRetention(attempts: number, keepFailedSeconds: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'jittered' },
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: keepFailedSeconds },
  };
}

/** A second connection like `connection` (pub/sub needs one of its own). */
export function duplicateConnection(connection: RedisConnection): RedisConnection {
  return connection instanceof Cluster ? connection.duplicate() : connection.duplicate();
}

/** Keys of our own (not BullMQ's) under the deployment's prefix. */
export function keyspace(prefix: string) {
  return {
    seenEvent: (eventId: string) => `${prefix}:seen:${eventId}`,
    order: (conversation: string) => `${prefix}:order:${conversation}`,
    history: (conversation: string) => `${prefix}:history:${conversation}`,
    historyApplied: (jobId: string) => `${prefix}:history-applied:${jobId}`,
    userRate: (platform: string, userId: string, window: number) => `${prefix}:rate:${platform}:${userId}:${window}`,
    participating: (conversation: string) => `${prefix}:participating:${conversation}`,
    replyThread: (platform: string, messageId: string) => `${prefix}:reply-thread:${platform}:${messageId}`,
    sentiment: (scope: string) => `${prefix}:sentiment:${scope}`,
    sentimentApplied: (scope: string, messageId: string) => `${prefix}:sentiment-applied:${scope}:${messageId}`,
    /** State a platform adapter keeps of its own. */
    platform: (platform: string, suffix: string) => `${prefix}:${platform}:${suffix}`,
    insights: (suffix: string) => `${prefix}:insights:${suffix}`,
    channelSettings: (channel: string) => `${prefix}:channel-settings:${channel}`,
    stopped: (jobId: string) => `${prefix}:stopped:${jobId}`,
    answer: (jobId: string) => `${prefix}:answer:${jobId}`,
    feedbackVotes: (answerId: string) => `${prefix}:feedback:${answerId}`,
    feedbackDay: (platform: string, workspaceId: string, channelId: string, day: string) =>
      `${prefix}:feedback-day:${platform}:${workspaceId}:${channelId}:${day}`,
    stopChannel: `${prefix}:control:stop`,
  };
}
export type Keyspace = ReturnType<typeof keyspace>;
