/**
 * What the bot's messages do to the world: posting (content, embeds, attachments, allowed
 * mentions and who gets pinged), edits, deletes, reactions and threads, echoed over the gateway.
 */
import { isRecord } from '../http.ts';
import type { ApiChannel, ApiAttachment, ApiMessage, AllowedMentions, MessageReference, MessagePings, StoredMessage } from './types.ts';
import { ChannelType, MessageType, MessageFlag, Intent, TEXT_CHANNEL_TYPES, THREAD_TYPES, MAX_CONTENT } from './protocol.ts';
import { type ChannelState, type RestContext, type ParsedFile, type MessageParts, ApiError, asRecord, optString, stringArray, compareIds, formError, parseContentMentions, contentLength } from './internal.ts';
import type { DiscordState } from './state.ts';
import type { Views } from './views.ts';
import type { Gateway } from './gateway.ts';

export class Messaging {
  readonly #state: DiscordState;
  readonly #views: Views;
  readonly #gateway: Gateway;

  constructor(state: DiscordState, views: Views, gateway: Gateway) {
    this.#state = state;
    this.#views = views;
    this.#gateway = gateway;
  }

  /** A reaction emoji from the (decoded) path: a unicode emoji or `name:id`; a bare word is unknown. */
  checkEmoji(emoji: string | undefined): string {
    if (!emoji || /^\w+$/.test(emoji)) throw new ApiError(400, 10014, 'Unknown Emoji');
    return emoji;
  }

  /** `GET /channels/:id/messages?limit&before&after&around`, newest first. */
  listMessages(ctx: RestContext): ApiMessage[] {
    const channel = this.#state.requireChannel(ctx.params.channel_id);
    const limit = Number(ctx.query.get('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw formError('limit', 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 100.');
    }
    const before = ctx.query.get('before');
    const after = ctx.query.get('after');
    const around = ctx.query.get('around');
    let list = this.#state.messageList(channel.id)
      .filter((m) => !m.deleted && (m.flags & MessageFlag.Ephemeral) === 0)
      .sort((a, b) => compareIds(b.id, a.id));
    if (before) list = list.filter((m) => compareIds(m.id, before) < 0);
    if (after) list = list.filter((m) => compareIds(m.id, after) > 0).reverse().slice(0, limit).reverse();
    if (around) {
      const newer = list.filter((m) => compareIds(m.id, around) >= 0).slice(-Math.ceil(limit / 2));
      const older = list.filter((m) => compareIds(m.id, around) < 0).slice(0, Math.floor(limit / 2));
      list = [...newer, ...older];
    }
    return list.slice(0, limit).map((m) => this.#views.messageJson(m, false));
  }

  /** Content, embeds, components and attachments of a create/edit body, validated as Discord does. */
  messageParts(
    body: Record<string, unknown>,
    files: ParsedFile[],
    existing?: StoredMessage,
  ): MessageParts {
    const content = 'content' in body ? (optString(body.content) ?? '') : (existing?.content ?? '');
    if (contentLength(content) > MAX_CONTENT) {
      throw formError('content', 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT} or fewer in length.`);
    }
    const embeds = 'embeds' in body ? (Array.isArray(body.embeds) ? body.embeds : []) : (existing?.embeds ?? []);
    if (embeds.length > 10) throw formError('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    const components =
      'components' in body ? (Array.isArray(body.components) ? body.components : []) : (existing?.components ?? []);
    // `attachments` in an edit lists what to keep (by id) plus new uploads (by `files[N]` index).
    const listed = Array.isArray(body.attachments) ? body.attachments.filter(isRecord) : undefined;
    const kept = (existing?.attachments ?? []).filter((a) => listed === undefined || listed.some((l) => l.id === a.id));
    const uploaded = files.map((file): ApiAttachment => {
      const meta = listed?.find((l) => String(l.id) === file.index);
      const id = this.#state.snowflake();
      const filename = optString(meta?.filename) ?? file.filename;
      const attachment: ApiAttachment = {
        id,
        filename,
        size: file.size,
        url: `${this.#state.url}/attachments/${id}/${encodeURIComponent(filename)}`,
        proxy_url: `${this.#state.url}/attachments/${id}/${encodeURIComponent(filename)}`,
        content_type: file.contentType,
      };
      const description = optString(meta?.description);
      if (description !== undefined) attachment.description = description;
      return attachment;
    });
    return { content, embeds, components, attachments: [...kept, ...uploaded] };
  }

