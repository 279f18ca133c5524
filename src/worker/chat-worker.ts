import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { RedisConnection } from '../queue/redis.ts';
import { buildPrompt } from '../conversation/prompt.ts';
import type { ConversationHistory } from '../conversation/history.ts';
import type { ConversationOrder } from '../conversation/order.ts';
import { chatJobSchema, conversationKey, type ChatJob, type ChatProgress } from '../jobs/chat-job.ts';
import { ClassifiedError, failureOf, type Failure } from '../llm/failures.ts';
import { ChatOutput } from '../llm/chat-output.ts';
import type { ChatModel, ChatTurn, ModelTurn } from '../llm/hf-chat.ts';
import { prepareAttachments, type PreparedMessage } from '../attachments/prepare.ts';
import type { ChannelSettingsStore, EffectiveSettings } from '../channels/settings.ts';
import type { Config } from '../config.ts';
import { composeReply, stripReasoningAppendix, thinkingStatus, type ReasoningDisplay } from '../llm/reasoning-display.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { CHAT_QUEUE } from '../queue/chat-queue.ts';
import { EditPacer } from '../stream/pacer.ts';
import type { ReplyIndex } from '../conversation/reply-index.ts';
import type { SentimentSummary } from '../sentiment/store.ts';
import type { ReplyHandle, Surface, SurfaceRegistry } from '../surface.ts';
import { loadingDelayMs, rateLimitDelayMs, transientBackoffMs } from './retry-policy.ts';

/** Workers lost while holding one job before it is given up. */
const MAX_STALLS = 10;
/** BullMQ's message for a job failed by the stalled-job checker. */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/i;

/** How soon a job whose conversation is busy looks again. */
const ORDER_POLL_MS = 250;
/** How often the thinking status offers its elapsed time (the pacer drops repeats). */
const THINKING_TICK_MS = 250;

export interface ChatWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  lockMs: number;
  rateLimit: { max: number; windowMs: number } | undefined;
  systemPrompt: string;
  contextMaxChars: number;
  loadingMaxWaitMs: number;
  /** REASONING_DISPLAY: a reasoning model's thoughts are hidden, excerpted or shown in full after the answer. */
  reasoningDisplay: ReasoningDisplay;
  attachments: Config['attachments'];
}

export interface ChatWorkerDeps {
  model: ChatModel;
  surfaces: SurfaceRegistry;
  history: ConversationHistory;
  order: ConversationOrder;
  replies: ReplyIndex;
  /** The conversation's running sentiment, when the mood hint is on. */
  moodOf: ((conversation: string) => Promise<SentimentSummary | undefined>) | undefined;
  /** Per-channel model and system prompt. */
  channelSettings: Pick<ChannelSettingsStore, 'resolve'>;
  metrics: Metrics;
  logger: Logger;
}

/** Added to the system prompt when a conversation has turned negative (SENTIMENT_MOOD_HINT). */
const FRUSTRATED_HINT =
  'The person in this conversation seems frustrated. Stay calm and brief, acknowledge the problem in one sentence, then give the most direct way to solve it.';

export interface ChatResult {
  outcome: 'answered' | 'failed';
  chars: number;
  edits: number;
  maxVisibleLagMs: number;
}

const notices = {
  warming: (seconds: number) => `⏳ _The model is warming up. Your answer will appear here in about ${seconds} s._`,
  busy: (seconds: number) => `⏳ _The model is busy right now. Trying again in about ${seconds} s._`,
  retrying: (partial: string) =>
    `${partial ? `${partial}\n\n` : ''}_The connection to the model dropped. Retrying…_`,
  gaveUpWarming: (minutes: number) =>
    `⚠️ The model did not finish warming up within ${minutes} min. Please try again in a little while.`,
  failed: '⚠️ Sorry, something went wrong talking to the model. Please try again.',
  fatal: (message: string) => `⚠️ ${message}`,
  empty: '_The model returned an empty answer._',
  thoughtOnly: '_The model used its whole answer on thinking and gave no answer. Try asking for something shorter._',
};

/** The answer, then what the user should know about it: files left out, and a channel's own model. */
function withFooter(answer: string, notes: readonly string[], settings: EffectiveSettings): string {
  const lines = [...notes, ...(settings.customModel ? [`Answered by \`${settings.model}\`.`] : [])];
  return lines.length === 0 ? answer : `${answer}\n\n${lines.map((line) => `_${line}_`).join('\n')}`;
}

/** Raised after the user has been told: the job ends as failed, without further attempts. */
function stop(reason: string): UnrecoverableError {
  return new UnrecoverableError(reason);
}

/**
 * The chat job processor: platform-free. Builds the prompt, streams the model's answer into the
 * reply through the pacer, and maps every failure to one action (see retry-policy.ts).
 */
