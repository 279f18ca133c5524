/**
 * The test side: the people who write to the bot (messages, slash commands, DMs).
 */
import { randomBytes } from 'node:crypto';
import { isRecord } from '../http.ts';
import type { HttpDeliveries } from './http-delivery.ts';
import type {
  ApiMessage,
  ComponentInteractionInput,
  Delivery,
  MessageReference,
  InteractionRecord,
  MessageCreateInput,
  InteractionCreateInput,
  SentInteraction,
  StoredMessage,
  ThreadInput,
} from './types.ts';
import { ChannelType, Intent, MessageType, DEFAULT_PERMISSIONS } from './protocol.ts';
import { type ChannelState, parseContentMentions } from './internal.ts';
import type { DiscordState } from './state.ts';
import type { Views } from './views.ts';
import type { Gateway } from './gateway.ts';
import type { Messaging } from './messaging.ts';

export class Actors {
  readonly #state: DiscordState;
  readonly #views: Views;
  readonly #gateway: Gateway;
  readonly #messaging: Messaging;
  readonly #http: HttpDeliveries;

  constructor(state: DiscordState, views: Views, gateway: Gateway, messaging: Messaging, http: HttpDeliveries) {
    this.#state = state;
    this.#views = views;
    this.#gateway = gateway;
    this.#messaging = messaging;
    this.#http = http;
  }

