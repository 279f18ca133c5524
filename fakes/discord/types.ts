/** The Discord fake's public types: options, the JSON it answers with, records and the handle. */
import type { KeyObject } from 'node:crypto';

export interface FakeChannelConfig {
  id: string;
  name: string;
  /** Channel type; default 0 (guild text); 15 is a forum. */
  type?: number;
  /** A forum's tags (ids made up when left out). */
  availableTags?: Array<{ id?: string; name: string }>;
}

/** A forum's tag, as `available_tags` lists it. */
export interface ForumTag {
  id: string;
  name: string;
  moderated: boolean;
  emoji_id: string | null;
  emoji_name: string | null;
}

export interface FakeGuildConfig {
  id: string;
  name: string;
  channels: FakeChannelConfig[];
}

export interface DiscordFakeOptions {
  botUserId?: string;
  botUsername?: string;
  /** Defaults to the bot user id (as for every app created since 2020). */
  applicationId?: string;
  token?: string;
  guilds?: FakeGuildConfig[];
  /** Port to listen on (127.0.0.1). Default 0: any free port. */
  port?: number;
  /** Sent in Hello. Default 41250 ms, as Discord. */
  heartbeatIntervalMs?: number;
  /** Echo the bot's own REST/interaction messages back over the gateway, as Discord does. Default true. */
  echoBotMessages?: boolean;
  /**
   * Per-bucket limits reported in `X-RateLimit-*` (bucket = route + major parameter). Default
   * 50 requests per 1000 ms, reported but not enforced; `enforce: true` answers 429 past the limit.
   */
  rateLimit?: { limit?: number; windowMs?: number; enforce?: boolean };
  /** The initial interaction response must come within this. Default 3000 ms, as Discord. */
  interactionResponseWindowMs?: number;
  /** Interaction tokens (webhook routes) stop working after this. Default 15 minutes. */
  interactionTokenTtlMs?: number;
  /**
   * Privileged intents (GuildMembers 1<<1, GuildPresences 1<<8, MessageContent 1<<15) enabled
   * "in the developer portal"; identifying with another privileged intent closes with 4014.
   * Default: all three.
   */
  allowedPrivilegedIntents?: number;
  /**
   * The app's Interactions Endpoint URL: set, interactions are POSTed there (signed with
   * `signingKey`) instead of being sent over the gateway, as Discord does. Also settable later.
   */
  interactionsEndpoint?: string;
  /** The Ed25519 private key the fake signs HTTP interactions with; one is made up when left out. */
  signingKey?: KeyObject;
}

/** A JSON object as Discord sends it; the named fields are the ones the fake always fills. */
export interface ApiUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
  public_flags: number;
  [key: string]: unknown;
}

export interface ApiChannel {
  id: string;
  type: number;
  guild_id?: string;
  name?: string;
  [key: string]: unknown;
}

export interface ApiAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
}

export interface ApiMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: ApiUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: ApiUser[];
  mention_roles: string[];
  attachments: ApiAttachment[];
  embeds: unknown[];
  pinned: boolean;
  type: number;
  flags: number;
  message_reference?: MessageReference;
  [key: string]: unknown;
}

export interface AllowedMentions {
  parse?: string[];
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

export interface MessageReference {
  type?: number;
  message_id?: string;
  channel_id?: string;
  guild_id?: string;
  fail_if_not_exists?: boolean;
}

export interface UploadedFile {
  /** Form field, e.g. `files[0]`. */
  field: string;
  filename: string;
  size: number;
  contentType: string;
}

export interface RecordedRequest {
  method: string;
  /** Path below `/api/v10`, segments decoded, e.g. `/webhooks/1/tok/messages/@original` (no query). */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (`payload_json` for multipart), or null. */
  body: unknown;
  files: UploadedFile[];
  /** `Authorization: Bot <the right token>` came along. */
  authorized: boolean;
  /** Status answered; 0 while in flight. */
  status: number;
  at: number;
}

/** Who a message notifies, from its content, `allowed_mentions` and the reply rules. */
export interface MessagePings {
  users: string[];
  roles: string[];
  everyone: boolean;
}

export interface StoredMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author_id: string;
  /** Written by the fake's bot user: over REST, as an interaction reply or as a follow-up. */
  own: boolean;
  content: string;
  type: number;
  flags: number;
  embeds: unknown[];
  components: unknown[];
  attachments: ApiAttachment[];
  message_reference?: MessageReference;
  allowed_mentions?: AllowedMentions;
  /** `mentions` in the JSON is `pings.users`. */
  pings: MessagePings;
  nonce?: string | number;
  /** Number of edits (PATCHes, and a follow-up that filled a deferred reply). */
  edits: number;
  /** Every content the message has had, oldest first (a deferred reply's empty placeholder is left out). */
  history: string[];
  deleted: boolean;
  timestamp: string;
  edited_timestamp: string | null;
  source: 'gateway' | 'rest' | 'interaction' | 'followup';
  /** For interaction replies and follow-ups. */
  interaction_token?: string;
  webhook_id?: string;
  /** Set once a thread was started from this message (the thread's id equals the message's). */
  thread_id?: string;
  /** Extra raw fields given to `messageCreate({ extra })`, merged into the JSON. */
  extra?: Record<string, unknown>;
}

