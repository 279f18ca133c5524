/** Discord's numbers the fake speaks: API prefix, channel and message types, flags, intents, opcodes, limits. */
export const API_PREFIX = '/api/v10';
export const DISCORD_EPOCH = 1_420_070_400_000n;

export const ChannelType = {
  GuildText: 0,
  DM: 1,
  GuildVoice: 2,
  GroupDM: 3,
  GuildCategory: 4,
  GuildAnnouncement: 5,
  AnnouncementThread: 10,
  PublicThread: 11,
  PrivateThread: 12,
  GuildStageVoice: 13,
  GuildForum: 15,
} as const;

export const MessageType = { Default: 0, Reply: 19, ChatInputCommand: 20 } as const;
export const MessageFlag = { SuppressEmbeds: 1 << 2, HasThread: 1 << 5, Ephemeral: 1 << 6, Loading: 1 << 7 } as const;

export const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  GuildMessageReactions: 1 << 10,
  DirectMessages: 1 << 12,
  DirectMessageReactions: 1 << 13,
  MessageContent: 1 << 15,
} as const;
export const PRIVILEGED_INTENTS = Intent.GuildMembers | Intent.GuildPresences | Intent.MessageContent;
/** Every intent bit Discord defines lies below 1 << 26. */
export const MAX_INTENTS = 2 ** 26 - 1;

export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
  RequestSoundboardSounds: 31,
} as const;

/** A member's usual text permissions: view, send, embed, attach, history, reactions, threads, commands. */
export const DEFAULT_PERMISSIONS = (
  (1n << 0n) | // CreateInstantInvite
  (1n << 6n) | // AddReactions
  (1n << 10n) | // ViewChannel
  (1n << 11n) | // SendMessages
  (1n << 14n) | // EmbedLinks
  (1n << 15n) | // AttachFiles
  (1n << 16n) | // ReadMessageHistory
  (1n << 17n) | // MentionEveryone
  (1n << 18n) | // UseExternalEmojis
  (1n << 20n) | // Connect
  (1n << 21n) | // Speak
  (1n << 26n) | // ChangeNickname
  (1n << 31n) | // UseApplicationCommands
  (1n << 35n) | // CreatePublicThreads
  (1n << 38n) // SendMessagesInThreads
).toString();

export const TEXT_CHANNEL_TYPES: ReadonlySet<number> = new Set([
  ChannelType.GuildText,
  ChannelType.DM,
  ChannelType.GuildVoice,
  ChannelType.GroupDM,
  ChannelType.GuildAnnouncement,
  ChannelType.AnnouncementThread,
  ChannelType.PublicThread,
  ChannelType.PrivateThread,
  ChannelType.GuildStageVoice,
]);
export const THREAD_TYPES: ReadonlySet<number> = new Set([
  ChannelType.AnnouncementThread,
  ChannelType.PublicThread,
  ChannelType.PrivateThread,
]);

export const MAX_CONTENT = 2000;
/** Dispatches kept per session for Resume. */
export const REPLAY_BUFFER = 5000;
