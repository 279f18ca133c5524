import type { Server } from 'node:http';
import { once } from 'node:events';
import express from 'express';
import type { Config } from './config.ts';
import { ConversationHistory } from './conversation/history.ts';
import { ConversationOrder } from './conversation/order.ts';
import { Intake } from './intake.ts';
import { UserRateLimiter } from './limits/user-rate.ts';
import { createHfChatModel, type ChatModel } from './llm/hf-chat.ts';
import type { Logger } from './logger.ts';
import type { PlatformAdapter, RunningGateway } from './platform.ts';
import { ChatEnqueuer, createChatQueue } from './queue/chat-queue.ts';
import { ensureRedis } from './queue/local-redis.ts';
import { createRedis, keyspace } from './queue/redis.ts';
import { SurfaceRegistry } from './surface.ts';
import { createChatWorker } from './worker/chat-worker.ts';
import { ReplyIndex } from './conversation/reply-index.ts';
import { createHfClassifier } from './sentiment/classifier.ts';
import { createSentimentQueue, SentimentIntake } from './sentiment/queue.ts';
import { SentimentStore } from './sentiment/store.ts';
import { createSentimentWorker } from './sentiment/worker.ts';

export interface Service {
  /** The HTTP server's address (PORT 0 picks a free one). */
  port: number;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Replaces the Hugging Face model (tests, benchmarks). */
  model?: ChatModel;
}

/**
 * Starts the roles the config asks for against one Redis: the gateway (inbound adapters and the
 * HTTP server) and/or the worker (chat jobs). Every role runs the HTTP server for health checks.
 */
export async function startService(
  config: Config,
  platformAdapters: PlatformAdapter[],
  logger: Logger,
  options: ServiceOptions = {},
): Promise<Service> {
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
    }
  };

  try {
    const redisAvailability = await ensureRedis(config.redis.url, { autostart: config.redis.autostart });
    if (redisAvailability.stop) {
      logger.warn({ redis: config.redis.url }, 'no Redis was running: started a local redis-server for this process');
      stops.push(redisAvailability.stop);
    }
    const redis = createRedis(config.redis.url, 'hfbot');
    stops.push(() => redis.quit());
    const keys = keyspace(config.redis.prefix);
    const queue = createChatQueue(redis, config.redis.prefix, config.hf.maxAttempts);
    stops.push(() => queue.close());
    const order = new ConversationOrder(redis, keys, (jobId) => queue.getJobState(jobId));
    const history = new ConversationHistory(redis, keys, config.context);
    const replies = new ReplyIndex(redis, keys, config.context.ttlSeconds);
    const sentiment = new SentimentStore(redis, keys, config.sentiment.ttlSeconds);
    const sentimentQueue = config.sentiment.enabled ? createSentimentQueue(redis, config.redis.prefix, config.hf.maxAttempts) : undefined;
    if (sentimentQueue) stops.push(() => sentimentQueue.close());

    const enabled = platformAdapters.filter((adapter) => adapter.enabled(config));
    const surfaces = new SurfaceRegistry();
    for (const adapter of enabled) surfaces.register(adapter.createSurface(config, logger));
    logger.info({ roles: [...config.roles], platforms: surfaces.platforms }, 'starting');

    if (config.roles.has('worker')) {
      const token = config.hf.token ?? '';
      const model =
        options.model ??
        createHfChatModel({
          baseUrl: config.hf.baseUrl,
          token,
          model: config.hf.chatModel,
          maxTokens: config.hf.maxTokens,
          timeoutMs: config.hf.timeoutMs,
          streamIdleTimeoutMs: config.hf.streamIdleTimeoutMs,
        });
      const workerRedis = createRedis(config.redis.url, 'hfbot-worker');
      const worker = createChatWorker(
        {
          model,
          surfaces,
          history,
          order,
          replies,
          moodOf: config.sentiment.enabled && config.sentiment.moodHint ? (conversation) => sentiment.read(conversation) : undefined,
          logger: logger.child({ role: 'worker' }),
        },
        {
          connection: workerRedis,
          prefix: config.redis.prefix,
          concurrency: config.worker.concurrency,
          lockMs: config.worker.lockMs,
          rateLimit: config.hf.rateLimit,
          systemPrompt: config.systemPrompt,
          contextMaxChars: config.context.maxChars,
          loadingMaxWaitMs: config.hf.loadingMaxWaitMs,
        },
      );
      const sentimentWorker = sentimentQueue
        ? createSentimentWorker(
            {
              store: sentiment,
              surfaces,
              classify: config.hf.token
                ? createHfClassifier({ inferenceUrl: config.hf.inferenceUrl, model: config.hf.sentimentModel, token: config.hf.token, timeoutMs: config.hf.timeoutMs })
                : undefined,
              alertChannels: config.sentiment.alertChannels,
              logger: logger.child({ role: 'sentiment' }),
            },
            { connection: workerRedis, prefix: config.redis.prefix, concurrency: config.sentiment.concurrency, maxWaitMs: config.hf.loadingMaxWaitMs },
          )
        : undefined;
      // Closing waits for the jobs in hand to finish; their locks keep them from being taken twice.
      stops.push(async () => {
        await Promise.all([worker.close(), sentimentWorker?.close()]);
        await workerRedis.quit();
      });
    }

    const http = express();
    http.disable('x-powered-by');
    http.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });

    if (config.roles.has('gateway')) {
      const limiter = config.limits.userRate ? new UserRateLimiter(redis, keys, config.limits.userRate) : undefined;
      const intake = new Intake({
        policy: config.limits,
        queue: new ChatEnqueuer({ queue, redis, keys, order }),
        limiter,
        sentiment: sentimentQueue ? new SentimentIntake(sentimentQueue, redis, keys, config.sentiment.ttlSeconds) : undefined,
        logger,
      });
      for (const adapter of enabled) {
        const surface = surfaces.get(adapter.platform);
        if (!surface) continue;
        const gateway: RunningGateway = await adapter.startGateway({ config, intake, history, replies, sentiment, http, logger }, surface);
        stops.push(() => gateway.stop());
      }
    }

    const server: Server = http.listen(config.port, '0.0.0.0');
    await once(server, 'listening');
    stops.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port }, 'ready');
    return { port, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
