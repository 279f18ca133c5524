import { once } from 'node:events';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import type { Config } from './config.ts';
import { ChannelSettingsStore } from './channels/settings.ts';
import { ConversationHistory } from './conversation/history.ts';
import { ConversationOrder } from './conversation/order.ts';
import { Participation } from './conversation/participation.ts';
import { ReplyIndex } from './conversation/reply-index.ts';
import { basicAuth, createHttpApp, createMetricsServer, createOperatorServer, type HttpAppOptions } from './http.ts';
import { InsightsStore } from './insights/store.ts';
import { Intake } from './intake.ts';
import { UserRateLimiter } from './limits/user-rate.ts';
import { createHfChatModel } from './llm/hf-chat.ts';
import { TOKEN_PATTERNS, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import type { PageLink, PlatformInstance } from './platform.ts';
import { CommandRunner } from './commands/registry.ts';
import { ChatEnqueuer, createChatQueue } from './queue/chat-queue.ts';
import { ensureRedis } from './queue/local-redis.ts';
import { redisPersistenceWarning } from './queue/persistence.ts';
import { createRedis, keyspace } from './queue/redis.ts';
import { Readiness } from './readiness.ts';
import { createHfClassifier } from './sentiment/classifier.ts';
import { createSentimentQueue, SentimentIntake } from './sentiment/queue.ts';
import { SentimentStore } from './sentiment/store.ts';
import { createSentimentWorker } from './sentiment/worker.ts';
import { SurfaceRegistry } from './surface.ts';
import { secretScrubber } from './text/scrub.ts';
import { createChatWorker } from './worker/chat-worker.ts';
import { StopRequests } from './control/stop-requests.ts';
import { AnswerRecords } from './answers/answer-records.ts';
import { AnswerControls } from './answers/controls.ts';
import { FeedbackStore } from './answers/feedback.ts';
import { DEMO_MODEL_ID, startDemoModel } from './demo/demo-model.ts';

export interface Service {
  /** The HTTP server's address (PORT 0 picks a free one). */
  port: number;
  /** The metrics listener's port, when METRICS_PORT is set. */
  metricsPort: number | undefined;
  /** Pages the platforms serve here (a local chat page), to point the person who started it to. */
  pages: PageLink[];
  /** Stops taking work, lets or hands back what is in progress, closes everything. */
  stop(): Promise<void>;
}

/** How often a worker whose platform credentials failed verification asks again. */
const REVERIFY_MS = 30_000;

/**
 * Starts the roles the config asks for against one Redis: the gateway (inbound adapters) and/or
 * the worker (chat and sentiment jobs). Every role serves health, readiness and metrics over HTTP.
 * `stop` runs the start-up steps backwards: readiness off, gateways closed (no new events),
 * workers drained or handed back, connections closed.
 */
export async function startService(config: Config, logger: Logger): Promise<Service> {
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
    }
  };

  try {
    const redisAvailability = await ensureRedis(config.redis.url, { autostart: config.redis.autostart, dataDir: config.redis.dataDir });
    if (redisAvailability.stop) {
      logger.warn({ redis: config.redis.url, dataDir: config.redis.dataDir }, 'no Redis was running: started a local redis-server for this process');
      stops.push(redisAvailability.stop);
    }
    const redis = createRedis(config.redis.url, 'hfbot', config.redis.cluster);
    stops.push(() => redis.quit());
    const keys = keyspace(config.redis.prefix);
    const metrics = new Metrics();
    const readiness = new Readiness();
    readiness.add('redis', async () => (await redis.ping()) === 'PONG');
    const persistence = await redisPersistenceWarning(redis);
    if (persistence) {
      logger.warn({ check: 'redis-persistence' }, persistence);
      readiness.warn('redis', persistence);
    }

    // BullMQ loads its Lua scripts onto the connection it is given, and ioredis copies every loaded
    // script onto each pipeline it builds (each auto-pipelined batch, each MULTI): the queues get a
    // connection of their own, so the batches of our own reads and writes stay cheap.
    const queueRedis = createRedis(config.redis.url, 'hfbot-queue', config.redis.cluster);
    stops.push(() => queueRedis.quit());
    const queue = createChatQueue(queueRedis, config.redis.prefix, config.hf.maxAttempts);
    stops.push(() => queue.close());
    const sentimentQueue = config.sentiment.enabled ? createSentimentQueue(queueRedis, config.redis.prefix, config.hf.maxAttempts) : undefined;
    if (sentimentQueue) stops.push(() => sentimentQueue.close());
    const queues: Queue[] = sentimentQueue ? [queue, sentimentQueue] : [queue];
    for (const watched of queues) metrics.watchQueue(watched.name, () => watched.getJobCounts('waiting', 'active', 'delayed', 'failed'));

    const order = new ConversationOrder(redis, keys, (jobId) => queue.getJobState(jobId));
    const history = new ConversationHistory(redis, keys, config.context);
    const replies = new ReplyIndex(redis, keys, config.context.ttlSeconds);
    const stopRequests = new StopRequests(redis, keys);
    const answers = new AnswerRecords(redis, keys, config.context.ttlSeconds);
    const sentiment = new SentimentStore(redis, keys, config.sentiment.ttlSeconds);
    const insights = new InsightsStore(redis, keys, { retentionDays: config.insights.retentionDays, threadTtlSeconds: config.sentiment.ttlSeconds });
    if (config.sentiment.enabled) metrics.watchNegativeThreads(async () => (await insights.negativeNow(0)).total);
    // No token, a local page only: the offline demo model answers, under its own name.
    const chatModel = config.demoModel ? DEMO_MODEL_ID : config.hf.chatModel;
    const channelSettings = new ChannelSettingsStore(redis, keys, { model: chatModel, systemPrompt: config.systemPrompt }, config.channels.file);

    // Each platform once per process: its surface and gateway share one client.
    const platforms: PlatformInstance[] = await Promise.all(config.platforms.map((platform) => platform.create({ config, logger, redis, keys })));
    const gatewayPages = config.roles.has('gateway') ? platforms.flatMap((platform) => platform.pages ?? []) : [];
    const surfaces = new SurfaceRegistry();
    for (const platform of platforms) surfaces.register(platform.surface);
    logger.info({ roles: [...config.roles], platforms: surfaces.platforms }, 'starting');

    const adminAuth = config.adminPassword ? basicAuth(config.adminPassword) : undefined;
    // The insights page and its express routes are loaded only where the operator pages are on.
    const insightsRoutes = adminAuth ? await import('./insights/routes.ts') : undefined;
    const httpOptions: HttpAppOptions = {
      readiness,
      metrics,
      metricsAccess: { token: config.metrics.token, separatePort: config.metrics.port !== undefined },
      admin: adminAuth ? { auth: adminAuth, queues } : undefined,
      landing: {
        roles: [...config.roles],
        platforms: surfaces.platforms,
        model: chatModel,
        demoModel: config.demoModel,
        sentiment: config.sentiment.enabled ? (config.hf.token ? `${config.hf.sentimentModel} on Hugging Face` : 'the built-in word list (lexicon)') : undefined,
        pages: gatewayPages,
        setup: config.setupLinks,
        insightsPath: insightsRoutes ? insightsRoutes.INSIGHTS_PATH + '/' : undefined,
      },
    };
    // Gateways mount their webhooks on an express app; a worker without the operator pages serves
    // only the operator's endpoints, on Node's HTTP alone.
    const http = config.roles.has('gateway') || adminAuth ? await createHttpApp(httpOptions) : undefined;
    if (http && adminAuth && insightsRoutes) {
      insightsRoutes.mountInsights(http, { auth: adminAuth, store: insights, platforms: surfaces.platforms, sentimentEnabled: config.sentiment.enabled, logger });
    }
    // Closed last of the roles (stops run backwards): readiness and metrics answer while workers drain.
    let server: Server | undefined;
    stops.push(async () => {
      if (!server) return;
      server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    if (config.roles.has('worker')) {
      // No token, and only a local page to answer: the offline demo model stands in for Hugging Face.
      const demo = config.demoModel ? await startDemoModel() : undefined;
      if (demo) {
        stops.push(() => demo.close());
        logger.warn({ platforms: surfaces.platforms }, 'no HF_TOKEN: answering with the offline demo model, not a real one');
      }
      const hf = demo ? { ...config.hf, chatModel, token: 'demo', baseUrl: demo.baseUrl } : config.hf;
      const model = createHfChatModel({
        baseUrl: hf.baseUrl,
        token: hf.token ?? '',
        model: hf.chatModel,
        maxTokens: hf.maxTokens,
        timeoutMs: hf.timeoutMs,
        streamIdleTimeoutMs: hf.streamIdleTimeoutMs,
      });
      const workerRedis = createRedis(config.redis.url, 'hfbot-worker', config.redis.cluster);
      const stopSubscriber = createRedis(config.redis.url, 'hfbot-stops', config.redis.cluster);
      const chat = createChatWorker(
        {
          model,
          surfaces,
          history,
          order,
          replies,
          stops: stopRequests,
          answers,
          insights,
          moodOf: config.sentiment.enabled && config.sentiment.moodHint ? (conversation) => sentiment.read(conversation) : undefined,
          channelSettings,
          metrics,
          logger: logger.child({ role: 'worker' }),
          rateLimitQueue: (ms) => queue.rateLimit(ms),
          scrub: secretScrubber(config.secrets, [...TOKEN_PATTERNS, ...(config.redaction.patterns ?? [])]),
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
          reasoningDisplay: config.reasoningDisplay,
          attachments: config.attachments,
        },
      );
      const sentimentWorker = sentimentQueue
        ? createSentimentWorker(
            {
              store: sentiment,
              insights,
              surfaces,
              // The demo has no sentiment model: the lexicon scores, and /sentiment says so.
              classify: hf.token && !demo
                ? createHfClassifier({ inferenceUrl: hf.inferenceUrl, model: hf.sentimentModel, token: hf.token, timeoutMs: hf.timeoutMs })
                : undefined,
              alertChannels: config.sentiment.alertChannels,
              metrics,
              logger: logger.child({ role: 'sentiment' }),
              rateLimitQueue: (ms) => sentimentQueue.rateLimit(ms),
            },
            { connection: workerRedis, prefix: config.redis.prefix, concurrency: config.sentiment.concurrency, maxWaitMs: config.hf.loadingMaxWaitMs },
          )
        : undefined;
      // A stop asked for in any gateway reaches the worker holding the job, whichever process that is.
      const stopListening = await stopRequests.listen(stopSubscriber, (jobId) => chat.cancelJob(jobId, 'stopped by the user'));
      stops.push(async () => {
        await stopListening();
        await stopSubscriber.quit();
      });
      stops.push(async () => {
        // Answers in progress get the grace period to finish; the rest go back to the queue,
        // where another worker resumes each in the same messages.
        const closing = Promise.all([chat.close(), sentimentWorker?.close()]);
        const finished = await Promise.race([closing.then(() => true), sleep(config.shutdownGraceMs, false, { ref: false })]);
        if (!finished) {
          logger.info('grace period over: handing the remaining answers back to the queue');
          chat.processor.handBack();
          await closing;
        }
        await workerRedis.quit();
      });
    }

    // `http` is always set where the gateway role is on; testing it tells the type so.
    if (http && config.roles.has('gateway')) {
      const limiter = config.limits.userRate ? new UserRateLimiter(keys, config.limits.userRate) : undefined;
      const intake = new Intake({
        policy: config.limits,
        queue: new ChatEnqueuer({ queue, queueConnection: queueRedis, redis, keys, order }),
        limiter,
        participation: new Participation(redis, keys, config.context.ttlSeconds),
        sentiment: sentimentQueue ? new SentimentIntake(sentimentQueue) : undefined,
        logger,
      });
      const feedback = new FeedbackStore({ redis, keys, answers, insights, metrics, votesTtlSeconds: config.context.ttlSeconds });
      const commands = new CommandRunner({ history, sentiment, feedback, channelSettings, admins: config.channels.admins });
      const controls = new AnswerControls({ stops: stopRequests, order, answers, feedback });
      for (const platform of platforms) {
        const gateway = await platform.startGateway({ config, logger, redis, keys, intake, replies, channelSettings, commands, controls, http });
        readiness.add(`${platform.surface.platform}-gateway`, () => gateway.ready());
        stops.push(() => gateway.stop());
      }
    }

    // After the gateways: one that cannot reach its platform has already stopped the start-up,
    // with one line that says why, and a worker's check would only say it again.
    if (config.roles.has('worker')) {
      for (const surface of surfaces.all) readiness.add(`${surface.platform}-credentials`, verifiedFlag(surface, logger));
    }

    server = (http ?? createOperatorServer(httpOptions)).listen(config.port, '0.0.0.0');
    await once(server, 'listening');
    const metricsServer = config.metrics.port === undefined ? undefined : createMetricsServer(metrics, config.metrics.token).listen(config.metrics.port, '0.0.0.0');
    if (metricsServer) {
      stops.push(async () => {
        metricsServer.closeAllConnections();
        await new Promise((resolve) => metricsServer.close(resolve));
      });
      await once(metricsServer, 'listening');
    }
    // Runs first when stopping: readiness turns false before anything closes.
    stops.push(async () => readiness.stopping());

    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port }, 'ready');
    const metricsAddress = metricsServer?.address();
    const metricsPort = typeof metricsAddress === 'object' && metricsAddress ? metricsAddress.port : undefined;
    return { port, metricsPort, pages: gatewayPages, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Verifies a surface's credentials now and, while they fail, every REVERIFY_MS; the returned check
 * reports the latest result.
 */
function verifiedFlag(surface: { platform: string; verify(): Promise<void> }, logger: Logger): () => boolean {
  let verified = false;
  const attempt = () => {
    surface.verify().then(
      () => {
        verified = true;
      },
      (err: unknown) => {
        const problem = err instanceof Error ? err.message : String(err);
        logger.error({ platform: surface.platform, problem }, 'platform credentials failed verification; retrying');
        setTimeout(attempt, REVERIFY_MS).unref();
      },
    );
  };
  attempt();
  return () => verified;
}
