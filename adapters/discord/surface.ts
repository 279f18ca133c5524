import { createHash } from 'node:crypto';
import { DiscordAPIError, HTTPError, REST } from '@discordjs/rest';
import { ChannelType, Routes, type APIChannel, type APIMessage, type APIUser } from 'discord-api-types/v10';
import { downloadFile, type Attachment } from '../../src/attachments/attachment.ts';
import type { ChatJob } from '../../src/jobs/chat-job.ts';
import { ClassifiedError } from '../../src/errors/index.ts';
import type { ChatTurn } from '../../src/llm/hf-chat.ts';
import type { Logger } from '../../src/logger.ts';
import { ChunkedReply, type ReplyMessages } from '../../src/stream/chunked-reply.ts';
import type { SentimentLabel } from '../../src/sentiment/labels.ts';
import type { SentimentSummary } from '../../src/sentiment/store.ts';
import type { MessageRef, NoticeKind, NoticeTarget, ReplyHandle, Surface } from '../../src/surface.ts';
import { splitMessage } from '../../src/text/split.ts';
import { answerButtons, type ButtonsState } from './components.ts';
import { DISCORD_MAX_MESSAGE_CHARS, fromDiscordText, neutralizeMentions, NO_PINGS } from './format.ts';
import { interactionTokenOf, type DiscordSettings } from './settings.ts';

/** Discord errors no retry fixes: the reply cannot be shown, so the job stops. */
const FATAL_CODES = new Map<number, string>([
  [10003, 'the channel is gone'],
  [10008, 'the reply message was deleted'],
  [10015, 'the interaction has expired'],
  [50001, 'the bot cannot see this channel'],
  [50013, 'the bot lacks permission to post here'],
  [50027, 'the interaction has expired'],
]);
/** How far back a reply chain is read for context. */
const MAX_CHAIN_MESSAGES = 20;
/** How much of a thread is read for context (one page; the prompt keeps the newest that fit). */
const MAX_THREAD_MESSAGES = 100;
/** Buttons go on the first message of a reply (with an interaction's token, `@original` is that one). */
const BUTTONS_INDEX = 0;
/** Forum posts may carry at most this many tags. */
const MAX_FORUM_TAGS = 5;
/** A typing indicator lasts about 10 s; refresh it until the first text shows, up to this long. */
const TYPING_REFRESH_MS = 8000;
const TYPING_MAX_MS = 60_000;

function classifyDiscordError(err: unknown): ClassifiedError {
  if (err instanceof DiscordAPIError) {
    const reason = typeof err.code === 'number' ? FATAL_CODES.get(err.code) : undefined;
    if (reason || err.status === 401 || err.status === 403 || err.status === 404) {
      return new ClassifiedError(
        { kind: 'fatal', userMessage: `Discord refused the reply (${reason ?? err.message}).`, detail: `discord ${err.status} ${err.code}` },
        { cause: err },
      );
    }
    return new ClassifiedError({ kind: 'transient', detail: `discord ${err.status} ${err.code}` }, { cause: err });
  }
  const detail = err instanceof HTTPError ? `discord HTTP ${err.status}` : err instanceof Error ? err.message : String(err);
  return new ClassifiedError({ kind: 'transient', detail }, { cause: err });
}

async function discordCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyDiscordError(err);
  }
}

const UNKNOWN_WEBHOOK = 10015;
/** How long after an interaction its webhook may still be missing because the first response is on its way. */
const RESPONSE_IN_FLIGHT_MS = 60_000;

/**
 * A call on an interaction's webhook. Over HTTP interactions the first response travels in the
 * HTTP answer, which can reach Discord after the worker's first edit: a young interaction's
 * "Unknown Webhook" is retried rather than taken as an expired one.
 */
