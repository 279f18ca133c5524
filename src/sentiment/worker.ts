import { DelayedError, Worker, type Job } from 'bullmq';
import type { RedisConnection } from '../queue/redis.ts';
import { ClassifiedError, failureOf } from '../errors/index.ts';
import type { InsightsStore } from '../insights/store.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { MessageRef, SurfaceRegistry } from '../surface.ts';
import { decide, transientBackoffMs } from '../worker/policy.ts';
import { classifyWithLexicon, type Classification } from './classifier.ts';
import { sentimentJobSchema, type SentimentJob } from './job.ts';
import { SENTIMENT_QUEUE } from './queue.ts';
import { channelScope, type SentimentStore, type SentimentSummary } from './store.ts';

export interface SentimentWorkerDeps {
  store: SentimentStore;
  /** Daily aggregates and negative-now threads for the insights page, moved with each fold. */
  insights: InsightsStore | undefined;
  surfaces: SurfaceRegistry;
  /** The Hugging Face classifier; absent without an HF token, and then the lexicon scores everything. */
  classify: ((text: string) => Promise<Classification>) | undefined;
  /** Alert channel per platform. */
  alertChannels: ReadonlyMap<string, string>;
  metrics: Metrics;
  logger: Logger;
  /** Pauses every worker of the sentiment queue for `ms` (BullMQ's queue-level rate limit). */
  rateLimitQueue: (ms: number) => Promise<void>;
}

export interface SentimentWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  /** Longest total wait for the model (cold starts, rate limits) before the lexicon takes over. */
  maxWaitMs: number;
}

/** The message that carries the thread's tag; none for DMs and commands. */
const rootOf = (data: SentimentJob): MessageRef | undefined =>
  data.tagMessageId ? { workspaceId: data.workspaceId, channelId: data.channelId, messageId: data.tagMessageId } : undefined;

/** A platform call that failed in a way a retry can fix. */
const retryable = (err: unknown) => !(err instanceof ClassifiedError) || err.failure.kind !== 'fatal';

/**
 * Classifies one message, folds it into its thread's and channel's running sentiment, and has the
 * platform re-tag the thread (only when its label changed) and alert (only when it turned negative).
 */
export class SentimentProcessor {
  readonly #deps: SentimentWorkerDeps;
  readonly #options: SentimentWorkerOptions;

  constructor(deps: SentimentWorkerDeps, options: SentimentWorkerOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  async process(job: Job<SentimentJob>, token: string | undefined): Promise<Classification> {
    const data = sentimentJobSchema.parse(job.data);
    let result = data.result;
    if (!result) {
      result = await this.#classify(job, token, data);
      this.#deps.metrics.classified(result.classifier);
      await job.updateData({ ...data, result });
    }
    const { store, insights } = this.#deps;
    const root = rootOf(data);
    const [thread] = await Promise.all([
      store.fold(data.conversation, data.messageId, result, root && insights?.threadFold(data.conversation, { platform: data.platform, ...root })),
      store.fold(
        channelScope(data.platform, data.workspaceId, data.channelId),
        data.messageId,
        result,
        insights?.channelFold(data.platform, data.workspaceId, data.channelId),
      ),
    ]);
    if (thread && root) await this.#recordLink(data, root, thread);
    if (thread) await this.#showOnPlatform(data, thread);
    return result;
  }

  /** Stores the link of a negative thread for the insights page, once; the page works without it. */
  async #recordLink(data: SentimentJob, root: MessageRef, thread: SentimentSummary): Promise<void> {
    const { insights, logger } = this.#deps;
    const surface = this.#deps.surfaces.get(data.platform);
    if (thread.label !== 'negative' || !insights || !surface?.threadLink) return;
    try {
      if (!(await insights.needsLink(data.conversation))) return;
      const link = await surface.threadLink(root);
      if (link) await insights.setLink(data.conversation, link);
    } catch (err) {
      logger.warn({ err, conversation: data.conversation }, 'cannot record the thread link for insights');
    }
  }

  async #classify(job: Job<SentimentJob>, token: string | undefined, data: SentimentJob): Promise<Classification> {
    const { classify, logger } = this.#deps;
    if (!classify) return classifyWithLexicon(data.text);
    try {
      return await classify(data.text);
    } catch (err) {
      const failure = failureOf(err);
      this.#deps.metrics.hfError(err instanceof ClassifiedError ? err.status : undefined, failure.kind);
      // One budget for both kinds of wait: past it, the lexicon answers.
      const action = decide(failure, {
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        loadingWaitedMs: data.waitedMs,
        rateLimitWaitedMs: data.waitedMs,
        loadingMaxWaitMs: this.#options.maxWaitMs,
      });
      switch (action.type) {
        case 'delay':
          this.#deps.metrics.modelWait(action.reason, action.ms);
          await job.updateData({ ...data, waitedMs: data.waitedMs + action.ms });
          await job.moveToDelayed(Date.now() + action.ms, token);
          throw new DelayedError();
        case 'rate_limit_queue':
          this.#deps.metrics.modelWait('rate_limited', action.ms);
          await job.updateData({ ...data, waitedMs: data.waitedMs + action.ms });
          await this.#deps.rateLimitQueue(action.ms);
          throw Worker.RateLimitError();
        case 'retry':
          throw err;
        case 'give_up':
          logger.warn({ jobId: job.id, failure }, 'sentiment model unavailable; scoring with the lexicon');
          return classifyWithLexicon(data.text);
      }
    }
  }

  async #showOnPlatform(data: SentimentJob, thread: SentimentSummary): Promise<void> {
    const surface = this.#deps.surfaces.get(data.platform);
    const root = rootOf(data);
    if (!surface || !root) return;
    const alertChannel = this.#deps.alertChannels.get(data.platform);
    const { store, logger } = this.#deps;
    const decision = await store.decide(data.conversation, thread.label, {
      tag: surface.tagSentiment !== undefined,
      alert: alertChannel !== undefined && surface.alertNegative !== undefined,
    });

    if (decision.retagFrom !== undefined) {
      try {
        await surface.tagSentiment?.(root, decision.retagFrom || undefined, thread.label);
      } catch (err) {
        if (!retryable(err)) return logger.warn({ err, conversation: data.conversation }, 'cannot tag the thread');
        await store.revert(data.conversation, 'tagged', thread.label, decision.retagFrom);
        throw err;
      }
    }
    if (decision.alert && alertChannel) {
      try {
        await surface.alertNegative?.(alertChannel, root, thread);
      } catch (err) {
        if (!retryable(err)) return logger.warn({ err, conversation: data.conversation }, 'cannot post the sentiment alert');
        await store.revert(data.conversation, 'alerted', 'true', 'false');
        throw err;
      }
    }
  }
}

export function createSentimentWorker(deps: SentimentWorkerDeps, options: SentimentWorkerOptions): Worker<SentimentJob, Classification> {
  const processor = new SentimentProcessor(deps, options);
  const worker = new Worker<SentimentJob, Classification>(SENTIMENT_QUEUE, (job, token) => processor.process(job, token), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // Lets the queue-level rate limit set on a 429 pause this worker; never limits by itself.
    limiter: { max: Number.MAX_SAFE_INTEGER, duration: 1000 },
    settings: { backoffStrategy: (attemptsMade: number) => transientBackoffMs(attemptsMade) },
  });
  worker.on('failed', (job, err) => {
    if (job && !(err instanceof DelayedError)) deps.logger.warn({ jobId: job.id, err: err.message }, 'sentiment job failed');
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'sentiment worker error'));
  return worker;
}