  isEmpty(parts: MessageParts, body: Record<string, unknown>): boolean {
    const stickers = stringArray(body.sticker_ids) ?? [];
    return (
      parts.content.trim().length === 0 &&
      parts.embeds.length === 0 &&
      parts.components.length === 0 &&
      parts.attachments.length === 0 &&
      stickers.length === 0 &&
      body.poll === undefined
    );
  }

  parseAllowedMentions(value: unknown): AllowedMentions | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) {
      throw formError('allowed_mentions', 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    }
    const allowed: AllowedMentions = {};
    const parse = stringArray(value.parse);
    const users = stringArray(value.users);
    const roles = stringArray(value.roles);
    if (parse) {
      for (const p of parse) {
        if (!['users', 'roles', 'everyone'].includes(p)) {
          throw formError('allowed_mentions.parse', 'ENUM_TYPE_COERCE', `Value "${p}" is not a valid enum value.`);
        }
      }
      allowed.parse = parse;
    }
    if (users) allowed.users = users;
    if (roles) allowed.roles = roles;
    for (const [kind, ids] of [['users', users], ['roles', roles]] as const) {
      if (parse?.includes(kind) && ids && ids.length > 0) {
        const message = `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`;
        throw formError('allowed_mentions', 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', message);
      }
    }
    if (typeof value.replied_user === 'boolean') allowed.replied_user = value.replied_user;
    return allowed;
  }

  /**
   * Who a bot message notifies. Without `allowed_mentions` everything in the content pings and a
   * reply pings the replied-to author; with it, only what it allows (`replied_user` defaults to false).
   */
  botPings(content: string, allowed: AllowedMentions | undefined, replyTo: StoredMessage | undefined): MessagePings {
    const parsed = parseContentMentions(content);
    const known = parsed.users.filter((id) => this.#state.users.has(id));
    if (!allowed) {
      const users = replyTo && !known.includes(replyTo.author_id) ? [...known, replyTo.author_id] : known;
      return { users, roles: parsed.roles, everyone: parsed.everyone };
    }
    const parse = allowed.parse ?? [];
    const users = known.filter((id) => parse.includes('users') || (allowed.users ?? []).includes(id));
    if (replyTo && allowed.replied_user === true && !users.includes(replyTo.author_id)) users.push(replyTo.author_id);
    const roles = parsed.roles.filter((id) => parse.includes('roles') || (allowed.roles ?? []).includes(id));
    return { users, roles, everyone: parsed.everyone && parse.includes('everyone') };
  }

  /** Resolves a create body's `message_reference` (default channel: the target), as Discord checks it. */
  #resolveReference(
    raw: unknown,
    channel: ChannelState,
  ): { reference?: MessageReference; replyTo?: StoredMessage } {
    if (!isRecord(raw)) return {};
    const messageId = optString(raw.message_id);
    const channelId = optString(raw.channel_id) ?? channel.id;
    const target = messageId ? this.#state.messages.get(messageId) : undefined;
    if (!target || target.deleted || target.channel_id !== channelId) {
      if (raw.fail_if_not_exists === false) return {};
      throw formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
    }
    const reference: MessageReference = {
      type: typeof raw.type === 'number' ? raw.type : 0,
      message_id: target.id,
      channel_id: target.channel_id,
    };
    if (target.guild_id) reference.guild_id = target.guild_id;
    return { reference, replyTo: target };
  }

  /** `POST /channels/:id/messages`. */
  postChannelMessage(ctx: RestContext): ApiMessage {
    const channel = this.#state.requireChannel(ctx.params.channel_id);
    if (!TEXT_CHANNEL_TYPES.has(channel.type)) throw new ApiError(400, 50008, 'Cannot send messages in a non-text channel');
    const body = asRecord(ctx.body);
    const nonce = typeof body.nonce === 'string' || typeof body.nonce === 'number' ? body.nonce : undefined;
    if (nonce !== undefined && body.enforce_nonce === true) {
      // Discord answers a repeated enforced nonce with the message it already created.
      const existing = this.#state.messageList(channel.id).find((m) => m.own && m.nonce === nonce && !m.deleted);
      if (existing) return this.#views.messageJson(existing, false);
    }
    const parts = this.messageParts(body, ctx.files);
    if (this.isEmpty(parts, body)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    const allowed = this.parseAllowedMentions(body.allowed_mentions);
    const { reference, replyTo } = this.#resolveReference(body.message_reference, channel);
    const message = this.storeMessage({
      channel,
      authorId: this.#state.opts.botUserId,
      own: true,
      ...parts,
      type: reference && reference.type !== 1 ? MessageType.Reply : MessageType.Default,
      flags: typeof body.flags === 'number' ? body.flags & (MessageFlag.SuppressEmbeds | (1 << 12)) : 0,
      reference,
      allowedMentions: allowed,
      pings: this.botPings(parts.content, allowed, replyTo),
      nonce,
      source: 'rest',
    });
    this.#gateway.echo('MESSAGE_CREATE', message);
    return this.#views.messageJson(message, false);
  }

  storeMessage(input: {
    channel: ChannelState;
    authorId: string;
    own: boolean;
    content: string;
    embeds: unknown[];
    components: unknown[];
    attachments: ApiAttachment[];
    type: number;
    flags: number;
    reference?: MessageReference;
    allowedMentions?: AllowedMentions;
    pings: MessagePings;
    nonce?: string | number;
    source: StoredMessage['source'];
    interactionToken?: string;
    id?: string;
    extra?: Record<string, unknown>;
  }): StoredMessage {
    const loading = (input.flags & MessageFlag.Loading) !== 0;
    const message: StoredMessage = {
      id: input.id ?? this.#state.snowflake(),
      channel_id: input.channel.id,
      author_id: input.authorId,
      own: input.own,
      content: input.content,
      type: input.type,
      flags: input.flags,
      embeds: input.embeds,
      components: input.components,
      attachments: input.attachments,
      pings: input.pings,
      edits: 0,
      history: loading ? [] : [input.content],
      deleted: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      source: input.source,
    };
    if (input.channel.guildId) message.guild_id = input.channel.guildId;
    if (input.reference) message.message_reference = input.reference;
    if (input.allowedMentions) message.allowed_mentions = input.allowedMentions;
    if (input.nonce !== undefined) message.nonce = input.nonce;
    if (input.interactionToken) {
      message.interaction_token = input.interactionToken;
      message.webhook_id = this.#state.applicationId;
    }
    if (input.extra) message.extra = input.extra;
    this.#state.messages.set(message.id, message);
    input.channel.lastMessageId = message.id;
    input.channel.messageCount += 1;
    return message;
  }

  /** Applies an edit body (content/embeds/components/attachments/allowed_mentions/flags). */
  editMessage(message: StoredMessage, body: Record<string, unknown>, files: ParsedFile[]): void {
    const parts = this.messageParts(body, files, message);
    const wasLoading = (message.flags & MessageFlag.Loading) !== 0;
    if (this.isEmpty(parts, body)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    Object.assign(message, parts);
    const allowed = this.parseAllowedMentions(body.allowed_mentions);
    if (allowed) message.allowed_mentions = allowed;
    const replyTo = message.message_reference?.message_id ? this.#state.messages.get(message.message_reference.message_id) : undefined;
    message.pings = this.botPings(message.content, message.allowed_mentions, replyTo);
    if (typeof body.flags === 'number') {
      message.flags = (message.flags & ~MessageFlag.SuppressEmbeds) | (body.flags & MessageFlag.SuppressEmbeds);
    }
    message.flags &= ~MessageFlag.Loading;
    message.edits += 1;
    message.history.push(message.content);
    // Filling a deferred reply's "thinking" placeholder is not shown as an edit in Discord.
    if (!wasLoading) message.edited_timestamp = new Date().toISOString();
    this.syncInteraction(message);
    this.#gateway.echo('MESSAGE_UPDATE', message);
  }

  deleteMessage(message: StoredMessage): void {
    message.deleted = true;
    this.#gateway.echo('MESSAGE_DELETE', message);
  }

  addReaction(message: StoredMessage, emoji: string, userId: string): void {
    const exists = this.#state.reactions.some((r) => r.message_id === message.id && r.emoji === emoji && r.user_id === userId);
    if (exists) return;
    this.#state.reactions.push({ channel_id: message.channel_id, message_id: message.id, emoji, user_id: userId, at: Date.now() });
    this.#gateway.dispatchReaction('MESSAGE_REACTION_ADD', message, emoji, userId);
  }

  removeReaction(message: StoredMessage, emoji: string, userId: string): void {
    const index = this.#state.reactions.findIndex((r) => r.message_id === message.id && r.emoji === emoji && r.user_id === userId);
    if (index === -1) return;
    this.#state.reactions.splice(index, 1);
    this.#gateway.dispatchReaction('MESSAGE_REACTION_REMOVE', message, emoji, userId);
  }

  /** `POST /channels/:id/messages/:mid/threads` (fromMessage) or `POST /channels/:id/threads`. */
  startThread(ctx: RestContext, fromMessage: boolean): ApiChannel {
    const parent = this.#state.requireChannel(ctx.params.channel_id);
    if (!parent.guildId || THREAD_TYPES.has(parent.type) || parent.type === ChannelType.DM) {
      throw new ApiError(400, 50024, 'Cannot execute action on this channel type');
    }
    const body = asRecord(ctx.body);
    const name = optString(body.name) ?? '';
    if (name.length < 1 || name.length > 100) {
      throw formError('name', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    let id: string;
    let type: number;
    let starter: StoredMessage | undefined;
    if (fromMessage) {
      starter = this.#state.requireMessage(parent.id, ctx.params.message_id);
      if (starter.thread_id) throw new ApiError(400, 160004, 'A thread has already been created for this message');
      id = starter.id;
      type = parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread;
    } else {
      id = this.#state.snowflake();
      // Discord's documented default is a private thread; discord.js always sends `type`.
      type = typeof body.type === 'number' ? body.type : ChannelType.PrivateThread;
    }
    const thread: ChannelState = {
      id,
      type,
      name,
      guildId: parent.guildId,
      parentId: parent.id,
      position: 0,
      lastMessageId: null,
      ownerId: this.#state.opts.botUserId,
      autoArchiveDuration: typeof body.auto_archive_duration === 'number' ? body.auto_archive_duration : 1440,
      messageCount: 0,
      createdAt: new Date().toISOString(),
      configured: false,
    };
    this.#state.channels.set(id, thread);
    if (starter) {
      starter.thread_id = id;
      starter.flags |= MessageFlag.HasThread;
    }
    const json = this.#views.channelJson(thread);
    const created = {
      ...json,
      newly_created: true,
      member: { id, user_id: this.#state.opts.botUserId, join_timestamp: thread.createdAt, flags: 0 },
    };
    this.#gateway.broadcast('THREAD_CREATE', (session) => (session.intents & Intent.Guilds ? created : undefined));
    return json;
  }

  /**
   * `PATCH /channels/:id`: a name, and a forum post's `applied_tags` (ids of its forum's
   * `available_tags`, at most 5), as Discord checks them. THREAD_UPDATE / CHANNEL_UPDATE goes out.
   */
  modifyChannel(channel: ChannelState, body: Record<string, unknown>): ApiChannel {
    if ('name' in body) {
      const name = optString(body.name) ?? '';
      if (name.length < 1 || name.length > 100) throw formError('name', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      channel.name = name;
    }
    if ('applied_tags' in body) {
      const tags = stringArray(body.applied_tags) ?? [];
      const parent = channel.parentId ? this.#state.channels.get(channel.parentId) : undefined;
      if (!THREAD_TYPES.has(channel.type) || parent?.type !== ChannelType.GuildForum) {
        throw formError('applied_tags', 'BASE_TYPE_INVALID', 'Only threads in a forum have tags.');
      }
      if (tags.length > 5) throw formError('applied_tags', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
      const known = new Set((parent.availableTags ?? []).map((tag) => tag.id));
      if (tags.some((tag) => !known.has(tag))) throw formError('applied_tags', 'BASE_TYPE_CHOICES', 'Unknown tag.');
      channel.appliedTags = [...new Set(tags)];
    }
    const json = this.#views.channelJson(channel);
    const event = THREAD_TYPES.has(channel.type) ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE';
    this.#gateway.broadcast(event, (session) => (session.intents & Intent.Guilds ? json : undefined));
    return json;
  }

  /** Copies the original message's state onto its interaction record. */
  syncInteraction(message: StoredMessage): void {
    if (!message.interaction_token) return;
    const rec = this.#state.interactionResponses.get(message.interaction_token);
    if (!rec || rec.originalMessageId !== message.id) return;
    rec.content = (message.flags & MessageFlag.Loading) !== 0 ? null : message.content;
    rec.edits = message.edits;
    rec.history = message.history;
    if (message.allowed_mentions) rec.allowed_mentions = message.allowed_mentions;
  }
}
