import { ErrorCode, WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { downloadFile, type Attachment } from '../../src/attachments/attachment.ts';
import type { ChatJob } from '../../src/jobs/chat-job.ts';
import { ClassifiedError } from '../../src/errors/index.ts';
import type { ChatTurn } from '../../src/llm/hf-chat.ts';
import { lazyChild, type Logger } from '../../src/logger.ts';
import { ChunkedReply, type ReplyMessages } from '../../src/stream/chunked-reply.ts';
import type { SentimentLabel } from '../../src/sentiment/labels.ts';
import type { SentimentSummary } from '../../src/sentiment/store.ts';
import type { Keyspace, RedisConnection } from '../../src/queue/redis.ts';
import type { MessageRef, NoticeKind, NoticeTarget, OpenReplyOptions, ReplyEnd, ReplyHandle, Surface } from '../../src/surface.ts';
import { splitMessage } from '../../src/text/split.ts';
import { AgentSessions, SessionReply } from './agent-sessions.ts';
import { blocksWithFeedback, feedbackBlock } from './feedback.ts';
import { fromSlackText, StreamingSlackText, toSlackText } from './format.ts';
import { adoptedStreamRecord, NativeStreamReply, readStreamRecord } from './native-reply.ts';
import { slackLogger } from './logger.ts';
import { webApiTransport } from './transport.ts';
import { describeSlackFailure } from './reachability.ts';
import { responseUrlOf, type SlackSettings } from './settings.ts';

const PLACEHOLDER = '_Thinking…_';
/** Errors no retry can fix: the reply cannot be shown, so the job stops. */
const FATAL_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'restricted_action',
  'msg_too_long',
  'no_text',
  'message_not_found',
  'cant_update_message',
]);

function classifySlackError(err: unknown): ClassifiedError {
  const code = (err as { code?: string }).code;
  if (code === ErrorCode.PlatformError) {
    const slackError = (err as WebAPIPlatformError).data.error;
    const failure = FATAL_ERRORS.has(slackError)
      ? ({ kind: 'fatal', userMessage: `Slack refused the reply (${slackError}).`, detail: `slack ${slackError}` } as const)
      : ({ kind: 'transient', detail: `slack ${slackError}` } as const);
    return new ClassifiedError(failure, { cause: err });
  }
  if (code === ErrorCode.RateLimitedError) {
    return new ClassifiedError(
      { kind: 'transient', detail: `slack rate limited for ${(err as { retryAfter: number }).retryAfter} s` },
      { cause: err },
    );
  }
  return new ClassifiedError({ kind: 'transient', detail: err instanceof Error ? err.message : String(err) }, { cause: err });
}

/** Lets one expected Slack error pass: adding a reaction that is there, removing one that is not. */
function ignoreSlackError(expected: string) {
  return (err: unknown) => {
    const cause = err instanceof ClassifiedError ? err.cause : err;
    if ((cause as Partial<WebAPIPlatformError>).data?.error !== expected) throw err;
  };
}

async function slackCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifySlackError(err);
  }
}

/** Web API calls one client has in flight at most (WebClient's own default, stated here). */
const MAX_CONCURRENT_CALLS = 100;

/** `rejectRateLimitedCalls`: a 429 is thrown rather than waited out (for calls that have a cheaper way round it). */
export function createSlackWebClient(config: SlackSettings, logger?: Logger, options: { rejectRateLimitedCalls?: boolean } = {}): WebClient {
  return new WebClient(config.botToken, {
    slackApiUrl: config.apiUrl,
    ...(logger ? { logger: slackLogger(logger) } : {}),
    ...(options.rejectRateLimitedCalls ? { rejectRateLimitedCalls: true } : {}),
    // 429s are waited out by the client (Retry-After); other failures get a short retry here and
    // then surface to the queue, which owns longer retries.
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 },
    timeout: 10_000,
    maxRequestConcurrency: MAX_CONCURRENT_CALLS,
    // As many connections as calls in flight: undici's pool otherwise opens a new one whenever a
    // call is sent before a finished one's connection is free again, and under a burst a worker
    // held 400 to Slack for 200 calls at most, each ~35 kB of memory until its keep-alive ends.
    fetch: webApiTransport({ maxConnections: MAX_CONCURRENT_CALLS }),
  });
}