async function webhookCall<T>(call: () => Promise<T>, issuedAt: number): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DiscordAPIError && err.code === UNKNOWN_WEBHOOK && Date.now() - issuedAt < RESPONSE_IN_FLIGHT_MS) {
      throw new ClassifiedError({ kind: 'transient', detail: 'discord 404 10015: the interaction response is not there yet' }, { cause: err });
    }
    throw classifyDiscordError(err);
  }
}

/** REST client for workers: no gateway connection; @discordjs/rest queues per rate-limit bucket. */
export function createDiscordRest(config: Pick<DiscordSettings, 'token' | 'apiUrl'>): REST {
  return new REST({ version: '10', ...(config.apiUrl ? { api: config.apiUrl } : {}), timeout: 15_000 }).setToken(config.token);
}

/** The components a reply's message `index` carries now, or undefined to leave them as they are. */
type ComponentsOf = (index: number) => unknown[] | undefined;

/** What a reply needs beyond the three calls: setting the buttons alone, on a message it has. */
interface ReplyTransport extends ReplyMessages {
  setComponents(id: string, components: unknown[]): Promise<void>;
}

/** A mention or DM: messages in the channel, in a server as replies to the user's message. */
function channelMessages(rest: REST, job: ChatJob, componentsOf: ComponentsOf): ReplyTransport {
  const channel = job.reply.channelId;
  const replyTo = job.reply.threadId;
  return {
    post: async (content, index) => {
      const components = componentsOf(index);
      const body = {
        content,
        allowed_mentions: NO_PINGS,
        ...(components ? { components } : {}),
        // Discord keeps a nonce a few minutes: a retry after a worker died between posting and
        // saving the id gets the message it already posted, not a second one.
        nonce: createHash('sha256').update(`${job.id}:${index}`).digest('base64url').slice(0, 25),
        enforce_nonce: true,
        ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
      };
      const message = (await discordCall(() => rest.post(Routes.channelMessages(channel), { body }))) as APIMessage;
      // A repeated nonce returns the message as first posted: bring it up to date.
      if (message.content !== content) {
        await discordCall(() =>
          rest.patch(Routes.channelMessage(channel, message.id), { body: { content, allowed_mentions: NO_PINGS, ...(components ? { components } : {}) } }),
        );
      }
      return message.id;
    },
    edit: async (id, content, index) => {
      const components = componentsOf(index);
      await discordCall(() =>
        rest.patch(Routes.channelMessage(channel, id), { body: { content, allowed_mentions: NO_PINGS, ...(components ? { components } : {}) } }),
      );
    },
    remove: async (id) => {
      await discordCall(() => rest.delete(Routes.channelMessage(channel, id)));
    },
    setComponents: async (id, components) => {
      await discordCall(() => rest.patch(Routes.channelMessage(channel, id), { body: { components } }));
    },
  };
}

/** The id the first message of an interaction reply has: the deferred response itself. */
const ORIGINAL = '@original';

/**
 * A slash command: the deferred response is the first message, further ones are follow-ups, all
 * through the interaction's webhook. No bot token or gateway needed, so any worker can do it.
 */
function interactionMessages(rest: REST, applicationId: string, token: string, issuedAt: number, componentsOf: ComponentsOf): ReplyTransport {
  const webhook = { auth: false } as const;
  return {
    post: async (content, index) => {
      const components = componentsOf(index);
      const body = { content, allowed_mentions: NO_PINGS, ...(components ? { components } : {}) };
      if (index === 0) {
        await webhookCall(() => rest.patch(Routes.webhookMessage(applicationId, token, ORIGINAL), { ...webhook, body }), issuedAt);
        return ORIGINAL;
      }
      const message = (await webhookCall(() => rest.post(Routes.webhook(applicationId, token), { ...webhook, body }), issuedAt)) as APIMessage;
      return message.id;
    },
    edit: async (id, content, index) => {
      const components = componentsOf(index);
      await webhookCall(
        () =>
          rest.patch(Routes.webhookMessage(applicationId, token, id), {
            ...webhook,
            body: { content, allowed_mentions: NO_PINGS, ...(components ? { components } : {}) },
          }),
        issuedAt,
      );
    },
    remove: async (id) => {
      await webhookCall(() => rest.delete(Routes.webhookMessage(applicationId, token, id), webhook), issuedAt);
    },
    setComponents: async (id, components) => {
      await webhookCall(() => rest.patch(Routes.webhookMessage(applicationId, token, id), { ...webhook, body: { components } }), issuedAt);
    },
  };
}