export class ChatProcessor {
  readonly #deps: ChatWorkerDeps;
  readonly #options: ChatWorkerOptions;
  /** Aborted when the process shuts down: answers still streaming are handed to another worker. */
  readonly #shutdown = new AbortController();

  constructor(deps: ChatWorkerDeps, options: ChatWorkerOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** A job failed outside the processor (stalled too often): the user is told, the conversation moves on. */
  async abandon(job: Job<ChatJob>): Promise<void> {
    const data = chatJobSchema.parse(job.data);
    this.#deps.metrics.job('chat', 'failed');
    await this.#deps.order.leave(conversationKey(data), data.id);
    const surface = this.#deps.surfaces.get(data.platform);
    const reply = await surface?.openReply(data, async () => undefined);
    await reply?.render(notices.failed, true);
  }

  /**
   * Stops the answers in progress and puts their jobs back in the queue, where another worker
   * resumes each in the same messages (their ids are in the job). No attempt is spent.
   */
  handBack(): void {
    this.#shutdown.abort();
  }

  async process(job: Job<ChatJob>, token: string | undefined): Promise<ChatResult> {
    const parsed = chatJobSchema.safeParse(job.data);
    if (!parsed.success) {
      this.#deps.logger.error({ jobId: job.id, issues: parsed.error.issues }, 'dropping a malformed chat job');
      throw stop('malformed chat job');
    }
    const data = parsed.data;
    const log = this.#deps.logger.child({ jobId: job.id, platform: data.platform, kind: data.kind });
    const conversation = conversationKey(data);

    if (!(await this.#deps.order.isTurnOf(conversation, data.id))) {
      this.#deps.metrics.job('chat', 'waiting_turn');
      await job.moveToDelayed(Date.now() + ORDER_POLL_MS, token);
      throw new DelayedError();
    }
    const surface = this.#deps.surfaces.get(data.platform);
    if (!surface) {
      log.error('no surface for this platform in this worker: check its credentials');
      throw stop(`no surface for platform ${data.platform}`);
    }

    const saveProgress = async (patch: Partial<ChatProgress>) => {
      data.progress = { ...data.progress, ...patch };
      await job.updateData(data);
    };
    const finishTurn = () => this.#deps.order.leave(conversation, data.id);

    // The placeholder goes up while the prompt is built and the model starts: the model request
    // does not wait for the platform. A reply that cannot be opened stops the model (below).
    const replyFailed = new AbortController();
    let replyError: unknown;
    let opened: ReplyHandle | undefined;
    // Started before and nothing saved: a worker may have died between posting and saving.
    const mayHavePosted = data.progress.messageIds.length === 0 && job.attemptsStarted > 1;
    const opening = surface.openReply(data, (messageIds) => this.#recordMessages(data, messageIds, saveProgress), { mayHavePosted }).then(
      (handle) => (opened = handle),
      (err: unknown) => {
        replyError = err;
        replyFailed.abort();
        throw err;
      },
    );
    opening.catch(() => undefined); // the failure is handled where the reply is used
    const reply: ReplyHandle = {
      render: async (text, final) => (await opening).render(text, final),
      get apiCalls() {
        return opened?.apiCalls ?? 0;
      },
    };

    let turns: ModelTurn[];
    let settings: EffectiveSettings;
    let notes: string[];
    try {
      const [context, mood, channel] = await Promise.all([
        this.#context(data, conversation, surface, log),
        this.#deps.moodOf?.(conversation),
        this.#deps.channelSettings.resolve({ platform: data.platform, workspaceId: data.workspaceId, channelId: data.channelId }),
      ]);
      settings = channel;
      const prepared = await this.#attachments(data, settings.model, surface);
      notes = prepared.notes;
      const systemPrompt = mood?.label === 'negative' ? `${settings.systemPrompt}\n\n${FRUSTRATED_HINT}` : settings.systemPrompt;
      turns = buildPrompt(systemPrompt, context, prepared.text, this.#options.contextMaxChars);
      if (prepared.images.length > 0) turns[turns.length - 1] = { role: 'user', content: [{ type: 'text', text: prepared.text }, ...prepared.images] };
    } catch (err) {
      await opening.catch(() => undefined);
      throw err;
    }

    const pacer = new EditPacer({
      render: (text, final) => reply.render(text, final),
      intervalMs: surface.editIntervalMs,
      onRenderError: (err) => log.warn({ err }, 'an intermediate edit failed; the next one carries the text'),
    });
    const output = new ChatOutput();
    const modelStartedAt = Date.now();
    let firstTokenAt: number | undefined;
    let thinkingSince: number | undefined;
    let modelDone = false;
    // The answer once it has begun; until then, while the model reasons, how long it has been at it.
    // The elapsed-time ticker runs only while a model is thinking: most answers never start it.
    let ticker: NodeJS.Timeout | undefined;
    const showProgress = () => {
      if (output.thinking) {
        thinkingSince ??= Date.now();
        ticker ??= setInterval(showProgress, THINKING_TICK_MS);
        pacer.push(thinkingStatus(Date.now() - thinkingSince));
      } else {
        clearInterval(ticker);
        ticker = undefined;
        if (output.answer.trim()) pacer.push(output.answer);
      }
    };
    let text: string;
    let shown: string;
    try {
      const signal = AbortSignal.any([this.#shutdown.signal, replyFailed.signal]);
      for await (const part of this.#deps.model.stream(turns, { model: settings.model, signal })) {
        if (part.kind !== 'usage') firstTokenAt ??= Date.now();
        output.apply(part);
        showProgress();
      }
      modelDone = true;
      clearInterval(ticker);
      text = output.answer.trim() ? output.answer : output.reasoning.trim() ? notices.thoughtOnly : notices.empty;
      shown = withFooter(composeReply(text, output.reasoning, this.#options.reasoningDisplay), notes, settings);
      await pacer.finish(shown);
    } catch (err) {
      clearInterval(ticker);
      pacer.cancel();
      if (this.#shutdown.signal.aborted) {
        log.info('shutting down: handing the answer back to the queue');
        this.#deps.metrics.job('chat', 'handed_back');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (replyError !== undefined) {
        // Nothing can be shown without a reply: a platform refusal stops here, anything else retries.
        const failure = failureOf(replyError);
        log.error({ err: replyError }, 'cannot open a reply on the platform');
        if (failure.kind !== 'fatal') throw replyError;
        await finishTurn();
        throw stop(failure.detail);
      }
      const failure = failureOf(err);
      // Intermediate edits never throw here, so until the model is done a failure is the model's.
      if (!modelDone) this.#deps.metrics.hfError(err instanceof ClassifiedError ? err.status : undefined, failure.kind);
      log.warn({ failure, attemptsMade: job.attemptsMade }, 'chat job interrupted');
      return this.#onFailure(job, token, data, failure, output.answer, reply, { saveProgress, finishTurn, log }, err);
    }

    // Only the answer is history: never the reasoning, the status, or the files' contents.
    const attached = data.attachments.length > 0 ? `\n[attached: ${data.attachments.map((file) => file.name).join(', ')}]` : '';
    await this.#deps.history.appendOnce(conversation, data.id, [
      { role: 'user', content: data.text + attached },
      { role: 'assistant', content: text },
    ]);
    await finishTurn();
    const { edits, firstVisibleAt } = pacer.stats;
    this.#deps.metrics.answered({
      platform: data.platform,
      firstTextSeconds: firstVisibleAt === undefined ? undefined : (firstVisibleAt - data.receivedAt) / 1000,
      finalSeconds: (Date.now() - data.receivedAt) / 1000,
      timeToFirstTokenSeconds: firstTokenAt === undefined ? undefined : (firstTokenAt - modelStartedAt) / 1000,
      edits,
      apiCalls: reply.apiCalls,
    });
    const { usage } = output;
    log.info(
      {
        chars: text.length,
        reasoningChars: output.reasoning.length,
        shownChars: shown.length,
        ...(usage ? { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, reasoningTokens: usage.reasoningTokens } : {}),
        edits,
        latencyMs: Date.now() - data.receivedAt,
      },
      'answered',
    );
    return { outcome: 'answered', chars: text.length, edits, maxVisibleLagMs: pacer.stats.maxVisibleLagMs };
  }

  /** The message's files, read for the model: text inlined, images for a vision model, notes for the rest. */
  async #attachments(data: ChatJob, model: string, surface: Surface): Promise<PreparedMessage> {
    if (data.attachments.length === 0) return { text: data.text, images: [], notes: [] };
    const { visionModels, ...limits } = this.#options.attachments;
    return prepareAttachments(data.text, data.attachments, {
      model,
      vision: visionModels.has(model.split(':')[0] ?? model),
      limits,
      download: (attachment) =>
        surface.download ? surface.download(attachment, limits.maxBytes) : Promise.reject(new Error('this platform cannot download files')),
    });
  }

  /**
   * Keeps the reply's message ids in the job (a resumed job renders into them) and, for a thread,
   * indexes them, so a reply to any of them continues this conversation, even mid-stream.
   */
  async #recordMessages(data: ChatJob, messageIds: string[], saveProgress: (patch: Partial<ChatProgress>) => Promise<void>): Promise<void> {
    await Promise.all([
      saveProgress({ messageIds }),
      data.kind === 'mention' && data.threadId ? this.#deps.replies.remember(data.platform, messageIds, data.threadId) : undefined,
    ]);
  }

  /**
   * A thread the bot was mentioned into is read from the platform: it holds what other people said
   * between mentions, which no store of ours sees. DMs and commands use the stored history, which
   * `/reset` can forget; it is also the fallback when the platform cannot be read.
   */
  async #context(data: ChatJob, conversation: string, surface: Surface, log: Logger): Promise<ChatTurn[]> {
    if (data.fetchThreadContext && surface.conversationContext) {
      try {
        // Replies read back from the platform may carry shown reasoning: the model never gets it back.
        return stripReasoningAppendix(await surface.conversationContext(data));
      } catch (err) {
        log.warn({ err }, 'could not read the thread for context; using the stored history');
      }
    }
    return this.#deps.history.read(conversation);
  }

