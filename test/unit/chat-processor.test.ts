import { DelayedError, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { EffectiveSettings } from '../../src/channels/settings.ts';
import { ClassifiedError, type Failure } from '../../src/errors/index.ts';
import { chatJobSchema, type ChatJob, type NewChatJob } from '../../src/jobs/chat-job.ts';
import type { ChatModel, ChatPart, ChatTurn, ModelTurn } from '../../src/llm/hf-chat.ts';
import { classifyHfStatus, parseHfErrorBody } from '../../src/llm/hf-errors.ts';
import { createLogger, TOKEN_PATTERNS } from '../../src/logger.ts';
import { ChunkedReply, type ReplyMessages } from '../../src/stream/chunked-reply.ts';
import type { OpenReplyOptions, ReplyHandle, Surface } from '../../src/surface.ts';
import { secretScrubber } from '../../src/text/scrub.ts';
import { ChatProcessor } from '../../src/worker/chat-processor.ts';
import type { ChatJobRun } from '../../src/worker/job-port.ts';
import { notices } from '../../src/worker/notices.ts';

const SECRET = 'hf_UnitTestTokenNeverPosted42';
const PLACEHOLDER = '_Thinking…_';

/** One scripted model call: answer parts, then an error, or a wait until it is aborted. */
interface ModelStep {
  parts?: string[];
  error?: Error;
  hang?: boolean;
}

/** A model that plays its steps in order, one per call, and remembers what it was asked. */
class ScriptedModel implements ChatModel {
  readonly steps: ModelStep[];
  readonly calls: ModelTurn[][] = [];
  constructor(...steps: ModelStep[]) {
    this.steps = steps;
  }
  async *stream(turns: ModelTurn[], options: { signal?: AbortSignal } = {}): AsyncGenerator<ChatPart, void, undefined> {
    this.calls.push(turns);
    const step = this.steps.shift() ?? { parts: ['(unscripted)'] };
    for (const text of step.parts ?? []) yield { kind: 'answer', text };
    if (step.hang) {
      await new Promise((_, reject) => {
        const abort = () => reject(new ClassifiedError({ kind: 'transient', detail: 'request aborted' }));
        if (options.signal?.aborted) abort();
        options.signal?.addEventListener('abort', abort, { once: true });
      });
    }
    if (step.error) throw step.error;
  }
}

/** A platform in memory: messages by id, each with every text it has shown. */
class MemorySurface implements Surface {
  readonly platform = 'memory';
  readonly editIntervalMs = 0;
  readonly messages = new Map<string, string[]>();
  posts = 0;
  /** The options of every openReply, in order. */
  readonly openings: (OpenReplyOptions | undefined)[] = [];
  /** Set to make opening the reply fail. */
  openError: Error | undefined;
  #nextId = 1;

  shown(id: string): string | undefined {
    return this.messages.get(id)?.at(-1);
  }

  async openReply(job: ChatJob, save: (ids: string[]) => Promise<void>, options?: OpenReplyOptions): Promise<ReplyHandle> {
    this.openings.push(options);
    if (this.openError) throw this.openError;
    const messages: ReplyMessages = {
      post: async (text) => {
        this.posts += 1;
        const id = `m${this.#nextId++}`;
        this.messages.set(id, [text]);
        return id;
      },
      edit: async (id, text) => {
        this.messages.get(id)?.push(text);
      },
      remove: async (id) => {
        this.messages.delete(id);
      },
    };
    const reply = new ChunkedReply(messages, (markdown) => [markdown], job.progress.messageIds, save);
    if (!reply.posted) await reply.render(PLACEHOLDER, false);
    return reply;
  }

  async notice(): Promise<void> {}
  async verify(): Promise<void> {}
}

/** A BullMQ job in memory, with what the queue would do on each outcome recorded. */
class MemoryJob implements ChatJobRun {
  readonly id: string;
  data: ChatJob;
  attemptsMade = 0;
  attemptsStarted = 1;
  readonly opts = { attempts: 3 };
  delayedUntil: number | undefined;
  movedToWait = false;

  constructor(data: NewChatJob) {
    this.data = chatJobSchema.parse(data);
    this.id = this.data.id;
  }
  async updateData(data: ChatJob): Promise<void> {
    this.data = structuredClone(data);
  }
  async moveToDelayed(timestamp: number): Promise<void> {
    this.delayedUntil = timestamp;
  }
  async moveToWait(): Promise<number> {
    this.movedToWait = true;
    return 0;
  }
  /** What BullMQ does before the next attempt of a failed one. */
  nextAttempt(): void {
    this.attemptsMade += 1;
    this.attemptsStarted += 1;
  }
}

function newJob(progress: Partial<ChatJob['progress']> = {}): MemoryJob {
  return new MemoryJob({
    v: 1,
    id: 'job-1',
    platform: 'memory',
    kind: 'mention',
    workspaceId: 'W1',
    channelId: 'C1',
    threadId: 'T1',
    userId: 'U1',
    text: 'hello?',
    receivedAt: Date.now(),
    reply: { channelId: 'C1', threadId: 'T1' },
    progress: { messageIds: [], loadingWaitMs: 0, rateLimitWaitMs: 0, ...progress },
  });
}

const settings: EffectiveSettings = { model: 'test/model', systemPrompt: 'Be brief.', answerWithoutMention: false, customModel: false, pinnedByFile: false };

function setup(model: ScriptedModel) {
  const surface = new MemorySurface();
  const history = new Map<string, ChatTurn[]>();
  const outcomes: string[] = [];
  const left: string[] = [];
  const queuePauses: number[] = [];
  const stopped = new Set<string>();
  const finished: Array<{ jobId: string; model: string; state: string }> = [];
  let turnIsOurs = true;
  let historyWritable = true;
  const processor = new ChatProcessor(
    {
      model,
      surfaces: { get: (platform) => (platform === surface.platform ? surface : undefined) },
      history: {
        read: async (conversation) => history.get(conversation) ?? [],
        appendOnce: async (conversation, _jobId, turns) => {
          if (!historyWritable) throw new Error('Connection is closed.');
          history.set(conversation, [...(history.get(conversation) ?? []), ...turns]);
          return true;
        },
      },
      order: {
        isTurnOf: async () => turnIsOurs,
        leave: async (_conversation, jobId) => {
          left.push(jobId);
        },
      },
      replies: { remember: async () => undefined },
      stops: { isRequested: async (jobId) => stopped.has(jobId) },
      answers: {
        finished: async (job, model, state) => {
          finished.push({ jobId: job.id, model, state });
        },
      },
      insights: undefined,
      moodOf: undefined,
      channelSettings: { resolve: async () => settings },
      metrics: {
        job: (_queue, outcome) => outcomes.push(outcome),
        answered: () => outcomes.push('answered'),
        hfError: () => undefined,
        modelWait: () => undefined,
      },
      logger: createLogger({ level: 'silent' }),
      rateLimitQueue: async (ms) => {
        queuePauses.push(ms);
      },
      scrub: secretScrubber([SECRET], TOKEN_PATTERNS),
      random: () => 0.5,
    },
    {
      contextMaxChars: 10_000,
      loadingMaxWaitMs: 600_000,
      reasoningDisplay: 'hidden',
      attachments: { visionModels: new Set(), maxTextChars: 10_000, maxImages: 4, maxBytes: 1_000_000 },
    },
  );
  return {
    processor,
    surface,
    history,
    outcomes,
    left,
    queuePauses,
    stopped,
    finished,
    busyConversation: () => {
      turnIsOurs = false;
    },
    breakHistory: () => {
      historyWritable = false;
    },
  };
}

/** Runs one attempt and returns what it threw (or undefined when it answered). */
async function attempt(processor: ChatProcessor, job: MemoryJob): Promise<unknown> {
  try {
    await processor.process(job, 'lock-token');
    return undefined;
  } catch (err) {
    return err;
  }
}

const failing = (failure: Failure, status?: number) => new ClassifiedError(failure, { status });

describe('ChatProcessor, without Redis', () => {
  it('answers: the placeholder becomes the answer, the exchange goes into history, the turn ends', async () => {
    const model = new ScriptedModel({ parts: ['Hello', ' there.'] });
    const { processor, surface, history, left, outcomes, finished } = setup(model);
    const job = newJob();
    const before = Date.now();
    const result = await processor.process(job, 'lock-token');
    expect(result).toMatchObject({ outcome: 'answered', chars: 'Hello there.'.length });
    // Where the answer's time went, in the order it happened.
    const { startedAt, modelRequestedAt, firstTokenAt, firstVisibleAt } = result.timings ?? {};
    const steps = [before, startedAt, modelRequestedAt, firstTokenAt, firstVisibleAt, Date.now()];
    expect(steps.every((step) => typeof step === 'number')).toBe(true);
    expect([...(steps as number[])].sort((a, b) => a - b)).toEqual(steps);
    expect(finished).toEqual([{ jobId: 'job-1', model: 'test/model', state: 'final' }]);
    expect(surface.posts).toBe(1);
    expect(surface.messages.get('m1')?.[0]).toBe(PLACEHOLDER);
    expect(surface.shown('m1')).toBe('Hello there.');
    expect(job.data.progress.messageIds).toEqual(['m1']);
    expect(history.get('memory:W1:C1:T1')).toEqual([
      { role: 'user', content: 'hello?' },
      { role: 'assistant', content: 'Hello there.' },
    ]);
    expect(left).toEqual(['job-1']);
    expect(outcomes).toEqual(['answered']);
    expect(model.calls[0]?.at(-1)).toEqual({ role: 'user', content: 'hello?' });
  });

  it('keeps the turn of the conversation when the history cannot be written: the attempt fails, to be retried', async () => {
    const model = new ScriptedModel({ parts: ['Hello.'] });
    const { processor, left, breakHistory } = setup(model);
    breakHistory();
    const err = await attempt(processor, newJob());
    expect(err).toBeInstanceOf(Error);
    expect(left).toEqual([]);
  });

  it('waits its turn: a busy conversation delays the job before anything is posted', async () => {
    const { processor, surface, busyConversation, outcomes } = setup(new ScriptedModel());
    busyConversation();
    const job = newJob();
    expect(await attempt(processor, job)).toBeInstanceOf(DelayedError);
    expect(job.delayedUntil).toBeGreaterThan(0);
    expect(surface.posts).toBe(0);
    expect(outcomes).toEqual(['waiting_turn']);
  });

  it('delays a cold start with a notice, spending no attempt, and answers in the same message afterwards', async () => {
    const model = new ScriptedModel({ error: failing({ kind: 'loading', estimatedMs: 20_000, detail: 'HTTP 503' }, 503) }, { parts: ['Warm now.'] });
    const { processor, surface, left, outcomes } = setup(model);
    const job = newJob();
    const before = Date.now();
    expect(await attempt(processor, job)).toBeInstanceOf(DelayedError);
    expect(surface.shown('m1')).toBe('⏳ _The model is warming up. Your answer will appear here in about 20 s._');
    expect(job.delayedUntil).toBeGreaterThanOrEqual(before + 20_000);
    expect(job.data.progress.loadingWaitMs).toBe(20_000);
    expect(left).toEqual([]);
    expect(outcomes).toEqual(['delayed_loading']);

    job.attemptsStarted += 1; // a delay spends no attempt
    await processor.process(job, 'lock-token');
    expect(surface.posts).toBe(1);
    expect(surface.shown('m1')).toBe('Warm now.');
  });

  it('pauses the whole queue on a rate limit, with a notice, and keeps the wait in the job', async () => {
    const model = new ScriptedModel({ error: failing({ kind: 'rate_limited', retryAfterMs: 3_000, detail: 'HTTP 429' }, 429) });
    const { processor, surface, queuePauses, left, outcomes } = setup(model);
    const job = newJob();
    const thrown = await attempt(processor, job);
    expect((thrown as Error).message).toBe(Worker.RateLimitError().message);
    expect(queuePauses).toEqual([3_250]);
    expect(job.data.progress.rateLimitWaitMs).toBe(3_250);
    expect(job.delayedUntil).toBeUndefined();
    expect(surface.shown('m1')).toBe('⏳ _The model is busy right now. Trying again in about 4 s._');
    expect(left).toEqual([]);
    expect(outcomes).toEqual(['delayed_rate_limit']);
  });

  it('gives up on rate limits once the waits so far exceed the budget', async () => {
    const model = new ScriptedModel({ error: failing({ kind: 'rate_limited', retryAfterMs: 3_000, detail: 'HTTP 429' }, 429) });
    const { processor, surface, queuePauses, left } = setup(model);
    const job = newJob({ rateLimitWaitMs: 599_000 });
    expect(await attempt(processor, job)).toBeInstanceOf(UnrecoverableError);
    expect(queuePauses).toEqual([]);
    expect(surface.shown('m1')).toBe('⚠️ Sorry, something went wrong talking to the model. Please try again.');
    expect(left).toEqual(['job-1']);
  });

  it('retries a broken stream with a notice under the partial answer, then replaces it with the full answer', async () => {
    const model = new ScriptedModel(
      { parts: ['The first half'], error: failing({ kind: 'transient', detail: 'stream broke' }) },
      { parts: ['The whole answer.'] },
    );
    const { processor, surface, left, outcomes } = setup(model);
    const job = newJob();
    const thrown = await attempt(processor, job);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(UnrecoverableError);
    expect(surface.shown('m1')).toBe('The first half\n\n_The connection to the model dropped. Retrying…_');
    expect(left).toEqual([]);

    job.nextAttempt();
    await processor.process(job, 'lock-token');
    expect(surface.posts).toBe(1);
    expect(surface.shown('m1')).toBe('The whole answer.');
    expect(outcomes).toEqual(['retried', 'answered']);
  });

  it('gives up on a transient failure in the last attempt, and says so', async () => {
    const model = new ScriptedModel({ parts: ['Half'], error: failing({ kind: 'transient', detail: 'stream broke' }) });
    const { processor, surface, left, outcomes } = setup(model);
    const job = newJob();
    job.attemptsMade = 2;
    job.attemptsStarted = 3;
    expect(await attempt(processor, job)).toBeInstanceOf(UnrecoverableError);
    expect(surface.shown('m1')).toBe('⚠️ Sorry, something went wrong talking to the model. Please try again.');
    expect(left).toEqual(['job-1']);
    expect(outcomes).toEqual(['failed']);
  });

  it('stops on a fatal model error with the fixed explanation and status, never the error body', async () => {
    const body = parseHfErrorBody(JSON.stringify({ error: `Bad request; headers were Authorization: Bearer ${SECRET}` }));
    const model = new ScriptedModel({ error: failing(classifyHfStatus(400, body), 400) });
    const { processor, surface, left } = setup(model);
    const job = newJob();
    const thrown = await attempt(processor, job);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect(surface.shown('m1')).toBe('⚠️ The model rejected the request. An admin can find the reason in the bot’s logs. (HTTP 400)');
    for (const text of surface.messages.get('m1') ?? []) expect(text).not.toContain('Authorization');
    // The reason the queue keeps is scrubbed too.
    expect((thrown as Error).message).toContain('Authorization: Bearer [REDACTED]');
    expect(left).toEqual(['job-1']);
  });

  it('stops without retrying when the platform refuses the reply, and stops the model', async () => {
    const model = new ScriptedModel({ hang: true });
    const { processor, surface, left, outcomes } = setup(model);
    surface.openError = failing({ kind: 'fatal', userMessage: 'Slack refused the reply (channel_not_found).', detail: 'slack channel_not_found' });
    const thrown = await attempt(processor, newJob());
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect((thrown as Error).message).toBe('slack channel_not_found');
    expect(surface.posts).toBe(0);
    expect(left).toEqual(['job-1']);
    expect(outcomes).toEqual(['failed']);
  });

  it('retries when the reply cannot be opened for a passing reason', async () => {
    const model = new ScriptedModel({ hang: true }, { parts: ['Posted at last.'] });
    const { processor, surface, left } = setup(model);
    surface.openError = failing({ kind: 'transient', detail: 'slack ratelimited' });
    const job = newJob();
    const thrown = await attempt(processor, job);
    expect(thrown).not.toBeInstanceOf(UnrecoverableError);
    expect((thrown as Error).message).toContain('slack ratelimited');
    expect(left).toEqual([]);

    surface.openError = undefined;
    job.nextAttempt();
    await processor.process(job, 'lock-token');
    expect(surface.shown('m1')).toBe('Posted at last.');
  });

  it('resumes a job in the messages it already has: no second post', async () => {
    const model = new ScriptedModel({ parts: ['The complete answer, at last.'] });
    const { processor, surface } = setup(model);
    surface.messages.set('m0', ['The complete ans']);
    const job = newJob({ messageIds: ['m0'] });
    job.attemptsStarted = 2;
    await processor.process(job, 'lock-token');
    expect(surface.posts).toBe(0);
    expect(surface.shown('m0')).toBe('The complete answer, at last.');
    expect(job.data.progress.messageIds).toEqual(['m0']);
  });

  it('tells the user of a job given up for stalling, in the messages an attempt may have posted without saving', async () => {
    const { processor, surface, left, outcomes } = setup(new ScriptedModel());
    // Nothing saved: the surface is asked to look for what a dead attempt posted.
    await processor.abandon(newJob());
    // Saved: the notice goes into that message, no search.
    surface.messages.set('m0', ['The ans']);
    await processor.abandon(newJob({ messageIds: ['m0'] }));
    expect(surface.openings).toEqual([{ mayHavePosted: true }, { mayHavePosted: false }]);
    expect(surface.shown('m0')).toBe(notices.failed);
    expect(left).toEqual(['job-1', 'job-1']);
    expect(outcomes).toEqual(['failed', 'failed']);
  });

  it('hands an answer in progress back to the queue on shutdown, its message saved in the job', async () => {
    const model = new ScriptedModel({ parts: ['Streaming along'], hang: true });
    const { processor, surface, left, outcomes } = setup(model);
    const job = newJob();
    const running = attempt(processor, job);
    while (surface.shown('m1') !== 'Streaming along') await new Promise((resolve) => setTimeout(resolve, 5));
    processor.handBack();
    expect(await running).toBeInstanceOf(WaitingError);
    expect(job.movedToWait).toBe(true);
    expect(job.data.progress.messageIds).toEqual(['m1']);
    expect(left).toEqual([]);
    expect(outcomes).toEqual(['handed_back']);
  });

  it('stops mid-stream when its signal is aborted: the model is cut off, the text stays with a mark, the turn ends', async () => {
    const model = new ScriptedModel({ parts: ['Half of an'], hang: true });
    const { processor, surface, history, left, outcomes, finished } = setup(model);
    const job = newJob();
    const cancel = new AbortController();
    const running = processor.process(job, 'lock-token', cancel.signal);
    while (surface.shown('m1') !== 'Half of an') await new Promise((resolve) => setTimeout(resolve, 5));
    cancel.abort();
    expect(await running).toMatchObject({ outcome: 'stopped' });
    expect(surface.shown('m1')).toBe('Half of an\n\n_⏹ Stopped._');
    expect(history.get('memory:W1:C1:T1')?.map((turn) => turn.content)).toEqual(['hello?', 'Half of an']);
    expect(left).toEqual(['job-1']);
    expect(outcomes).toEqual(['stopped']);
    expect(finished).toEqual([{ jobId: 'job-1', model: 'test/model', state: 'stopped' }]);
  });

  it('never starts a job stopped while it waited (a cold start): its notice says it stopped', async () => {
    const model = new ScriptedModel({ parts: ['never asked'] });
    const { processor, surface, left, outcomes, stopped } = setup(model);
    surface.messages.set('m0', ['⏳ _The model is warming up._']);
    const job = newJob({ messageIds: ['m0'] });
    stopped.add('job-1');
    expect(await processor.process(job, 'lock-token')).toMatchObject({ outcome: 'stopped' });
    expect(model.calls).toHaveLength(0);
    expect(surface.posts).toBe(0);
    expect(surface.shown('m0')).toBe('_⏹ Stopped._');
    expect(left).toEqual(['job-1']);
    expect(outcomes).toEqual(['stopped']);
  });

  it('removes a configured secret from the answer before it is posted', async () => {
    const model = new ScriptedModel({ parts: [`The token is ${SECRET}.`] });
    const { processor, surface } = setup(model);
    await processor.process(newJob(), 'lock-token');
    expect(surface.shown('m1')).toBe('The token is [REDACTED].');
    for (const text of surface.messages.get('m1') ?? []) expect(text).not.toContain(SECRET);
  });

  it('drops a malformed job without retrying', async () => {
    const { processor, surface } = setup(new ScriptedModel());
    const job = newJob();
    (job as { data: unknown }).data = { v: 1, id: 'nope' };
    expect(await attempt(processor, job)).toBeInstanceOf(UnrecoverableError);
    expect(surface.posts).toBe(0);
  });
});
