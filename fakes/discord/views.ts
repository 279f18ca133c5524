/**
 * The JSON shapes Discord answers with: users, members, channels, guilds, messages, reactions.
 */
import type { ApiUser, ApiChannel, ApiMessage, StoredMessage, ReactionRecord } from './types.ts';
import { ChannelType, DEFAULT_PERMISSIONS, THREAD_TYPES } from './protocol.ts';
import type { ChannelState, GuildState } from './internal.ts';
import type { DiscordState } from './state.ts';

export class Views {
  readonly #state: DiscordState;

  constructor(state: DiscordState) {
    this.#state = state;
  }

  userJson(id: string): ApiUser {
    const user = this.#state.users.get(id) ?? { id, username: `user${id.slice(-4)}`, globalName: null, bot: false };
    const json: ApiUser = {
      id: user.id,
      username: user.username,
      discriminator: '0',
      global_name: user.globalName,
      avatar: null,
      public_flags: 0,
    };
    if (user.bot) json.bot = true;
    return json;
  }

  memberJson(guild: GuildState, userId: string, withUser: boolean): Record<string, unknown> {
    const member: Record<string, unknown> = {
      roles: [],
      joined_at: userId === this.#state.opts.botUserId ? guild.joinedAt : new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      nick: null,
      avatar: null,
      banner: null,
      premium_since: null,
      communication_disabled_until: null,
    };
    if (withUser) member.user = this.userJson(userId);
    return member;
  }

  channelJson(ch: ChannelState): ApiChannel {
    if (ch.type === ChannelType.DM) {
      return {
        id: ch.id,
        type: ch.type,
        last_message_id: ch.lastMessageId,
        flags: 0,
        recipients: ch.recipientId ? [this.userJson(ch.recipientId)] : [],
      };
    }
    const base: ApiChannel = {
      id: ch.id,
      type: ch.type,
      name: ch.name ?? '',
      last_message_id: ch.lastMessageId,
      rate_limit_per_user: 0,
      flags: 0,
      parent_id: ch.parentId,
    };
    if (ch.guildId) base.guild_id = ch.guildId;
    if (THREAD_TYPES.has(ch.type)) {
      return {
        ...base,
        ...(ch.appliedTags ? { applied_tags: ch.appliedTags } : {}),
        owner_id: ch.ownerId ?? this.#state.opts.botUserId,
        message_count: ch.messageCount,
        total_message_sent: ch.messageCount,
        member_count: 1,
        thread_metadata: {
          archived: false,
          auto_archive_duration: ch.autoArchiveDuration ?? 1440,
          archive_timestamp: ch.createdAt,
          locked: false,
          create_timestamp: ch.createdAt,
        },
      };
    }
    return {
      ...base,
      position: ch.position,
      permission_overwrites: [],
      topic: null,
      nsfw: false,
      ...(ch.type === ChannelType.GuildForum ? { available_tags: ch.availableTags ?? [], default_reaction_emoji: null, default_sort_order: null, default_forum_layout: 0 } : {}),
      last_pin_timestamp: null,
      ...(ch.type === ChannelType.GuildVoice || ch.type === ChannelType.GuildStageVoice
        ? { bitrate: 64_000, user_limit: 0, rtc_region: null }
        : {}),
    };
  }