export interface InteractionRecord {
  id: string;
  token: string;
  name: string;
  channel_id: string;
  guild_id?: string;
  user_id: string;
  createdAt: number;
  /** Type of the accepted initial callback (4 message, 5 deferred, ...), null until answered. */
  callbackType: number | null;
  /** Every callback type received, including rejected second ones. */
  callbacks: number[];
  respondedAt: number | null;
  ephemeral: boolean;
  /** Id of the `@original` message, once a type 4 or 5 callback created it. */
  originalMessageId: string | null;
  /** Mirrors of the original message: current content, edit count, contents over time. */
  content: string | null;
  edits: number;
  history: string[];
  allowed_mentions?: AllowedMentions;
  /** Messages posted with `POST /webhooks/:app/:token` (not the ones that filled a deferred reply). */
  followups: StoredMessage[];
  /** 2 a command, 3 a button click. */
  type: number;
  /** A click: the message whose button was clicked (its `@original`). */
  componentMessageId?: string;
  /** A click: the button's custom id. */
  customId?: string;
  /** How it was delivered. */
  via: 'gateway' | 'http';
}

export interface ComponentInteractionInput {
  /** The message whose button is clicked. */
  messageId: string;
  customId: string;
  userId: string;
  userName?: string;
  /** The member's permissions (a decimal bitfield); default a plain member's. */
  permissions?: string;
}

/** How an interaction sent to the Interactions Endpoint URL was answered. */
export interface HttpDelivery {
  status: number;
  /** The JSON answered, or the text when it was not JSON. */
  body: unknown;
}

export interface ThreadInput {
  /** A text channel (the thread starts from `starterMessageId` when given) or a forum (a post). */
  parentId: string;
  name: string;
  /** 11 public (default), 12 private. */
  type?: number;
  starterMessageId?: string;
  /** A forum post: its tag ids. */
  appliedTags?: string[];
  ownerId?: string;
}

export interface ReactionRecord {
  channel_id: string;
  message_id: string;
  /** As in the URL, decoded: `👍` or `name:id`. */
  emoji: string;
  user_id: string;
  at: number;
}

export interface RegisteredCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  name: string;
  description: string;
  type: number;
  version: string;
  options?: unknown[];
  [key: string]: unknown;
}

export interface IdentifyRecord {
  token: string;
  intents: number;
  properties: unknown;
  shard: unknown;
  compress: boolean;
  presence: unknown;
  at: number;
}

export interface FailMatch {
  method?: string;
  /** Tested against the decoded path below `/api/v10`, e.g. `/channels/123/messages`. */
  route: RegExp;
}

export interface FailResponse {
  status: number;
  /** JSON body; a 429 defaults to `{message, retry_after, global}`, others to `{message, code: 0}`. */
  body?: unknown;
  /** For 429: `Retry-After` and `retry_after`. Default 0.05 s. */
  retryAfterSec?: number;
  /** For 429: a global limit (`X-RateLimit-Global`, scope global). */
  global?: boolean;
  headers?: Record<string, string>;
}

export type Delivery = 'gateway' | 'http' | 'both';

export interface SentInteraction {
  id: string;
  token: string;
  payload: Record<string, unknown>;
  /** With HTTP delivery: how the endpoint answered. */
  http?: Promise<HttpDelivery>;
}

export interface MessageCreateInput {
  channelId: string;
  /** Inferred from the channel when omitted; a channel the fake doesn't know becomes a DM. */
  guildId?: string;
  authorId: string;
  authorName?: string;
  content: string;
  /** Put the bot user in `mentions`. `<@id>` in the content is detected anyway. */
  mentionsBot?: boolean;
  /** The author is a bot (another bot, not the fake's). */
  bot?: boolean;
  messageReference?: { message_id: string; channel_id: string; guild_id?: string };
  /** A reply pings the replied-to author unless false (Discord's default "@ on"). */
  replyPing?: boolean;
  /** Default 0, or 19 with messageReference. */
  type?: number;
  id?: string;
  /** Extra raw fields merged into the payload (attachments, embeds, sticker_items, ...). */
  extra?: Record<string, unknown>;
}

export interface InteractionOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: InteractionOption[];
  focused?: boolean;
}

export interface InteractionCreateInput {
  name: string;
  options?: InteractionOption[];
  channelId: string;
  /** Inferred from the channel when omitted; a channel the fake doesn't know becomes a DM. */
  guildId?: string;
  userId: string;
  userName?: string;
  /** Defaults to the id of the registered command with that name, or a fresh id. */
  commandId?: string;
  locale?: string;
}