  async #onFailure(
    job: Job<ChatJob>,
    token: string | undefined,
    data: ChatJob,
    failure: Failure,
    partial: string,
    reply: ReplyHandle,
    helpers: { saveProgress: (patch: Partial<ChatProgress>) => Promise<void>; finishTurn: () => Promise<void>; log: Logger },
    err: unknown,
  ): Promise<ChatResult> {
    const show = async (text: string, final: boolean) => {
      try {
        await reply.render(text, final);
      } catch (renderErr) {
        helpers.log.warn({ err: renderErr }, 'could not show a status in the reply');
      }
    };
    const { metrics } = this.#deps;
    const giveUp = async (text: string): Promise<never> => {
      metrics.job('chat', 'failed');
      await show(text, true);
      await helpers.finishTurn();
      throw stop(failure.detail);
    };
    const delay = async (reason: 'loading' | 'rate_limited', ms: number, patch: Partial<ChatProgress>, notice: string): Promise<never> => {
      metrics.modelWait(reason, ms);
      metrics.job('chat', reason === 'loading' ? 'delayed_loading' : 'delayed_rate_limit');
      await show(notice, false);
      await helpers.saveProgress(patch);
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError();
    };
    const maxWait = this.#options.loadingMaxWaitMs;

    switch (failure.kind) {
      case 'loading': {
        const ms = loadingDelayMs(failure.estimatedMs, data.progress.loadingWaitMs);
        const waited = data.progress.loadingWaitMs + ms;
        if (waited > maxWait) return giveUp(notices.gaveUpWarming(Math.round(maxWait / 60_000)));
        return delay('loading', ms, { loadingWaitMs: waited }, notices.warming(Math.ceil(ms / 1000)));
      }
      case 'rate_limited': {
        const ms = rateLimitDelayMs(failure.retryAfterMs, data.progress.rateLimitWaitMs);
        const waited = data.progress.rateLimitWaitMs + ms;
        if (waited > maxWait) return giveUp(notices.failed);
        return delay('rate_limited', ms, { rateLimitWaitMs: waited }, notices.busy(Math.ceil(ms / 1000)));
      }
      case 'transient': {
        const attempts = job.opts.attempts ?? 1;
        if (job.attemptsMade + 1 >= attempts) return giveUp(notices.failed);
        metrics.job('chat', 'retried');
        await show(notices.retrying(partial), false);
        throw err;
      }
      case 'fatal':
        return giveUp(notices.fatal(failure.userMessage));
    }
  }
}