/**
 * Every message of a reply carries its job's id in Slack's message metadata: an attempt that died
 * between posting and saving the message's ts leaves it to be found by the next one.
 */
const REPLY_METADATA_TYPE = 'chatbot_reply';

function replyMetadata(jobId: string) {
  return { event_type: REPLY_METADATA_TYPE, event_payload: { job_id: jobId } };
}

function isReplyTo(metadata: { event_type?: string; event_payload?: object } | undefined, jobId: string): boolean {
  const payload = metadata?.event_type === REPLY_METADATA_TYPE ? metadata.event_payload : undefined;
  return payload !== undefined && 'job_id' in payload && payload.job_id === jobId;
}

/**
 * The messages of one Slack reply: posted in the thread (or the channel for a command), edited
 * with chat.update; text past one message continues in further messages.
 */
function slackReplyMessages(client: WebClient, job: ChatJob): ReplyMessages {
  const channel = job.reply.channelId;
  // A finished answer carries the feedback buttons (its text then goes into blocks).
  const withButtons = (text: string, end: ReplyEnd | undefined) => (end === 'answer' ? { blocks: blocksWithFeedback(text, job.id) } : {});
  return {
    post: async (text, _index, end) => {
      const result = await slackCall(() =>
        client.chat.postMessage({
          channel,
          text,
          ...withButtons(text, end),
          ...(job.reply.threadId ? { thread_ts: job.reply.threadId } : {}),
          metadata: replyMetadata(job.id),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (!result.ts) throw new ClassifiedError({ kind: 'transient', detail: 'chat.postMessage returned no ts' });
      return result.ts;
    },
    // Sent on edits too: Slack's documentation does not promise that an edit keeps the metadata.
    edit: async (ts, text, _index, end) => {
      await slackCall(() => client.chat.update({ channel, ts, text, ...withButtons(text, end), metadata: replyMetadata(job.id) }));
    },
    remove: async (ts) => {
      await slackCall(() => client.chat.delete({ channel, ts }));
    },
  };
}

/** A slash command's answer is a new channel message: say who asked what, so the channel can follow. */
function commandHeader(job: ChatJob): string {
  if (job.kind !== 'command') return '';
  const question = job.text.length > 300 ? `${job.text.slice(0, 300)}…` : job.text;
  return toSlackText(`<@${job.userId}> asked: _${question.replace(/\s+/g, ' ')}_`, job.userId) + '\n\n';
}

/** Slack error codes that mean native streaming is off for the whole workspace: remembered, so its replies go straight to edits. */
const STREAMING_OFF = new Set(['feature_not_enabled', 'not_allowed_token_type', 'unknown_method', 'method_deprecated', 'messages_tab_disabled', 'team_not_allowed']);
/** How long a workspace that refused native streams is answered with edits before it is tried again. */
const STREAMING_OFF_SECONDS = 3600;

/** The Slack error code in a Web API failure (`ratelimited` for a thrown 429), if it is one. */
export function slackErrorOf(err: unknown): string | undefined {
  const code = (err as { code?: string }).code;
  if (code === ErrorCode.PlatformError) return (err as WebAPIPlatformError).data.error;
  if (code === ErrorCode.RateLimitedError) return 'ratelimited';
  return undefined;
}

export interface SlackSurfaceDeps {
  /** Calls that go round a 429 rather than wait for it (native streams, session status): it throws. */
  agentClient: WebClient;
  redis: RedisConnection;
  keys: Keyspace;
}

export class SlackSurface implements Surface {
  readonly platform = 'slack';
  readonly editIntervalMs: number;
  readonly #client: WebClient;
  readonly #config: SlackSettings;
  readonly #logger: Logger;
  readonly #deps: SlackSurfaceDeps | undefined;
  readonly #sessions: AgentSessions;
  /** Workspaces whose refusal of native streams this process has seen, until when (ms). */
  readonly #streamingOff = new Map<string, number>();
  #botUserId: string | undefined;

  constructor(client: WebClient, config: SlackSettings, logger: Logger, deps?: SlackSurfaceDeps) {
    this.#client = client;
    this.#config = config;
    this.#logger = logger;
    this.#deps = deps;
    this.editIntervalMs = config.editIntervalMs;
    this.#sessions = new AgentSessions(deps?.agentClient ?? client, logger);
  }

  /**
   * A reply in a thread runs in an agent session (processing now, active when the reply is final)
   * and streams natively where Slack allows; elsewhere, and where it refuses, a placeholder edited
   * with chat.update.
   */
  async openReply(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>, options?: OpenReplyOptions): Promise<ReplyHandle> {
    const thread = job.reply.threadId;
    const processing = thread ? this.#sessions.processing(job, thread) : undefined;
    const record = readStreamRecord(job.progress.surface);
    const native = (record !== undefined || job.progress.messageIds.length === 0) && (await this.#nativeAllowed(job));
    if (native && !record && options?.mayHavePosted) job = await this.#adoptOrphanedStream(job, saveMessageIds, options);
    const reply = native ? this.#nativeReply(job, saveMessageIds, options) : await this.#editedReply(job, saveMessageIds, options);
    if (!thread || !processing) return reply;
    return new SessionReply(reply, processing, () => this.#sessions.active(job.reply.channelId, thread));
  }

  async #nativeAllowed(job: ChatJob): Promise<boolean> {
    if (this.#config.streaming !== 'native' || !job.reply.threadId) return false;
    const until = this.#streamingOff.get(job.workspaceId);
    if (until !== undefined && until > Date.now()) return false;
    if (!this.#deps) return true;
    const off = await this.#deps.redis.exists(this.#deps.keys.platform('slack', `streaming-off:${job.workspaceId}`)).catch(() => 0);
    return off === 0;
  }

  #rememberStreamingOff(workspaceId: string, code: string | undefined): void {
    if (!code || !STREAMING_OFF.has(code)) return;
    this.#logger.warn({ workspaceId, code }, 'slack refuses native streams in this workspace; answering with edits for a while');
    this.#streamingOff.set(workspaceId, Date.now() + STREAMING_OFF_SECONDS * 1000);
    void this.#deps?.redis.set(this.#deps.keys.platform('slack', `streaming-off:${workspaceId}`), code, 'EX', STREAMING_OFF_SECONDS).catch(() => undefined);
  }

  #nativeReply(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>, options: OpenReplyOptions | undefined): NativeStreamReply {
    const channel = job.reply.channelId;
    const threadTs = job.reply.threadId ?? '';
    const client = this.#deps?.agentClient ?? this.#client;
    // Outside DMs Slack needs to know whom the stream is for.
    const recipient = channel.startsWith('D') ? {} : { recipient_user_id: job.userId, recipient_team_id: job.workspaceId };
    return new NativeStreamReply({
      calls: {
        start: async (markdown) => {
          const started = await client.chat.startStream({ channel, thread_ts: threadTs, markdown_text: markdown, ...recipient });
          if (!started.ts) throw new ClassifiedError({ kind: 'transient', detail: 'chat.startStream returned no ts' });
          return started.ts;
        },
        append: async (ts, markdown) => void (await client.chat.appendStream({ channel, ts, markdown_text: markdown })),
        stop: async (ts, finish) =>
          void (await client.chat.stopStream({
            channel,
            ts,
            ...(finish.blocks ? { blocks: finish.blocks } : {}),
            ...(finish.sessionStatus ? { session_status: finish.sessionStatus } : {}),
          })),
      },
      fallback: (ids) => this.#editedChunks(job, ids, saveMessageIds),
      saveIds: saveMessageIds,
      saveState: options?.saveState,
      record: readStreamRecord(job.progress.surface),
      askerId: job.userId,
      maxChars: this.#config.maxMessageChars,
      answerBlocks: [feedbackBlock(job.id)],
      inSession: true,
      onRefused: (code) => this.#rememberStreamingOff(job.workspaceId, code),
      slackErrorOf,
      log: lazyChild(this.#logger, { jobId: job.id }),
    });
  }

  /**
   * An earlier attempt may have started a stream and died before saving its ts. One answer at a time
   * runs per conversation, so the only stream of ours still open in the thread after the question is
   * that one: stopping it succeeds only for an open stream (an earlier, finished answer refuses), and
   * the stopped message is then finished with edits instead of a second message being started.
   */
  async #adoptOrphanedStream(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>, options: OpenReplyOptions): Promise<ChatJob> {
    const channel = job.reply.channelId;
    const since = job.messageId ?? (job.receivedAt / 1000 - 5).toFixed(6);
    try {
      const [{ messages = [] }, botUserId] = await Promise.all([
        this.#client.conversations.replies({ channel, ts: job.reply.threadId ?? '', oldest: since, limit: 200 }),
        this.#ownUserId(),
      ]);
      const newest = messages.filter((message) => message.user === botUserId && message.bot_id && (message.ts ?? '') > since).at(-1)?.ts;
      if (!newest) return job;
      await (this.#deps?.agentClient ?? this.#client).chat.stopStream({ channel, ts: newest });
      this.#logger.info({ jobId: job.id, ts: newest }, 'adopting the stream an earlier attempt started');
      const surface = adoptedStreamRecord(newest);
      await saveMessageIds([newest]);
      await options.saveState?.(surface);
      return { ...job, progress: { ...job.progress, messageIds: [newest], surface } };
    } catch {
      // No open stream of ours (or the thread cannot be read): nothing to adopt.
      return job;
    }
  }

  /** The edit path: the messages saved in the job (or found, after an attempt that died before saving them), else new ones. */
  async #editedReply(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>, options?: OpenReplyOptions): Promise<ReplyHandle> {
    if (options?.mayHavePosted) {
      const orphans = await this.#orphanedMessages(job);
      if (orphans.length > 0) {
        this.#logger.info({ jobId: job.id, ts: orphans }, 'adopting the messages an earlier attempt posted');
        await saveMessageIds(orphans);
        job = { ...job, progress: { ...job.progress, messageIds: orphans } };
      }
    }
    return this.#editedChunks(job, job.progress.messageIds, saveMessageIds, PLACEHOLDER);
  }

  /** Messages posted in the thread (or the channel for a command) and edited with chat.update; long text continues in more. */
  #editedChunks(job: ChatJob, ids: readonly string[], saveMessageIds: (ids: string[]) => Promise<void>, placeholder?: string): ChunkedReply {
    const header = commandHeader(job);
    const text = new StreamingSlackText(job.userId);
    const toChunks = (markdown: string, final: boolean) => {
      const chunks = splitMessage(markdown, this.#config.maxMessageChars - header.length).map((chunk) => text.convert(chunk, final));
      chunks[0] = header + (chunks[0] ?? '');
      return chunks;
    };
    return new ChunkedReply(slackReplyMessages(this.#client, job), toChunks, ids, saveMessageIds, { marksEnd: true, placeholder });
  }

  /**
   * The messages an earlier attempt posted for this job, oldest first: in the thread, or after the
   * command. Each carries the job's id in its metadata, so a finished answer to an earlier question
   * is never taken for this one's.
   */
  async #orphanedMessages(job: ChatJob): Promise<string[]> {
    const channel = job.reply.channelId;
    const since = job.messageId ?? (job.receivedAt / 1000 - 5).toFixed(6);
    const { messages = [] } = job.reply.threadId
      ? await slackCall(() =>
          this.#client.conversations.replies({ channel, ts: job.reply.threadId ?? '', oldest: since, limit: 200, include_all_metadata: true }),
        )
      : await slackCall(() => this.#client.conversations.history({ channel, oldest: since, limit: 200, include_all_metadata: true }));
    const botUserId = await this.#ownUserId();
    return messages
      .filter((message) => message.user === botUserId && message.bot_id && (message.ts ?? '') > since && isReplyTo(message.metadata, job.id))
      .map((message) => message.ts ?? '')
      .sort(); // Slack's timestamps are fixed-width ("seconds.micros"): as strings they sort in time order
  }

  async conversationContext(job: ChatJob): Promise<ChatTurn[]> {
    if (!job.threadId) return [];
    const botUserId = await this.#ownUserId();
    const result = await slackCall(() =>
      this.#client.conversations.replies({ channel: job.channelId, ts: job.threadId ?? '', limit: 100 }),
    );
    return (result.messages ?? [])
      .filter((message) => message.ts !== job.messageId && (job.messageId === undefined || (message.ts ?? '') < job.messageId))
      .flatMap((message): ChatTurn[] => {
        const fromBot = Boolean(message.bot_id) && message.user === botUserId;
        const content = fromSlackText(message.text ?? '', botUserId);
        if (!content) return [];
        return [{ role: fromBot ? 'assistant' : 'user', content: fromBot ? content : `<@${message.user}>: ${content}` }];
      });
  }

  async notice(target: NoticeTarget, kind: NoticeKind, detail: string): Promise<void> {
    const text = toSlackText(detail, target.userId);
    const responseUrl = responseUrlOf(target.via);
    try {
      if (responseUrl) {
        const response = await fetch(responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ response_type: 'ephemeral', text }),
        });
        if (!response.ok) throw new Error(`response_url answered ${response.status}`);
        return;
      }
      await this.#client.chat.postEphemeral({
        channel: target.channelId,
        user: target.userId,
        text,
        ...(target.threadId ? { thread_ts: target.threadId } : {}),
      });
    } catch (err) {
      this.#logger.warn({ err, kind }, 'could not show a notice on Slack');
    }
  }

  /** Slack serves files only with the bot token (scope files:read). */
  download(attachment: Attachment, maxBytes: number): Promise<Buffer> {
    return downloadFile(attachment.url, maxBytes, { authorization: `Bearer ${this.#config.botToken}` });
  }

  async verify(): Promise<void> {
    try {
      await this.#ownUserId();
    } catch (err) {
      throw new Error(describeSlackFailure(err, this.#config.apiUrl), { cause: err });
    }
  }

  async tagSentiment(root: MessageRef, previous: SentimentLabel | undefined, next: SentimentLabel): Promise<void> {
    const emoji = this.#config.sentimentEmoji;
    const target = { channel: root.channelId, timestamp: root.messageId };
    if (previous && emoji[previous] !== emoji[next]) {
      await slackCall(() => this.#client.reactions.remove({ ...target, name: emoji[previous] })).catch(ignoreSlackError('no_reaction'));
    }
    await slackCall(() => this.#client.reactions.add({ ...target, name: emoji[next] })).catch(ignoreSlackError('already_reacted'));
  }

  async threadLink(root: MessageRef): Promise<string | undefined> {
    return (await slackCall(() => this.#client.chat.getPermalink({ channel: root.channelId, message_ts: root.messageId }))).permalink;
  }

  async alertNegative(alertChannelId: string, root: MessageRef, summary: SentimentSummary): Promise<void> {
    const permalink = await this.threadLink(root);
    const link = permalink ? `<${permalink}|A conversation in <#${root.channelId}>>` : `A conversation in <#${root.channelId}>`;
    await slackCall(() =>
      this.#client.chat.postMessage({
        channel: alertChannelId,
        text: `:${this.#config.sentimentEmoji.negative}: ${link} has turned negative (score ${summary.score.toFixed(2)} over ${summary.count} messages).`,
        unfurl_links: false,
      }),
    );
  }

  async #ownUserId(): Promise<string | undefined> {
    this.#botUserId ??= (await slackCall(() => this.#client.auth.test())).user_id;
    return this.#botUserId;
  }
}