export interface DiscordFake {
  /** `http://127.0.0.1:PORT/api`: give it to discord.js / @discordjs/rest as `api`. */
  readonly api: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/gateway`. */
  readonly gatewayUrl: string;
  readonly port: number;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: ApiUser;

  /** Every REST request, in arrival order (failed and unauthorized ones too). */
  readonly requests: RecordedRequest[];
  /** Reactions currently on messages (a DELETE removes the record). */
  readonly reactions: ReactionRecord[];
  /** Interaction state keyed by token. */
  readonly interactionResponses: Map<string, InteractionRecord>;
  /** Bulk-overwritten (or created) application commands. */
  readonly registeredCommands: { global: RegisteredCommand[]; guilds: Record<string, RegisteredCommand[]> };
  readonly identifies: IdentifyRecord[];
  /** Successful Resumes. */
  readonly resumes: number;
  /** Every gateway payload clients sent (heartbeats included). */
  readonly gatewayReceived: Array<{ op: number; d: unknown; at: number }>;
  /** Query of every gateway connection (`v`, `encoding`, `compress`). */
  readonly gatewayConnects: Array<{ query: Record<string, string>; at: number }>;
  /** Identified sessions with an open socket. */
  readonly connectedClients: number;

  /** All messages (the bot's and the users'), oldest first, deleted ones flagged. Live objects. */
  messages(channelId?: string): StoredMessage[];
  /** Messages written by the bot user (REST, interaction replies, follow-ups). */
  botMessages(channelId?: string): StoredMessage[];
  message(id: string): StoredMessage | undefined;
  typingCount(channelId: string): number;
  /** The next `times` requests matching get this answer instead. */
  failNext(match: FailMatch, response: FailResponse, times?: number): void;
  /** Resolves with the first truthy value of `pred`, polled every 5 ms. */
  waitFor<T>(pred: () => T, timeoutMs?: number): Promise<NonNullable<T>>;
  /** Clears every record, message, interaction, thread, DM and injected failure; clients stay connected. */
  reset(): void;
  close(): Promise<void>;

  /** Resolves once some client has identified and received READY + its GUILD_CREATEs (at once if one is connected). */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends `op 0` with the next sequence to every identified session, unfiltered. Returns how many. */
  dispatch(t: string, d: unknown): number;
  messageCreate(input: MessageCreateInput): ApiMessage;
  /**
   * A slash command. Sent over the gateway, or POSTed (signed) to the Interactions Endpoint URL
   * when one is set: `http` then resolves with how it was answered. `deliver: 'both'` sends it both
   * ways (a bot must handle it once).
   */
  interactionCreate(input: InteractionCreateInput & { deliver?: Delivery }): SentInteraction;
  /** A click on a button of a message (interaction type 3), delivered like a command. */
  componentInteraction(input: ComponentInteractionInput & { deliver?: Delivery }): SentInteraction;
  /** The Interactions Endpoint URL (as set in the developer portal), or undefined for the gateway. */
  interactionsEndpoint: string | undefined;
  /** How long the fake takes to act on an HTTP interaction's answer; until then its webhook is unknown (default 0). */
  httpAnswerDelayMs: number;
  /** The public key (hex) matching the key the fake signs HTTP interactions with: DISCORD_PUBLIC_KEY. */
  readonly publicKey: string;
  /** POSTs `body` to the endpoint as Discord would, signed; `forge` signs with another key. */
  signedPost(body: string, options?: { forge?: boolean; omitSignature?: boolean }): Promise<HttpDelivery>;
  /** A thread (or a forum post) the test side starts; THREAD_CREATE goes out. Returns its channel id. */
  createThread(input: ThreadInput): string;
  /** A forum's tags. */
  forumTags(forumId: string): ForumTag[];
  /** A thread's applied tags (a forum post's), as its last PATCH left them. */
  appliedTags(threadId: string): string[];
  /** Edits (PATCH of channel or webhook messages) answer 429 `times` times, `retryAfterSec` each. */
  rateLimitEdits(times: number, retryAfterSec?: number): void;
  /**
   * The DM channel with a user (created if needed). Discord sends bots no CHANNEL_CREATE for DMs;
   * pass `dispatch: true` to send one anyway.
   */
  dmChannel(userId: string, opts?: { userName?: string; dispatch?: boolean }): string;
  /** Op 7 Reconnect, or close the sockets with `code` (default 4000): clients resume. Returns sockets affected. */
  reconnectClients(op: 7 | 'close', code?: number): number;
  /** Op 9 Invalid Session to every connected session; `false` also forgets the sessions (clients re-identify). */
  invalidateSession(resumable: boolean): number;
}