/**
 * A reply with buttons on its first message: Stop while it streams, Regenerate and 👍 / 👎 once it
 * is final. The buttons ride on the edits the text needs anyway; a final render that changes no
 * text swaps them with one edit of their own.
 */
class ButtonedReply implements ReplyHandle {
  readonly #job: ChatJob;
  #chunked: ChunkedReply | undefined;
  #transport: ReplyTransport | undefined;
  #ids: string[];
  #state: ButtonsState = 'streaming';
  /** What the first message carries now; unknown after a resume. */
  #shown: ButtonsState | undefined;
  #extraCalls = 0;

  constructor(job: ChatJob) {
    this.#job = job;
    this.#ids = [...job.progress.messageIds];
  }

  attach(chunked: ChunkedReply, transport: ReplyTransport): void {
    this.#chunked = chunked;
    this.#transport = transport;
  }

  /** For the transport: the buttons message `index` gets in the render under way. */
  componentsOf: ComponentsOf = (index) => {
    if (index !== BUTTONS_INDEX) return undefined;
    this.#shown = this.#state;
    return answerButtons(this.#state, this.#job.id, this.#job.userId);
  };

  /** For the chunked reply: ids as saved. */
  track(ids: string[]): void {
    this.#ids = ids;
  }

  get posted(): boolean {
    return this.#chunked?.posted ?? false;
  }

  get apiCalls(): number {
    return (this.#chunked?.apiCalls ?? 0) + this.#extraCalls;
  }

  async render(markdown: string, final: boolean): Promise<void> {
    if (!this.#chunked || !this.#transport) throw new Error('reply not attached');
    this.#state = final ? 'final' : 'streaming';
    await this.#chunked.render(markdown, final);
    const first = this.#ids[BUTTONS_INDEX];
    if (final && first !== undefined && this.#shown !== 'final') {
      this.#extraCalls += 1;
      await this.#transport.setComponents(first, answerButtons('final', this.#job.id, this.#job.userId));
      this.#shown = 'final';
    }
  }
}

export class DiscordSurface implements Surface {
  readonly platform = 'discord';
  readonly editIntervalMs: number;
  readonly #rest: REST;
  readonly #config: DiscordSettings;
  readonly #logger: Logger;
  #botUserId: Promise<string> | undefined;

  constructor(rest: REST, config: DiscordSettings, logger: Logger) {
    this.#rest = rest;
    this.#config = config;
    this.#logger = logger;
    this.editIntervalMs = config.editIntervalMs;
  }

  async openReply(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>): Promise<ReplyHandle> {
    const token = interactionTokenOf(job.reply.via);
    const reply = new ButtonedReply(job);
    const messages = token
      ? interactionMessages(this.#rest, this.#config.applicationId, token, job.receivedAt, reply.componentsOf)
      : channelMessages(this.#rest, job, reply.componentsOf);
    const toChunks = (markdown: string) => splitMessage(neutralizeMentions(markdown, job.userId), DISCORD_MAX_MESSAGE_CHARS);
    const save = async (ids: string[]) => {
      reply.track(ids);
      await saveMessageIds(ids);
    };
    reply.attach(new ChunkedReply(messages, toChunks, job.progress.messageIds, save), messages);
    // An interaction shows Discord's own "thinking…" until the first edit; a channel shows typing.
    if (!token && !reply.posted) this.#showTyping(job.reply.channelId, () => reply.posted);
    return reply;
  }

  /**
   * What came before the job's message, oldest first: in a thread (the conversation is the thread
   * channel itself) its earlier messages; otherwise the reply chain above it, each reference followed.
   */
  async conversationContext(job: ChatJob): Promise<ChatTurn[]> {
    if (!job.messageId) return [];
    const botUserId = await this.#ownUserId();
    const messages = job.threadId === job.channelId ? await this.#threadBefore(job.channelId, job.messageId) : await this.#chainAbove(job.channelId, job.messageId);
    return messages.flatMap((message): ChatTurn[] => {
      const content = fromDiscordText(message.content, botUserId);
      if (!content) return [];
      return message.author.id === botUserId
        ? [{ role: 'assistant', content }]
        : [{ role: 'user', content: `${message.author.username}: ${content}` }];
    });
  }

  /** A thread's messages before `messageId`, oldest first. */
  async #threadBefore(threadId: string, messageId: string): Promise<APIMessage[]> {
    const query = new URLSearchParams({ before: messageId, limit: String(MAX_THREAD_MESSAGES) });
    const page = (await discordCall(() => this.#rest.get(Routes.channelMessages(threadId), { query }))) as APIMessage[];
    return page.reverse();
  }

  async #chainAbove(channelId: string, messageId: string): Promise<APIMessage[]> {
    const chain: APIMessage[] = [];
    let next = (await this.#message(channelId, messageId)).message_reference?.message_id;
    while (next && chain.length < MAX_CHAIN_MESSAGES) {
      const message = await this.#message(channelId, next);
      chain.push(message);
      next = message.message_reference?.message_id;
    }
    return chain.reverse();
  }

  /** Discord has no private notice outside interactions: reply to the user's message. */
  async notice(target: NoticeTarget, kind: NoticeKind, detail: string): Promise<void> {
    try {
      await this.#rest.post(Routes.channelMessages(target.channelId), {
        body: {
          content: `<@${target.userId}> ${neutralizeMentions(detail, target.userId)}`,
          allowed_mentions: { parse: [], users: [target.userId] },
          ...(target.threadId ? { message_reference: { message_id: target.threadId, fail_if_not_exists: false } } : {}),
        },
      });
    } catch (err) {
      this.#logger.warn({ err, kind }, 'could not show a notice on Discord');
    }
  }

  /** Attachments are on Discord's CDN, fetched without credentials. */
  download(attachment: Attachment, maxBytes: number): Promise<Buffer> {
    return downloadFile(attachment.url, maxBytes);
  }

  async verify(): Promise<void> {
    await this.#ownUserId();
  }

  /**
   * A thread's tag: on a forum post whose forum has tags named for the labels, the post's tags are
   * swapped (its other tags kept); anywhere else a reaction on the conversation's first message
   * (a thread started from a message has it in the parent channel).
   */
  async tagSentiment(root: MessageRef, previous: SentimentLabel | undefined, next: SentimentLabel): Promise<void> {
    if (root.channelId !== root.messageId) return this.#react(root, previous, next);
    const thread = (await discordCall(() => this.#rest.get(Routes.channel(root.channelId)))) as APIChannel;
    const parentId = 'parent_id' in thread ? thread.parent_id : undefined;
    if (!parentId) return this.#react(root, previous, next);
    const parent = (await discordCall(() => this.#rest.get(Routes.channel(parentId)))) as APIChannel;
    if (parent.type !== ChannelType.GuildForum) return this.#react(await this.#threadStart(root, parentId), previous, next);
    const tagIds = this.#forumTagIds(parent);
    if (!tagIds) return this.#react(root, previous, next);
    const applied = 'applied_tags' in thread && Array.isArray(thread.applied_tags) ? thread.applied_tags : [];
    const labelTags = new Set(Object.values(tagIds));
    const kept = applied.filter((id) => !labelTags.has(id)).slice(0, MAX_FORUM_TAGS - 1);
    await discordCall(() => this.#rest.patch(Routes.channel(root.channelId), { body: { applied_tags: [...kept, tagIds[next]] } }));
  }

  /**
   * A thread's first message: the message it was started from (in the parent channel, with the
   * thread's id), or else the oldest message in the thread itself.
   */
  async #threadStart(root: MessageRef, parentId: string): Promise<MessageRef> {
    try {
      await this.#message(parentId, root.messageId);
      return { ...root, channelId: parentId };
    } catch (err) {
      if (!(err instanceof ClassifiedError) || err.failure.kind !== 'fatal') throw err;
    }
    const query = new URLSearchParams({ after: '0', limit: '1' });
    const [oldest] = (await discordCall(() => this.#rest.get(Routes.channelMessages(root.channelId), { query }))) as APIMessage[];
    return oldest ? { ...root, messageId: oldest.id } : root;
  }

  /** The forum's tag ids for the three labels, when it has all three (names compared case-insensitively). */
  #forumTagIds(forum: APIChannel): Record<SentimentLabel, string> | undefined {
    const available = 'available_tags' in forum && Array.isArray(forum.available_tags) ? forum.available_tags : [];
    const find = (name: string) => available.find((tag) => tag.name.toLowerCase() === name.toLowerCase())?.id;
    const names = this.#config.forumTags;
    const ids = { positive: find(names.positive), neutral: find(names.neutral), negative: find(names.negative) };
    return ids.positive && ids.neutral && ids.negative ? { positive: ids.positive, neutral: ids.neutral, negative: ids.negative } : undefined;
  }

  async #react(root: MessageRef, previous: SentimentLabel | undefined, next: SentimentLabel): Promise<void> {
    const emoji = this.#config.sentimentEmoji;
    const reaction = (label: SentimentLabel) => Routes.channelMessageOwnReaction(root.channelId, root.messageId, encodeURIComponent(emoji[label]));
    if (previous && emoji[previous] !== emoji[next]) await discordCall(() => this.#rest.delete(reaction(previous)));
    await discordCall(() => this.#rest.put(reaction(next)));
  }

  /** A jump link, built from the ids: no API call. */
  async threadLink(root: MessageRef): Promise<string> {
    return `https://discord.com/channels/${root.workspaceId}/${root.channelId}/${root.messageId}`;
  }

  async alertNegative(alertChannelId: string, root: MessageRef, summary: SentimentSummary): Promise<void> {
    const link = await this.threadLink(root);
    const content = `${this.#config.sentimentEmoji.negative} A conversation in <#${root.channelId}> has turned negative (score ${summary.score.toFixed(2)} over ${summary.count} messages): ${link}`;
    await discordCall(() => this.#rest.post(Routes.channelMessages(alertChannelId), { body: { content, allowed_mentions: NO_PINGS } }));
  }

  #showTyping(channelId: string, shown: () => boolean): void {
    const started = Date.now();
    const tick = () => {
      if (shown() || Date.now() - started > TYPING_MAX_MS) return;
      this.#rest.post(Routes.channelTyping(channelId)).catch((err: unknown) => this.#logger.debug({ err }, 'typing indicator failed'));
      setTimeout(tick, TYPING_REFRESH_MS).unref();
    };
    tick();
  }

  async #message(channelId: string, messageId: string): Promise<APIMessage> {
    return (await discordCall(() => this.#rest.get(Routes.channelMessage(channelId, messageId)))) as APIMessage;
  }

  #ownUserId(): Promise<string> {
    this.#botUserId ??= discordCall(() => this.#rest.get(Routes.user('@me'))).then(
      (user) => (user as APIUser).id,
      (err: unknown) => {
        this.#botUserId = undefined; // ask again next time
        throw err;
      },
    );
    return this.#botUserId;
  }
}
