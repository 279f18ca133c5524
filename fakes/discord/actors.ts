/**
 * The test side: the people who write to the bot (messages, slash commands, DMs).
 */
import { randomBytes } from 'node:crypto';
import type { ApiMessage, MessageReference, InteractionRecord, MessageCreateInput, InteractionCreateInput } from './types.ts';
import { MessageType, DEFAULT_PERMISSIONS } from './protocol.ts';
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

  constructor(state: DiscordState, views: Views, gateway: Gateway, messaging: Messaging) {
    this.#state = state;
    this.#views = views;
    this.#gateway = gateway;
    this.#messaging = messaging;
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

  interactionCreate(input: InteractionCreateInput): { id: string; token: string; payload: Record<string, unknown> } {
    const user = this.#state.ensureUser(input.userId, input.userName);
    const channel = this.#resolveUserChannel(input.channelId, input.guildId, user.id);
    const guild = channel.guildId ? this.#state.guilds.get(channel.guildId) : undefined;
    guild?.memberIds.add(user.id);
    const id = this.#state.snowflake();
    // Shaped like Discord's: base64url of `interaction:<id>:<secret>` (no characters that need escaping).
    const token = Buffer.from(`interaction:${id}:${randomBytes(48).toString('base64url')}`).toString('base64url');
    const guildCommands = guild ? (this.#state.registeredCommands.guilds[guild.id] ?? []) : [];
    const registered = [...this.#state.registeredCommands.global, ...guildCommands].find((c) => c.name === input.name && c.type === 1);
    const data: Record<string, unknown> = {
      id: input.commandId ?? registered?.id ?? this.#state.snowflake(),
      name: input.name,
      type: 1,
    };
    if (input.options) data.options = input.options;
    if (registered?.guild_id) data.guild_id = registered.guild_id;
    const channelJson = { ...this.#views.channelJson(channel), permissions: DEFAULT_PERMISSIONS };
    const payload: Record<string, unknown> = {
      id,
      application_id: this.#state.applicationId,
      type: 2,
      data,
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
    if (guild) {
      payload.guild_id = guild.id;
      payload.guild = { id: guild.id, locale: 'en-US', features: [] };
      payload.guild_locale = 'en-US';
      payload.member = { ...this.#views.memberJson(guild, user.id, true), permissions: DEFAULT_PERMISSIONS };
    } else {
      payload.user = this.#views.userJson(user.id);
    }
    const rec: InteractionRecord = {
      id,
      token,
      name: input.name,
      channel_id: channel.id,
      user_id: user.id,
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
    };
    if (guild) rec.guild_id = guild.id;
    this.#state.interactionResponses.set(token, rec);
    this.#state.interactionsById.set(id, rec);
    // Interactions reach every session whatever its intents.
    this.#gateway.broadcast('INTERACTION_CREATE', () => payload);
    return { id, token, payload };
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