export interface ChatWorker {
  worker: Worker<ChatJob, ChatResult>;
  processor: ChatProcessor;
}

export function createChatWorker(deps: ChatWorkerDeps, options: ChatWorkerOptions): ChatWorker {
  const processor = new ChatProcessor(deps, options);
  const worker = new Worker<ChatJob, ChatResult>(CHAT_QUEUE, (job, token) => processor.process(job, token), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // A killed worker's job is picked up by another after about one lock period.
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    // Each stall is a worker lost while holding the job; after this many, the job is given up (below).
    maxStalledCount: MAX_STALLS,
    ...(options.rateLimit ? { limiter: { max: options.rateLimit.max, duration: options.rateLimit.windowMs } } : {}),
    settings: { backoffStrategy: (attemptsMade: number) => transientBackoffMs(attemptsMade) },
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError) return;
    deps.logger.warn({ jobId: job.id, err: err.message }, 'chat job failed');
    // BullMQ failed it without our processor running: tell the user in the reply they were watching.
    if (STALLED_TOO_OFTEN.test(err.message)) {
      processor.abandon(job).catch((abandonErr: unknown) => deps.logger.warn({ err: abandonErr, jobId: job.id }, 'could not tell the user'));
    }
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'chat worker error'));
  return { worker, processor };
}