  messageCreate(input: MessageCreateInput): ApiMessage {
    const author = this.#state.ensureUser(input.authorId, input.authorName, input.bot);
    const channel = this.#resolveUserChannel(input.channelId, input.guildId, author.id);
    const guild = channel.guildId ? this.#state.guilds.get(channel.guildId) : undefined;
    guild?.memberIds.add(author.id);

    const parsed = parseContentMentions(input.content);
    const users = parsed.users.filter((id) => this.#state.users.has(id));
    if (input.mentionsBot && !users.includes(this.#state.opts.botUserId)) users.push(this.#state.opts.botUserId);
    let reference: MessageReference | undefined;
    if (input.messageReference) {
      reference = { type: 0, ...input.messageReference };
      if (!reference.guild_id && channel.guildId) reference.guild_id = channel.guildId;
      const target = this.#state.messages.get(input.messageReference.message_id);
      if (target && input.replyPing !== false && !users.includes(target.author_id)) users.push(target.author_id);
    }
    const message = this.#messaging.storeMessage({
      id: input.id,
      channel,
      authorId: author.id,
      own: false,
      content: input.content,
      embeds: [],
      components: [],
      attachments: [],
      type: input.type ?? (reference ? MessageType.Reply : MessageType.Default),
      flags: 0,
      reference,
      pings: { users, roles: parsed.roles, everyone: parsed.everyone },
      source: 'gateway',
      extra: input.extra,
    });
    this.#gateway.dispatchMessage('MESSAGE_CREATE', message);
    return this.#views.messageJson(message, true);
  }

  interactionCreate(input: InteractionCreateInput & { deliver?: Delivery }): SentInteraction {
    const user = this.#state.ensureUser(input.userId, input.userName);
    const channel = this.#resolveUserChannel(input.channelId, input.guildId, user.id);
    const guild = channel.guildId ? this.#state.guilds.get(channel.guildId) : undefined;
    const guildCommands = guild ? (this.#state.registeredCommands.guilds[guild.id] ?? []) : [];
    const registered = [...this.#state.registeredCommands.global, ...guildCommands].find((c) => c.name === input.name && c.type === 1);
    const data: Record<string, unknown> = {
      id: input.commandId ?? registered?.id ?? this.#state.snowflake(),
      name: input.name,
      type: 1,
    };
    if (input.options) data.options = input.options;
    if (registered?.guild_id) data.guild_id = registered.guild_id;
    return this.#send({ type: 2, name: input.name, channel, userId: user.id, data, locale: input.locale, deliver: input.deliver });
  }

  /** A click on one of a message's buttons. */
  componentInteraction(input: ComponentInteractionInput & { deliver?: Delivery }): SentInteraction {
    const user = this.#state.ensureUser(input.userId, input.userName);
    const message = this.#state.messages.get(input.messageId);
    if (!message || message.deleted) throw new Error(`discord fake: no message ${input.messageId} to click`);
    const buttons = message.components.flatMap((row) => (isRecord(row) && Array.isArray(row.components) ? row.components : []));
    const button = buttons.find((component) => isRecord(component) && component.custom_id === input.customId);
    if (!button) throw new Error(`discord fake: message ${input.messageId} has no button ${input.customId}`);
    const channel = this.#state.requireChannel(message.channel_id);
    return this.#send({
      type: 3,
      name: '',
      channel,
      userId: user.id,
      data: { custom_id: input.customId, component_type: 2 },
      message,
      permissions: input.permissions,
      deliver: input.deliver,
    });
  }

  #send(input: {
    type: 2 | 3;
    name: string;
    channel: ChannelState;
    userId: string;
    data: Record<string, unknown>;
    message?: StoredMessage;
    permissions?: string | undefined;
    locale?: string | undefined;
    deliver?: Delivery | undefined;
  }): SentInteraction {
    const { channel, userId } = input;
    const guild = channel.guildId ? this.#state.guilds.get(channel.guildId) : undefined;
    guild?.memberIds.add(userId);
    const id = this.#state.snowflake();
    // Shaped like Discord's: base64url of `interaction:<id>:<secret>` (no characters that need escaping).
    const token = Buffer.from(`interaction:${id}:${randomBytes(48).toString('base64url')}`).toString('base64url');
    const channelJson = { ...this.#views.channelJson(channel), permissions: DEFAULT_PERMISSIONS };
    const payload: Record<string, unknown> = {
      id,
      application_id: this.#state.applicationId,
      type: input.type,
      data: input.data,
      channel: channelJson,
      channel_id: channel.id,
      token,
      version: 1,
      app_permissions: DEFAULT_PERMISSIONS,
      locale: input.locale ?? 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guild?.id ?? '0' },
      context: guild ? 0 : 1,
      attachment_size_limit: 10_485_760,
    };
    if (input.message) payload.message = this.#views.messageJson(input.message, false);
    if (guild) {
      payload.guild_id = guild.id;
      payload.guild = { id: guild.id, locale: 'en-US', features: [] };
      payload.guild_locale = 'en-US';
      payload.member = { ...this.#views.memberJson(guild, userId, true), permissions: input.permissions ?? DEFAULT_PERMISSIONS };
    } else {
      payload.user = this.#views.userJson(userId);
    }
    const deliver = input.deliver ?? (this.#http.endpoint ? 'http' : 'gateway');
    const rec: InteractionRecord = {
      id,
      token,
      name: input.name,
      channel_id: channel.id,
      user_id: userId,
      createdAt: Date.now(),
      callbackType: null,
      callbacks: [],
      respondedAt: null,
      ephemeral: false,
      originalMessageId: null,
      content: null,
      edits: 0,
      history: [],
      followups: [],
      type: input.type,
      via: deliver === 'gateway' ? 'gateway' : 'http',
    };
    if (guild) rec.guild_id = guild.id;
    if (input.message) rec.componentMessageId = input.message.id;
    if (typeof input.data.custom_id === 'string') rec.customId = input.data.custom_id;
    this.#state.interactionResponses.set(token, rec);
    this.#state.interactionsById.set(id, rec);
    // Interactions reach every session whatever its intents.
    if (deliver !== 'http') this.#gateway.broadcast('INTERACTION_CREATE', () => payload);
    if (deliver === 'gateway') return { id, token, payload };
    const http = this.#http.deliver(rec, payload);
    http.catch(() => undefined); // the test awaits it when it cares
    return { id, token, payload, http };
  }

  /** A thread or forum post started by someone (the bot's own go through REST). */
  createThread(input: ThreadInput): string {
    const parent = this.#state.requireChannel(input.parentId);
    if (!parent.guildId) throw new Error('discord fake: threads live in guild channels');
    const forum = parent.type === ChannelType.GuildForum;
    const id = input.starterMessageId ?? this.#state.snowflake();
    if (input.appliedTags && !forum) throw new Error('discord fake: only forum posts have tags');
    const known = new Set((parent.availableTags ?? []).map((tag) => tag.id));
    for (const tag of input.appliedTags ?? []) if (!known.has(tag)) throw new Error(`discord fake: forum ${parent.id} has no tag ${tag}`);
    const thread: ChannelState = {
      id,
      type: input.type ?? ChannelType.PublicThread,
      name: input.name,
      guildId: parent.guildId,
      parentId: parent.id,
      position: 0,
      lastMessageId: null,
      ownerId: input.ownerId ?? '199999999999999999',
      autoArchiveDuration: 1440,
      messageCount: 0,
      createdAt: new Date().toISOString(),
      configured: false,
      ...(forum ? { appliedTags: [...(input.appliedTags ?? [])] } : {}),
    };
    this.#state.channels.set(id, thread);
    const starter = input.starterMessageId ? this.#state.messages.get(input.starterMessageId) : undefined;
    if (starter) starter.thread_id = id;
    const json = { ...this.#views.channelJson(thread), newly_created: true };
    this.#gateway.broadcast('THREAD_CREATE', (session) => (session.intents & Intent.Guilds ? json : undefined));
    return id;
  }

  dmChannel(userId: string, opts: { userName?: string; dispatch?: boolean } = {}): string {
    this.#state.ensureUser(userId, opts.userName);
    const channel = this.#state.dmChannelFor(userId);
    if (opts.dispatch) {
      const json = this.#views.channelJson(channel);
      this.#gateway.broadcast('CHANNEL_CREATE', () => json);
    }
    return channel.id;
  }

  /** The channel a user event happens in: a known channel, or a DM created on the spot. */
  #resolveUserChannel(channelId: string, guildId: string | undefined, userId: string): ChannelState {
    const known = this.#state.channels.get(channelId);
    if (known) {
      if (guildId !== undefined && known.guildId !== guildId) {
        throw new Error(`discord fake: channel ${channelId} is not in guild ${guildId}`);
      }
      return known;
    }
    if (guildId !== undefined) throw new Error(`discord fake: unknown channel ${channelId} in guild ${guildId}`);
    return this.#state.dmChannelFor(userId, channelId);
  }
}
