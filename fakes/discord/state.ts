/**
 * The fake Discord's world: users, guilds, channels, messages, interactions and commands, with
 * snowflake ids and the lookups (and their `Unknown …` errors) every part uses.
 */
import type { FakeGuildConfig, DiscordFakeOptions, StoredMessage, InteractionRecord, ReactionRecord, RegisteredCommand } from './types.ts';
import { DISCORD_EPOCH, ChannelType, PRIVILEGED_INTENTS } from './protocol.ts';
import { type UserState, type ChannelState, type GuildState, ApiError } from './internal.ts';

export class DiscordState {
  api = '';
  url = '';
  gatewayUrl = '';
  port = 0;
  readonly token: string;
  readonly applicationId: string;
  readonly opts: Required<Omit<DiscordFakeOptions, 'port' | 'rateLimit' | 'guilds' | 'interactionsEndpoint' | 'signingKey'>> & {
    rateLimit: { limit: number; windowMs: number; enforce: boolean };
  };
  readonly reactions: ReactionRecord[] = [];
  readonly interactionResponses = new Map<string, InteractionRecord>();
  readonly registeredCommands: { global: RegisteredCommand[]; guilds: Record<string, RegisteredCommand[]> } = {
    global: [],
    guilds: {},
  };
  readonly users = new Map<string, UserState>();
  readonly guilds = new Map<string, GuildState>();
  readonly channels = new Map<string, ChannelState>();
  readonly messages = new Map<string, StoredMessage>();
  readonly typing = new Map<string, number>();
  readonly interactionsById = new Map<string, InteractionRecord>();
  readonly #guildConfig: FakeGuildConfig[];
  #lastSnowflake = 0n;

  constructor(opts: DiscordFakeOptions) {
    const botUserId = opts.botUserId ?? '100000000000000001';
    this.token = opts.token ?? 'discord-test-token';
    this.applicationId = opts.applicationId ?? botUserId;
    this.opts = {
      botUserId,
      botUsername: opts.botUsername ?? 'hf-bot',
      applicationId: this.applicationId,
      token: this.token,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250,
      echoBotMessages: opts.echoBotMessages ?? true,
      interactionResponseWindowMs: opts.interactionResponseWindowMs ?? 3000,
      interactionTokenTtlMs: opts.interactionTokenTtlMs ?? 15 * 60_000,
      allowedPrivilegedIntents: opts.allowedPrivilegedIntents ?? PRIVILEGED_INTENTS,
      rateLimit: {
        limit: opts.rateLimit?.limit ?? 50,
        windowMs: opts.rateLimit?.windowMs ?? 1000,
        enforce: opts.rateLimit?.enforce ?? false,
      },
    };
    this.#guildConfig = opts.guilds ?? [
      {
        id: '200000000000000001',
        name: 'Test Guild',
        channels: [{ id: '300000000000000001', name: 'general', type: ChannelType.GuildText }],
      },
    ];
    this.users.set(botUserId, { id: botUserId, username: this.opts.botUsername, globalName: null, bot: true });
    this.#seedGuilds();
  }

  #seedGuilds(): void {
    const now = new Date().toISOString();
    for (const g of this.#guildConfig) {
      this.guilds.set(g.id, {
        id: g.id,
        name: g.name,
        ownerId: '199999999999999999',
        joinedAt: now,
        memberIds: new Set([this.opts.botUserId]),
      });
      g.channels.forEach((c, position) => {
        this.channels.set(c.id, {
          id: c.id,
          type: c.type ?? ChannelType.GuildText,
          name: c.name,
          guildId: g.id,
          parentId: null,
          position,
          lastMessageId: null,
          messageCount: 0,
          createdAt: now,
          configured: true,
          ...(c.availableTags
            ? { availableTags: c.availableTags.map((tag) => ({ id: tag.id ?? this.snowflake(), name: tag.name, moderated: false, emoji_id: null, emoji_name: null })) }
            : {}),
        });
      });
    }
  }

  /** Increasing ids shaped like real snowflakes (creation time in the top bits). */
  snowflake(): string {
    let id = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    if (id <= this.#lastSnowflake) id = this.#lastSnowflake + 1n;
    this.#lastSnowflake = id;
    return id.toString();
  }

  /** Registers a user (or updates a known one's name / bot flag; the fake's bot user stays as is). */
  ensureUser(id: string, username?: string, bot?: boolean): UserState {
    let user = this.users.get(id);
    if (!user) {
      user = { id, username: username ?? `user${id.slice(-4)}`, globalName: username ?? null, bot: bot ?? false };
      this.users.set(id, user);
    } else if (id !== this.opts.botUserId) {
      if (username !== undefined) {
        user.username = username;
        user.globalName = username;
      }
      if (bot !== undefined) user.bot = bot;
    }
    return user;
  }

  dmChannelFor(userId: string, channelId?: string): ChannelState {
    for (const ch of this.channels.values()) {
      if (ch.type === ChannelType.DM && ch.recipientId === userId && (channelId === undefined || ch.id === channelId)) return ch;
    }
    const ch: ChannelState = {
      id: channelId ?? this.snowflake(),
      type: ChannelType.DM,
      name: null,
      parentId: null,
      position: 0,
      recipientId: userId,
      lastMessageId: null,
      messageCount: 0,
      createdAt: new Date().toISOString(),
      configured: false,
    };
    this.channels.set(ch.id, ch);
    return ch;
  }

  requireGuild(id: string | undefined): GuildState {
    const guild = this.guilds.get(id ?? '');
    if (!guild) throw new ApiError(404, 10004, 'Unknown Guild');
    return guild;
  }

  requireChannel(id: string | undefined): ChannelState {
    const channel = this.channels.get(id ?? '');
    if (!channel) throw new ApiError(404, 10003, 'Unknown Channel');
    return channel;
  }

  requireMessage(channelId: string | undefined, messageId: string | undefined): StoredMessage {
    const channel = this.requireChannel(channelId);
    const message = this.messages.get(messageId ?? '');
    if (!message || message.deleted || message.channel_id !== channel.id) throw new ApiError(404, 10008, 'Unknown Message');
    return message;
  }

  typingCount(channelId: string): number {
    return this.typing.get(channelId) ?? 0;
  }

  /** Messages in `channelId` (all channels without it), oldest first. */
  messageList(channelId?: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => channelId === undefined || m.channel_id === channelId);
  }

  /** Forgets everything but the configured guilds and channels and the bot user. */
  reset(): void {
    this.interactionResponses.clear();
    this.interactionsById.clear();
    this.registeredCommands.global = [];
    this.registeredCommands.guilds = {};
    this.reactions.length = 0;
    this.messages.clear();
    this.typing.clear();
    for (const [id, ch] of this.channels) {
      if (!ch.configured) this.channels.delete(id);
      else {
        ch.lastMessageId = null;
        ch.messageCount = 0;
      }
    }
    for (const id of this.users.keys()) if (id !== this.opts.botUserId) this.users.delete(id);
    for (const guild of this.guilds.values()) guild.memberIds = new Set([this.opts.botUserId]);
  }
}
