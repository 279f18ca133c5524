import { DelayedError, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { ChannelSettingsStore } from '../channels/settings.ts';
import type { AnswerRecords } from '../answers/answer-records.ts';
import type { StopRequests } from '../control/stop-requests.ts';
import type { InsightsStore } from '../insights/store.ts';
import type { ConversationHistory } from '../conversation/history.ts';
import type { ConversationOrder } from '../conversation/order.ts';
import type { ReplyIndex } from '../conversation/reply-index.ts';
import { ClassifiedError, failureOf, type Failure } from '../errors/index.ts';
import { chatJobSchema, conversationKey, type ChatJob, type ChatProgress } from '../jobs/chat-job.ts';
import type { ChatModel } from '../llm/hf-chat.ts';
import type { ReasoningDisplay } from '../llm/reasoning-display.ts';
import { lazyChild, type Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { SentimentSummary } from '../sentiment/store.ts';
import type { OpenReplyOptions, ReplyHandle, Surface } from '../surface.ts';
import type { Config } from '../config.ts';
import type { ChatJobRun } from './job-port.ts';
import { noticeText, notices, withFooter } from './notices.ts';
import { openReply, scrubbedReply, type EarlyReply } from './open-reply.ts';
import { decide, type Action } from './policy.ts';
import { buildChatPrompt, startPromptReads, type Prompt, type PromptReads } from './prompt-step.ts';
import { recordAnswer, type ChatResult } from './record-answer.ts';
import { streamAnswer } from './stream-answer.ts';

export type { ChatResult } from './record-answer.ts';

/** How soon a job whose conversation is busy looks again. */
const ORDER_POLL_MS = 250;

/** What the chat processor works with: each an interface, so tests can pass in-memory ones. */
export interface ChatProcessorDeps {
  model: ChatModel;
  surfaces: { get(platform: string): Surface | undefined };
  history: Pick<ConversationHistory, 'read' | 'appendOnce'>;
  /** Jobs a person asked to stop before they ran (a running one is cancelled through its signal). */
  stops: Pick<StopRequests, 'isRequested'>;
  /** Finished answers, for the buttons on them (feedback, regenerate). */
  answers: Pick<AnswerRecords, 'finished'>;
  /** Answers stopped by their users, counted per model and day. */
  insights: Pick<InsightsStore, 'recordStopped'> | undefined;
  order: Pick<ConversationOrder, 'isTurnOf' | 'leave'>;
  replies: Pick<ReplyIndex, 'remember'>;
  /** The conversation's running sentiment, when the mood hint is on. */
  moodOf: ((conversation: string) => Promise<SentimentSummary | undefined>) | undefined;
  /** Per-channel model and system prompt. */
  channelSettings: Pick<ChannelSettingsStore, 'resolve'>;
  metrics: Pick<Metrics, 'job' | 'answered' | 'hfError' | 'modelWait'>;
  logger: Logger;
  /** Pauses every worker of the chat queue for `ms` (BullMQ's queue-level rate limit). */
  rateLimitQueue: (ms: number) => Promise<void>;
  /** Removes secrets from everything the worker posts. */
  scrub: (text: string) => string;
  /** The jitter's source; tests fix it. */
  random?: () => number;
}

export interface ChatProcessorOptions {
  contextMaxChars: number;
  loadingMaxWaitMs: number;
  /** REASONING_DISPLAY: a reasoning model's thoughts are hidden, excerpted or shown in full after the answer. */
  reasoningDisplay: ReasoningDisplay;
  attachments: Config['attachments'];
}

/** Raised after the user has been told: the job ends as failed, without further attempts. */
function stop(reason: string): UnrecoverableError {
  return new UnrecoverableError(reason);
}

/** One run of one job: what every step needs to know about it. */
interface Run {
  job: ChatJobRun;
  token: string | undefined;
  data: ChatJob;
  conversation: string;
  log: Logger;
  /** When the processor began it (ms since the epoch). */
  startedAt: number;
}

/**
 * The chat job processor: platform-free. Opens the reply, builds the prompt, streams the answer,
 * records it; every failure goes through the one policy (policy.ts) and its action is carried out
 * here.
 */
export class ChatProcessor {
  readonly #deps: ChatProcessorDeps;
  readonly #options: ChatProcessorOptions;
  /** Aborted when the process shuts down: answers still streaming are handed to another worker. */
  readonly #shutdown = new AbortController();

  constructor(deps: ChatProcessorDeps, options: ChatProcessorOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /**
   * A job failed outside the processor (stalled too often): the user is told, the conversation
   * moves on. Its workers died, maybe between posting and saving a message: the notice goes into
   * that message if the platform can find it.
   */
  async abandon(job: Pick<ChatJobRun, 'data'>): Promise<void> {
    const data = chatJobSchema.parse(job.data);
    this.#deps.metrics.job('chat', 'failed');
    await this.#deps.order.leave(conversationKey(data), data.id);
    await this.#finalNotice(data, notices.failed, { mayHavePosted: data.progress.messageIds.length === 0 });
  }

  /** A last word in the job's reply, outside a run (an attempt that never streamed). */
  async #finalNotice(data: ChatJob, text: string, options?: OpenReplyOptions): Promise<void> {
    const surface = this.#deps.surfaces.get(data.platform);
    if (!surface) return;
    const reply = scrubbedReply(await surface.openReply(data, async () => undefined, options), this.#deps.scrub);
    await reply.render(text, true, 'notice');
  }

  /**
   * Stops the answers in progress and puts their jobs back in the queue, where another worker
   * resumes each in the same messages (their ids are in the job). No attempt is spent.
   */
  handBack(): void {
    this.#shutdown.abort();
  }

  /** `cancel` is BullMQ's per-job signal: aborted when a person stops this answer (`worker.cancelJob`). */
  async process(job: ChatJobRun, token: string | undefined, cancel?: AbortSignal): Promise<ChatResult> {
    const run = this.#start(job, token);
    const known = this.#deps.surfaces.get(run.data.platform);
    // The stop check, the turn check and the prompt's own reads go out together: one round trip
    // before the model request instead of one after another.
    const reads = known ? startPromptReads(run.data, run.conversation, known, this.#deps) : undefined;
    const [stopRequested, turn] = await Promise.all([this.#deps.stops.isRequested(run.data.id), this.#isTurn(run)]);
    if (stopRequested) return this.#stoppedBeforeStart(run);
    await this.#waitForTurn(run, turn);
    const surface = this.#surfaceOf(run);
    const reply = this.#openReply(run, surface);
    try {
      const prompt = await this.#buildPrompt(run, surface, reply, reads);
      const answer = await streamAnswer({
        model: this.#deps.model,
        turns: prompt.turns,
        modelId: prompt.settings.model,
        signal: AbortSignal.any([this.#shutdown.signal, reply.failed, ...(cancel ? [cancel] : [])]),
        reply,
        editIntervalMs: surface.editIntervalMs,
        reasoningDisplay: this.#options.reasoningDisplay,
        footer: (text) => withFooter(text, prompt.notes, prompt.settings),
        log: run.log,
      });
      if (!answer.done) {
        if (cancel?.aborted && !this.#shutdown.signal.aborted) return this.#stopped(run, reply, answer.partial, prompt.settings.model);
        return this.#onInterrupted(run, reply, answer.error, answer.partial, answer.modelDone);
      }
      // History and the answer's record are written together; the turn passes only once both are.
      const [result] = await Promise.all([
        recordAnswer(run.data, run.conversation, answer, { apiCalls: reply.apiCalls, startedAt: run.startedAt }, { ...this.#deps, log: run.log }),
        this.#deps.answers.finished(run.data, prompt.settings.model, 'final'),
      ]);
      await this.#finishTurn(run);
      return result;
    } finally {
      // A run that ends before the answer began (handed back, failed) leaves no placeholder behind.
      reply.close();
    }
  }

  #start(job: ChatJobRun, token: string | undefined): Run {
    const startedAt = Date.now();
    const parsed = chatJobSchema.safeParse(job.data);
    if (!parsed.success) {
      this.#deps.logger.error({ jobId: job.id, issues: parsed.error.issues }, 'dropping a malformed chat job');
      throw stop('malformed chat job');
    }
    const data = parsed.data;
    const log = lazyChild(this.#deps.logger, { jobId: job.id, platform: data.platform, kind: data.kind });
    return { job, token, data, conversation: conversationKey(data), log, startedAt };
  }

  /** Whether this job's conversation is free for it; settled after the stop check, which comes first. */
  #isTurn(run: Run): Promise<boolean> {
    const turn = this.#deps.order.isTurnOf(run.conversation, run.data.id);
    turn.catch(() => undefined);
    return turn;
  }

  /** One answer at a time per conversation, in the order the messages came: a later job looks again soon. */
  async #waitForTurn(run: Run, turn: boolean): Promise<void> {
    if (turn) return;
    this.#deps.metrics.job('chat', 'waiting_turn');
    await run.job.moveToDelayed(Date.now() + ORDER_POLL_MS, run.token);
    throw new DelayedError();
  }

  #surfaceOf(run: Run): Surface {
    const surface = this.#deps.surfaces.get(run.data.platform);
    if (surface) return surface;
    run.log.error('no surface for this platform in this worker: check its credentials');
    throw stop(`no surface for platform ${run.data.platform}`);
  }

  /**
   * The reply opens while the prompt is built and the model starts. Message ids are kept
   * in the job (a resumed job renders into them) and, for a thread, indexed, so a reply to any of
   * them continues this conversation, even mid-stream.
   */
  #openReply(run: Run, surface: Surface): EarlyReply {
    const { data } = run;
    return openReply({
      surface,
      job: data,
      saveMessageIds: async (messageIds) => {
        await Promise.all([
          this.#saveProgress(run, { messageIds }),
          data.kind === 'mention' && data.threadId ? this.#deps.replies.remember(data.platform, messageIds, data.threadId) : undefined,
        ]);
      },
      saveState: (surfaceState) => this.#saveProgress(run, { surface: surfaceState }),
      mayHavePosted: data.progress.messageIds.length === 0 && run.job.attemptsStarted > 1,
      scrub: this.#deps.scrub,
    });
  }

  async #buildPrompt(run: Run, surface: Surface, reply: EarlyReply, reads: PromptReads | undefined): Promise<Prompt> {
    try {
      return await buildChatPrompt(run.data, run.conversation, surface, this.#deps, this.#options, run.log, reads);
    } catch (err) {
      await reply.settled();
      throw err;
    }
  }

  async #saveProgress(run: Run, patch: Partial<ChatProgress>): Promise<void> {
    run.data.progress = { ...run.data.progress, ...patch };
    await run.job.updateData(run.data);
  }

  async #finishTurn(run: Run): Promise<void> {
    await this.#deps.order.leave(run.conversation, run.data.id);
  }

  /**
   * Stopped before it ran (queued behind another answer, or delayed by a cold start): never
   * started. A reply already shown (a warming-up notice) says it was stopped.
   */
  async #stoppedBeforeStart(run: Run): Promise<ChatResult> {
    run.log.info('stopped before it started');
    this.#deps.metrics.job('chat', 'stopped');
    await this.#finishTurn(run);
    // Only a reply already shown (a warming-up notice) is told; none is posted for it.
    if (run.data.progress.messageIds.length > 0) await this.#finalNotice(run.data, notices.stopped(''));
    return { outcome: 'stopped', chars: 0, edits: 0, maxVisibleLagMs: 0 };
  }

  /**
   * Stopped while streaming: the model request is already aborted (no more tokens billed); the
   * reply keeps what was written with a mark, history keeps it too, and the conversation moves on.
   */
  async #stopped(run: Run, reply: EarlyReply, partial: string, model: string): Promise<ChatResult> {
    run.log.info({ chars: partial.length }, 'stopped by the user');
    this.#deps.metrics.job('chat', 'stopped');
    await Promise.all([this.#deps.answers.finished(run.data, model, 'stopped'), this.#deps.insights?.recordStopped(model)]);
    try {
      await reply.render(notices.stopped(partial), true, 'notice');
    } catch (err) {
      run.log.warn({ err }, 'could not mark the reply as stopped');
    }
    if (partial.trim()) {
      await this.#deps.history.appendOnce(run.conversation, run.data.id, [
        { role: 'user', content: run.data.text },
        { role: 'assistant', content: partial },
      ], run.data.replaces);
    }
    await this.#finishTurn(run);
    return { outcome: 'stopped', chars: partial.length, edits: 0, maxVisibleLagMs: 0 };
  }

  /** The answer stopped before it was complete: hand it back, or act on the failure. */
  async #onInterrupted(run: Run, reply: EarlyReply, err: unknown, partial: string, modelDone: boolean): Promise<never> {
    if (this.#shutdown.signal.aborted) {
      run.log.info('shutting down: handing the answer back to the queue');
      this.#deps.metrics.job('chat', 'handed_back');
      await run.job.moveToWait(run.token);
      throw new WaitingError();
    }
    if (reply.error !== undefined) {
      // Nothing can be shown without a reply: the platform's failure is acted on, silently.
      run.log.error({ err: reply.error }, 'cannot open a reply on the platform');
      return this.#act(run, failureOf(reply.error), reply.error, undefined);
    }
    const failure = failureOf(err);
    // Intermediate edits never throw here, so until the model is done a failure is the model's.
    if (!modelDone) this.#deps.metrics.hfError(err instanceof ClassifiedError ? err.status : undefined, failure.kind);
    run.log.warn({ failure, attemptsMade: run.job.attemptsMade }, 'chat job interrupted');
    return this.#act(run, failure, err, { reply, partial });
  }

  /** Carries out the policy's action; `shown` is where the user is told, when there is a reply to tell them in. */
  async #act(run: Run, failure: Failure, err: unknown, shown: { reply: ReplyHandle; partial: string } | undefined): Promise<never> {
    const { progress } = run.data;
    const action: Action = decide(
      failure,
      {
        attemptsMade: run.job.attemptsMade,
        maxAttempts: run.job.opts.attempts ?? 1,
        loadingWaitedMs: progress.loadingWaitMs,
        rateLimitWaitedMs: progress.rateLimitWaitMs,
        loadingMaxWaitMs: this.#options.loadingMaxWaitMs,
      },
      this.#deps.random,
    );
    const { metrics } = this.#deps;
    const tell = async (final: boolean) => {
      if (!shown) return;
      try {
        await shown.reply.render(noticeText(action.notice, shown.partial), final, final ? 'notice' : 'status');
      } catch (renderErr) {
        run.log.warn({ err: renderErr }, 'could not show a status in the reply');
      }
    };
    switch (action.type) {
      case 'delay':
        metrics.modelWait('loading', action.ms);
        metrics.job('chat', 'delayed_loading');
        await tell(false);
        await this.#saveProgress(run, { loadingWaitMs: progress.loadingWaitMs + action.ms });
        await run.job.moveToDelayed(Date.now() + action.ms, run.token);
        throw new DelayedError();
      case 'rate_limit_queue':
        metrics.modelWait('rate_limited', action.ms);
        metrics.job('chat', 'delayed_rate_limit');
        await tell(false);
        // Saved before the job goes back: BullMQ moves it without running any more of our code.
        await this.#saveProgress(run, { rateLimitWaitMs: progress.rateLimitWaitMs + action.ms });
        await this.#deps.rateLimitQueue(action.ms);
        throw Worker.RateLimitError();
      case 'retry':
        metrics.job('chat', 'retried');
        await tell(false);
        // The queue keeps the reason (dashboard, failed jobs): scrubbed, as an error body may echo a token.
        throw new Error(this.#deps.scrub(err instanceof Error ? err.message : String(err)), { cause: err });
      case 'give_up':
        metrics.job('chat', 'failed');
        await tell(true);
        await this.#finishTurn(run);
        throw stop(this.#deps.scrub(failure.detail));
    }
  }
}