  guildJson(guild: GuildState): Record<string, unknown> {
    const channels = [...this.#state.channels.values()].filter((c) => c.guildId === guild.id);
    const members = [...guild.memberIds].map((id) => this.memberJson(guild, id, true));
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      icon_hash: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      application_id: null,
      system_channel_id: channels.find((c) => c.type === ChannelType.GuildText)?.id ?? null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      max_members: 500_000,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      vanity_url_code: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      nsfw: false,
      features: [],
      roles: [
        {
          id: guild.id,
          name: '@everyone',
          color: 0,
          colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
          hoist: false,
          icon: null,
          unicode_emoji: null,
          position: 0,
          permissions: DEFAULT_PERMISSIONS,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      emojis: [],
      stickers: [],
      soundboard_sounds: [],
      // GUILD_CREATE extras
      joined_at: guild.joinedAt,
      large: false,
      unavailable: false,
      lazy: true,
      member_count: members.length,
      members,
      channels: channels.filter((c) => !THREAD_TYPES.has(c.type)).map((c) => this.channelJson(c)),
      threads: channels.filter((c) => THREAD_TYPES.has(c.type)).map((c) => this.channelJson(c)),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      embedded_activities: [],
      hub_type: null,
      incidents_data: null,
    };
  }

  /**
   * A message as Discord serializes it. `gateway` adds what MESSAGE_CREATE carries beyond the REST
   * object: the author's `member` in guilds and `channel_type`.
   */
  messageJson(m: StoredMessage, gateway: boolean, withReferenced = true): ApiMessage {
    const guild = m.guild_id ? this.#state.guilds.get(m.guild_id) : undefined;
    const mentions = m.pings.users.map((id) => {
      const u = this.userJson(id);
      return gateway && guild ? { ...u, member: this.memberJson(guild, id, false) } : u;
    });
    const json: ApiMessage = {
      id: m.id,
      channel_id: m.channel_id,
      author: this.userJson(m.author_id),
      content: m.content,
      timestamp: m.timestamp,
      edited_timestamp: m.edited_timestamp,
      tts: false,
      mention_everyone: m.pings.everyone,
      mentions,
      mention_roles: m.pings.roles,
      attachments: m.attachments,
      embeds: m.embeds,
      components: m.components,
      pinned: false,
      type: m.type,
      flags: m.flags,
    };
    if (m.guild_id) json.guild_id = m.guild_id;
    if (gateway && guild && !m.webhook_id) json.member = this.memberJson(guild, m.author_id, false);
    if (gateway) json.channel_type = this.#state.channels.get(m.channel_id)?.type ?? ChannelType.GuildText;
    if (m.nonce !== undefined) json.nonce = m.nonce;
    if (m.webhook_id) {
      json.webhook_id = m.webhook_id;
      json.application_id = this.#state.applicationId;
    }
    if (m.interaction_token) {
      const rec = this.#state.interactionResponses.get(m.interaction_token);
      if (rec) {
        const user = this.userJson(rec.user_id);
        json.interaction_metadata = {
          id: rec.id,
          type: 2,
          name: rec.name,
          command_type: 1,
          user,
          authorizing_integration_owners: rec.guild_id ? { '0': rec.guild_id } : { '0': '0' },
          ...(m.source === 'followup' && rec.originalMessageId ? { original_response_message_id: rec.originalMessageId } : {}),
        };
        json.interaction = { id: rec.id, type: 2, name: rec.name, user };
      }
    }
    if (m.message_reference) {
      json.message_reference = m.message_reference;
      if (withReferenced && m.message_reference.message_id) {
        const ref = this.#state.messages.get(m.message_reference.message_id);
        json.referenced_message = ref && !ref.deleted ? this.messageJson(ref, gateway, false) : null;
      }
    }
    if (m.thread_id) {
      const thread = this.#state.channels.get(m.thread_id);
      if (thread) json.thread = this.channelJson(thread);
    }
    const reactions = this.#reactionSummary(m.id);
    if (reactions.length > 0) json.reactions = reactions;
    return m.extra ? { ...json, ...m.extra } : json;
  }

  #reactionSummary(messageId: string): unknown[] {
    const byEmoji = new Map<string, ReactionRecord[]>();
    for (const r of this.#state.reactions) {
      if (r.message_id !== messageId) continue;
      byEmoji.set(r.emoji, [...(byEmoji.get(r.emoji) ?? []), r]);
    }
    return [...byEmoji.entries()].map(([emoji, list]) => ({
      count: list.length,
      count_details: { burst: 0, normal: list.length },
      me: list.some((r) => r.user_id === this.#state.opts.botUserId),
      me_burst: false,
      burst_colors: [],
      emoji: this.emojiJson(emoji),
    }));
  }

  emojiJson(emoji: string): { id: string | null; name: string } {
    const custom = /^a?:?([\w~]+):(\d+)$/.exec(emoji);
    return custom ? { id: custom[2] ?? null, name: custom[1] ?? '' } : { id: null, name: emoji };
  }
}
