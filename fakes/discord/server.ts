/**
 * A loopback fake of Discord: REST API v10 and the Gateway on one port, keeping message state, for
 * driving the real discord.js `Client` and `@discordjs/rest` `REST` in tests without the network.
 *
 * - REST lives under `${api}/v10` (`api` is `http://127.0.0.1:PORT/api`, the value discord.js takes
 *   as `rest: { api }`). Bot routes need `Authorization: Bot <token>`; interaction callback and
 *   webhook routes need none, as on Discord. Every answer carries `X-RateLimit-*` headers.
 * - The Gateway is at `ws://127.0.0.1:PORT/gateway` (what `GET /gateway/bot` answers). It speaks
 *   JSON text frames only: a `compress` query or `compress: true` in Identify is recorded and
 *   ignored, which @discordjs/ws handles (it parses every text frame as plain JSON).
 * - Messages the bot writes over REST are echoed back as MESSAGE_CREATE / MESSAGE_UPDATE /
 *   MESSAGE_DELETE, as Discord does, filtered by each session's intents; without the
 *   MessageContent intent the content is blanked except in DMs, mentions and the bot's own messages.
 * - Dispatches to a session whose socket dropped are buffered; a Resume replays them.
 *
 * Tests drive the "user" side with `messageCreate()`, `interactionCreate()` and `dispatch()`, and
 * assert on what the bot did through `messages()`, `interactionResponses`, `requests`, and so on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket, type RawData } from 'ws';

// ---------------------------------------------------------------------------------------------
// Public types

export interface FakeChannelConfig {
  id: string;
  name: string;
  /** Channel type; default 0 (guild text). */
  type?: number;
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
  interactionCreate(input: InteractionCreateInput): { id: string; token: string; payload: Record<string, unknown> };
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

// ---------------------------------------------------------------------------------------------
// Constants

const API_PREFIX = '/api/v10';
const DISCORD_EPOCH = 1_420_070_400_000n;

const ChannelType = {
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

const MessageType = { Default: 0, Reply: 19, ChatInputCommand: 20 } as const;
const MessageFlag = { SuppressEmbeds: 1 << 2, HasThread: 1 << 5, Ephemeral: 1 << 6, Loading: 1 << 7 } as const;

const Intent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  GuildMessageReactions: 1 << 10,
  DirectMessages: 1 << 12,
  DirectMessageReactions: 1 << 13,
  MessageContent: 1 << 15,
} as const;
const PRIVILEGED_INTENTS = Intent.GuildMembers | Intent.GuildPresences | Intent.MessageContent;
/** Every intent bit Discord defines lies below 1 << 26. */
const MAX_INTENTS = 2 ** 26 - 1;

const Op = {
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
const DEFAULT_PERMISSIONS = (
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

const TEXT_CHANNEL_TYPES: ReadonlySet<number> = new Set([
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
const THREAD_TYPES: ReadonlySet<number> = new Set([
  ChannelType.AnnouncementThread,
  ChannelType.PublicThread,
  ChannelType.PrivateThread,
]);

const MAX_CONTENT = 2000;
/** Dispatches kept per session for Resume. */
const REPLAY_BUFFER = 5000;

// ---------------------------------------------------------------------------------------------
// Internal state types

interface UserState {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
}

interface ChannelState {
  id: string;
  type: number;
  name: string | null;
  guildId?: string;
  parentId: string | null;
  position: number;
  /** DMs: the other user. */
  recipientId?: string;
  lastMessageId: string | null;
  /** Threads. */
  ownerId?: string;
  autoArchiveDuration?: number;
  messageCount: number;
  createdAt: string;
  /** Part of the configured guilds (survives reset()). */
  configured: boolean;
}

interface GuildState {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  /** Users seen in this guild (the bot included); they appear in GUILD_CREATE and member routes. */
  memberIds: Set<string>;
}

interface GatewayFrame {
  op: number;
  d: unknown;
  s: number | null;
  t: string | null;
}

interface GatewaySession {
  id: string;
  intents: number;
  seq: number;
  /** Dispatches sent (or due) on this session, for Resume. */
  buffer: GatewayFrame[];
  conn: GatewayConnection | null;
  /** READY and the GUILD_CREATEs went out. */
  ready: boolean;
}

interface GatewayConnection {
  ws: WebSocket;
  session: GatewaySession | null;
}

interface PendingFailure {
  match: FailMatch;
  response: FailResponse;
  remaining: number;
}

interface RestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: ParsedFile[];
}

interface ParsedFile extends UploadedFile {
  /** `files[N]` → N; matches `attachments[].id` in the payload. */
  index: string;
}

/** The content-bearing parts of a message body. */
interface MessageParts {
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: ApiAttachment[];
}

interface RestResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  auth: boolean;
  handler: (ctx: RestContext) => RestResult;
}

/** An error answered as Discord's JSON error body. */
class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  readonly errors: unknown;

  constructor(status: number, code: number, message: string, errors?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function optString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function isSnowflake(value: string): boolean {
  return /^\d{1,20}$/.test(value);
}

/** Discord's "Invalid Form Body" (50035) with one field error. */
function formError(field: string, code: string, message: string): ApiError {
  return new ApiError(400, 50035, 'Invalid Form Body', { [field]: { _errors: [{ code, message }] } });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Mentions written in message content. */
function parseContentMentions(content: string): { users: string[]; roles: string[]; everyone: boolean } {
  const users = [...content.matchAll(/<@!?(\d{1,20})>/g)].map((m) => m[1] ?? '');
  const roles = [...content.matchAll(/<@&(\d{1,20})>/g)].map((m) => m[1] ?? '');
  return { users: [...new Set(users)], roles: [...new Set(roles)], everyone: /@(everyone|here)\b/.test(content) };
}

/** Content length as Discord counts it (code points). */
function contentLength(content: string): number {
  return [...content].length;
}

// ---------------------------------------------------------------------------------------------
// The fake

class FakeDiscordServer implements DiscordFake {
  api = '';
  url = '';
  gatewayUrl = '';
  port = 0;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: ApiUser;

  readonly requests: RecordedRequest[] = [];
  readonly reactions: ReactionRecord[] = [];
  readonly interactionResponses = new Map<string, InteractionRecord>();
  readonly registeredCommands: { global: RegisteredCommand[]; guilds: Record<string, RegisteredCommand[]> } = {
    global: [],
    guilds: {},
  };
  readonly identifies: IdentifyRecord[] = [];
  readonly gatewayReceived: Array<{ op: number; d: unknown; at: number }> = [];
  readonly gatewayConnects: Array<{ query: Record<string, string>; at: number }> = [];

  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<Socket>();
  readonly #routes: Route[];
  readonly #opts: Required<Omit<DiscordFakeOptions, 'port' | 'rateLimit' | 'guilds'>> & {
    rateLimit: { limit: number; windowMs: number; enforce: boolean };
  };
  readonly #guildConfig: FakeGuildConfig[];

  #lastSnowflake = 0n;
  #resumes = 0;
  readonly #users = new Map<string, UserState>();
  readonly #guilds = new Map<string, GuildState>();
  readonly #channels = new Map<string, ChannelState>();
  readonly #messages = new Map<string, StoredMessage>();
  readonly #typing = new Map<string, number>();
  readonly #interactionsById = new Map<string, InteractionRecord>();
  readonly #failures: PendingFailure[] = [];
  readonly #buckets = new Map<string, { count: number; resetAt: number }>();
  readonly #connections = new Set<GatewayConnection>();
  readonly #sessions = new Map<string, GatewaySession>();
  #readyWaiters: Array<() => void> = [];

  constructor(opts: DiscordFakeOptions) {
    const botUserId = opts.botUserId ?? '100000000000000001';
    this.token = opts.token ?? 'discord-test-token';
    this.applicationId = opts.applicationId ?? botUserId;
    this.#opts = {
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
    this.#users.set(botUserId, { id: botUserId, username: this.#opts.botUsername, globalName: null, bot: true });
    this.botUser = this.#userJson(botUserId);
    this.#seedGuilds();
    this.#routes = this.#buildRoutes();

    this.#server = createServer((req, res) => {
      this.#handleHttp(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#send(res, { status: 500, body: { message: String(err), code: 0 } }, {});
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (pathname !== '/gateway' && pathname !== '/gateway/') {
        socket.destroy();
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onGatewayConnection(ws, req));
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.#server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.api = `${this.url}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${this.port}/gateway`;
  }

  // -------------------------------------------------------------------------------------------
  // State setup

  #seedGuilds(): void {
    const now = new Date().toISOString();
    for (const g of this.#guildConfig) {
      this.#guilds.set(g.id, {
        id: g.id,
        name: g.name,
        ownerId: '199999999999999999',
        joinedAt: now,
        memberIds: new Set([this.#opts.botUserId]),
      });
      g.channels.forEach((c, position) => {
        this.#channels.set(c.id, {
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
        });
      });
    }
  }

  /** Increasing ids shaped like real snowflakes (creation time in the top bits). */
  #snowflake(): string {
    let id = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    if (id <= this.#lastSnowflake) id = this.#lastSnowflake + 1n;
    this.#lastSnowflake = id;
    return id.toString();
  }

  /** Registers a user (or updates a known one's name / bot flag; the fake's bot user stays as is). */
  #ensureUser(id: string, username?: string, bot?: boolean): UserState {
    let user = this.#users.get(id);
    if (!user) {
      user = { id, username: username ?? `user${id.slice(-4)}`, globalName: username ?? null, bot: bot ?? false };
      this.#users.set(id, user);
    } else if (id !== this.#opts.botUserId) {
      if (username !== undefined) {
        user.username = username;
        user.globalName = username;
      }
      if (bot !== undefined) user.bot = bot;
    }
    return user;
  }

  #dmChannelFor(userId: string, channelId?: string): ChannelState {
    for (const ch of this.#channels.values()) {
      if (ch.type === ChannelType.DM && ch.recipientId === userId && (channelId === undefined || ch.id === channelId)) return ch;
    }
    const ch: ChannelState = {
      id: channelId ?? this.#snowflake(),
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
    this.#channels.set(ch.id, ch);
    return ch;
  }

  // -------------------------------------------------------------------------------------------
  // JSON views

  #userJson(id: string): ApiUser {
    const user = this.#users.get(id) ?? { id, username: `user${id.slice(-4)}`, globalName: null, bot: false };
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

  #memberJson(guild: GuildState, userId: string, withUser: boolean): Record<string, unknown> {
    const member: Record<string, unknown> = {
      roles: [],
      joined_at: userId === this.#opts.botUserId ? guild.joinedAt : new Date(0).toISOString(),
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
    if (withUser) member.user = this.#userJson(userId);
    return member;
  }

  #channelJson(ch: ChannelState): ApiChannel {
    if (ch.type === ChannelType.DM) {
      return {
        id: ch.id,
        type: ch.type,
        last_message_id: ch.lastMessageId,
        flags: 0,
        recipients: ch.recipientId ? [this.#userJson(ch.recipientId)] : [],
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
        owner_id: ch.ownerId ?? this.#opts.botUserId,
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
      last_pin_timestamp: null,
      ...(ch.type === ChannelType.GuildVoice || ch.type === ChannelType.GuildStageVoice
        ? { bitrate: 64_000, user_limit: 0, rtc_region: null }
        : {}),
    };
  }

  #guildJson(guild: GuildState): Record<string, unknown> {
    const channels = [...this.#channels.values()].filter((c) => c.guildId === guild.id);
    const members = [...guild.memberIds].map((id) => this.#memberJson(guild, id, true));
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
      channels: channels.filter((c) => !THREAD_TYPES.has(c.type)).map((c) => this.#channelJson(c)),
      threads: channels.filter((c) => THREAD_TYPES.has(c.type)).map((c) => this.#channelJson(c)),
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
  #messageJson(m: StoredMessage, gateway: boolean, withReferenced = true): ApiMessage {
    const guild = m.guild_id ? this.#guilds.get(m.guild_id) : undefined;
    const mentions = m.pings.users.map((id) => {
      const u = this.#userJson(id);
      return gateway && guild ? { ...u, member: this.#memberJson(guild, id, false) } : u;
    });
    const json: ApiMessage = {
      id: m.id,
      channel_id: m.channel_id,
      author: this.#userJson(m.author_id),
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
    if (gateway && guild && !m.webhook_id) json.member = this.#memberJson(guild, m.author_id, false);
    if (gateway) json.channel_type = this.#channels.get(m.channel_id)?.type ?? ChannelType.GuildText;
    if (m.nonce !== undefined) json.nonce = m.nonce;
    if (m.webhook_id) {
      json.webhook_id = m.webhook_id;
      json.application_id = this.applicationId;
    }
    if (m.interaction_token) {
      const rec = this.interactionResponses.get(m.interaction_token);
      if (rec) {
        const user = this.#userJson(rec.user_id);
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
        const ref = this.#messages.get(m.message_reference.message_id);
        json.referenced_message = ref && !ref.deleted ? this.#messageJson(ref, gateway, false) : null;
      }
    }
    if (m.thread_id) {
      const thread = this.#channels.get(m.thread_id);
      if (thread) json.thread = this.#channelJson(thread);
    }
    const reactions = this.#reactionSummary(m.id);
    if (reactions.length > 0) json.reactions = reactions;
    return m.extra ? { ...json, ...m.extra } : json;
  }

  #reactionSummary(messageId: string): unknown[] {
    const byEmoji = new Map<string, ReactionRecord[]>();
    for (const r of this.reactions) {
      if (r.message_id !== messageId) continue;
      byEmoji.set(r.emoji, [...(byEmoji.get(r.emoji) ?? []), r]);
    }
    return [...byEmoji.entries()].map(([emoji, list]) => ({
      count: list.length,
      count_details: { burst: 0, normal: list.length },
      me: list.some((r) => r.user_id === this.#opts.botUserId),
      me_burst: false,
      burst_colors: [],
      emoji: this.#emojiJson(emoji),
    }));
  }

  #emojiJson(emoji: string): { id: string | null; name: string } {
    const custom = /^a?:?([\w~]+):(\d+)$/.exec(emoji);
    return custom ? { id: custom[2] ?? null, name: custom[1] ?? '' } : { id: null, name: emoji };
  }

  // -------------------------------------------------------------------------------------------
  // Inspection

  get resumes(): number {
    return this.#resumes;
  }

  get connectedClients(): number {
    let n = 0;
    for (const c of this.#connections) if (c.session && c.ws.readyState === WebSocket.OPEN) n += 1;
    return n;
  }

  messages(channelId?: string): StoredMessage[] {
    return [...this.#messages.values()].filter((m) => channelId === undefined || m.channel_id === channelId);
  }

  botMessages(channelId?: string): StoredMessage[] {
    return this.messages(channelId).filter((m) => m.own);
  }

  message(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  typingCount(channelId: string): number {
    return this.#typing.get(channelId) ?? 0;
  }

  failNext(match: FailMatch, response: FailResponse, times = 1): void {
    this.#failures.push({ match, response, remaining: times });
  }

  async waitFor<T>(pred: () => T, timeoutMs = 10_000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = pred();
      if (value) return value as NonNullable<T>;
      if (Date.now() >= deadline) {
        const recent = this.requests
          .slice(-8)
          .map((r) => `${r.method} ${r.path} → ${r.status}`)
          .join('; ');
        throw new Error(`waitFor timed out after ${timeoutMs} ms (recent requests: ${recent || 'none'})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  reset(): void {
    this.requests.length = 0;
    this.reactions.length = 0;
    this.identifies.length = 0;
    this.gatewayReceived.length = 0;
    this.gatewayConnects.length = 0;
    this.interactionResponses.clear();
    this.#interactionsById.clear();
    this.registeredCommands.global = [];
    this.registeredCommands.guilds = {};
    this.#messages.clear();
    this.#typing.clear();
    this.#failures.length = 0;
    this.#buckets.clear();
    this.#resumes = 0;
    for (const [id, ch] of this.#channels) {
      if (!ch.configured) this.#channels.delete(id);
      else {
        ch.lastMessageId = null;
        ch.messageCount = 0;
      }
    }
    for (const id of this.#users.keys()) if (id !== this.#opts.botUserId) this.#users.delete(id);
    for (const guild of this.#guilds.values()) guild.memberIds = new Set([this.#opts.botUserId]);
  }

  async close(): Promise<void> {
    for (const conn of this.#connections) conn.ws.terminate();
    this.#connections.clear();
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // HTTP plumbing

  async #handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readBody(req);
    // @discordjs/rest percent-encodes path segments (`%40original`, emoji, `:` in custom emoji):
    // record and route on the decoded segments.
    const rawPath = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const path = rawPath.split('/').map(safeDecode).join('/');
    const record: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: null,
      files: [],
      authorized: req.headers.authorization === `Bot ${this.token}`,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);

    // Route first, so even errors carry the right bucket's headers.
    let route: Route | undefined;
    let params: Record<string, string> = {};
    let methodMismatch = false;
    if (url.pathname.startsWith(`${API_PREFIX}/`)) {
      for (const candidate of this.#routes) {
        const m = candidate.pattern.exec(path);
        if (!m) continue;
        if (candidate.method !== method) {
          methodMismatch = true;
          continue;
        }
        route = candidate;
        params = { ...m.groups };
        break;
      }
    }
    const rl = this.#rateLimitHeaders(method, route?.template ?? 'unknown', params);

    let result: RestResult;
    try {
      const parsed = await this.#parseBody(req, raw);
      record.body = parsed.body;
      record.files = parsed.files.map(({ index: _index, ...file }) => file);
      const failure = this.#takeFailure(method, path);
      if (failure) {
        result = this.#failureResult(failure);
      } else if (!route) {
        result = methodMismatch
          ? { status: 405, body: { message: '405: Method Not Allowed', code: 0 } }
          : { status: 404, body: { message: '404: Not Found', code: 0 } };
      } else if (route.auth && !record.authorized) {
        result = { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      } else if (rl.exceeded) {
        const retryAfter = Number(rl.headers['X-RateLimit-Reset-After']);
        result = {
          status: 429,
          body: { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
          headers: { 'Retry-After': String(retryAfter), 'X-RateLimit-Scope': 'user' },
        };
      } else {
        result = route.handler({ method, path, params, query: url.searchParams, body: parsed.body, files: parsed.files });
      }
    } catch (err) {
      if (err instanceof ApiError) {
        const body: Record<string, unknown> = { message: err.message, code: err.code };
        if (err.errors !== undefined) body.errors = err.errors;
        result = { status: err.status, body };
      } else {
        // A bug in the fake: answer like Discord's 500 and keep the cause visible in the body.
        result = { status: 500, body: { message: `500: Internal Server Error (${String(err)})`, code: 0 } };
      }
    }
    record.status = result.status;
    this.#send(res, result, rl.headers);
  }

  #send(res: ServerResponse, result: RestResult, rateLimitHeaders: Record<string, string>): void {
    const headers: Record<string, string> = { ...rateLimitHeaders, ...result.headers };
    if (result.status === 204 || result.body === undefined) {
      res.writeHead(result.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(result.body);
    res.writeHead(result.status, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  /** JSON, or multipart with `payload_json` + `files[N]` (as discord.js sends uploads). */
  async #parseBody(req: IncomingMessage, raw: Buffer): Promise<{ body: unknown; files: ParsedFile[] }> {
    if (raw.length === 0) return { body: null, files: [] };
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const request = new Request('http://fake.local/', { method: 'POST', headers: { 'content-type': type }, body: raw });
      const form = await request.formData();
      let body: unknown = null;
      const files: ParsedFile[] = [];
      for (const [field, value] of form.entries()) {
        if (typeof value === 'string') {
          if (field === 'payload_json') body = this.#parseJson(value);
          continue;
        }
        files.push({
          field,
          index: /^files\[(\d+)\]$/.exec(field)?.[1] ?? String(files.length),
          filename: value.name,
          size: value.size,
          contentType: value.type || 'application/octet-stream',
        });
      }
      return { body, files };
    }
    return { body: this.#parseJson(raw.toString('utf8')), files: [] };
  }

  #parseJson(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
    }
  }

  #takeFailure(method: string, path: string): PendingFailure | undefined {
    const index = this.#failures.findIndex(
      (f) => (f.match.method === undefined || f.match.method.toUpperCase() === method) && f.match.route.test(path),
    );
    if (index === -1) return undefined;
    const failure = this.#failures[index];
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.#failures.splice(index, 1);
    return failure;
  }

  #failureResult(failure: PendingFailure): RestResult {
    const { status, body, retryAfterSec, global, headers } = failure.response;
    if (status !== 429) {
      return { status, body: body ?? { message: `${status}: Injected failure`, code: 0 }, headers: headers ?? {} };
    }
    const retryAfter = retryAfterSec ?? 0.05;
    const extra: Record<string, string> = {
      'Retry-After': String(retryAfter),
      'X-RateLimit-Scope': global ? 'global' : 'user',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset-After': String(retryAfter),
      'X-RateLimit-Reset': ((Date.now() + retryAfter * 1000) / 1000).toFixed(3),
    };
    if (global) extra['X-RateLimit-Global'] = 'true';
    return {
      status,
      body: body ?? { message: 'You are being rate limited.', retry_after: retryAfter, global: global ?? false },
      headers: { ...extra, ...headers },
    };
  }

  /**
   * Counts the request against its bucket (route template + major parameter) and builds the
   * `X-RateLimit-*` headers Discord sends.
   */
  #rateLimitHeaders(
    method: string,
    template: string,
    params: Record<string, string>,
  ): { headers: Record<string, string>; exceeded: boolean } {
    const { limit, windowMs } = this.#opts.rateLimit;
    const hash = createHash('sha1').update(`${method} ${template}`).digest('hex').slice(0, 32);
    const major =
      params.channel_id ??
      params.guild_id ??
      (params.token ? `${params.application_id ?? params.interaction_id ?? ''}/${params.token}` : undefined) ??
      'none';
    const key = `${hash}:${major}`;
    const now = Date.now();
    let bucket = this.#buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { count: 0, resetAt: now + windowMs };
      this.#buckets.set(key, bucket);
    }
    bucket.count += 1;
    const exceeded = this.#opts.rateLimit.enforce && bucket.count > limit;
    return {
      exceeded,
      headers: {
        'X-RateLimit-Limit': String(limit),
        'X-RateLimit-Remaining': String(Math.max(0, limit - bucket.count)),
        'X-RateLimit-Reset': (bucket.resetAt / 1000).toFixed(3),
        'X-RateLimit-Reset-After': ((bucket.resetAt - now) / 1000).toFixed(3),
        'X-RateLimit-Bucket': hash,
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // REST routes

  #buildRoutes(): Route[] {
    const routes: Route[] = [];
    const add = (method: string, template: string, auth: boolean, handler: (ctx: RestContext) => RestResult): void => {
      const source = template
        .split('/')
        .map((part) => (part.startsWith(':') ? `(?<${part.slice(1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      routes.push({ method, template, pattern: new RegExp(`^${source}$`), auth, handler });
    };
    const ok = (body: unknown, status = 200): RestResult => ({ status, body });
    const noContent: RestResult = { status: 204 };

    // Gateway discovery
    add('GET', '/gateway', false, () => ok({ url: this.gatewayUrl }));
    add('GET', '/gateway/bot', true, () =>
      ok({
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      }),
    );

    // Users and the application
    add('GET', '/users/@me', true, () =>
      ok({ ...this.#userJson(this.#opts.botUserId), verified: true, mfa_enabled: false, flags: 0, email: null, locale: 'en-US' }),
    );
    add('POST', '/users/@me/channels', true, (ctx) => {
      const recipient = optString(asRecord(ctx.body).recipient_id);
      if (!recipient || !isSnowflake(recipient)) throw formError('recipient_id', 'BASE_TYPE_REQUIRED', 'This field is required');
      this.#ensureUser(recipient);
      return ok(this.#channelJson(this.#dmChannelFor(recipient)));
    });
    add('GET', '/users/:user_id', true, (ctx) => {
      const user = this.#users.get(ctx.params.user_id ?? '');
      if (!user) throw new ApiError(404, 10013, 'Unknown User');
      return ok(this.#userJson(user.id));
    });
    const application = (): RestResult =>
      ok({
        id: this.applicationId,
        name: this.#opts.botUsername,
        icon: null,
        description: '',
        summary: '',
        type: null,
        bot_public: true,
        bot_require_code_grant: false,
        verify_key: createHash('sha256').update(this.applicationId).digest('hex'),
        flags: 0,
        team: null,
        owner: { ...this.#userJson('199999999999999999'), username: 'owner' },
        bot: this.#userJson(this.#opts.botUserId),
        redirect_uris: [],
        interactions_endpoint_url: null,
        approximate_guild_count: this.#guilds.size,
        integration_types_config: { '0': {} },
      });
    add('GET', '/applications/@me', true, application);
    add('GET', '/oauth2/applications/@me', true, application);

    // Guilds
    add('GET', '/guilds/:guild_id', true, (ctx) => {
      const { channels: _c, members: _m, threads: _t, presences: _p, voice_states: _v, ...guild } = this.#guildJson(
        this.#requireGuild(ctx.params.guild_id),
      );
      return ok(guild);
    });
    add('GET', '/guilds/:guild_id/channels', true, (ctx) => {
      const guild = this.#requireGuild(ctx.params.guild_id);
      return ok(
        [...this.#channels.values()]
          .filter((c) => c.guildId === guild.id && !THREAD_TYPES.has(c.type))
          .map((c) => this.#channelJson(c)),
      );
    });
    add('GET', '/guilds/:guild_id/members/:user_id', true, (ctx) => {
      const guild = this.#requireGuild(ctx.params.guild_id);
      const userId = ctx.params.user_id ?? '';
      if (!guild.memberIds.has(userId)) throw new ApiError(404, 10007, 'Unknown Member');
      return ok(this.#memberJson(guild, userId, true));
    });

    // Channels and messages
    add('GET', '/channels/:channel_id', true, (ctx) => ok(this.#channelJson(this.#requireChannel(ctx.params.channel_id))));
    add('GET', '/channels/:channel_id/messages', true, (ctx) => ok(this.#listMessages(ctx)));
    add('POST', '/channels/:channel_id/messages', true, (ctx) => ok(this.#postChannelMessage(ctx)));
    add('GET', '/channels/:channel_id/messages/:message_id', true, (ctx) =>
      ok(this.#messageJson(this.#requireMessage(ctx.params.channel_id, ctx.params.message_id), false)),
    );
    add('PATCH', '/channels/:channel_id/messages/:message_id', true, (ctx) => {
      const message = this.#requireMessage(ctx.params.channel_id, ctx.params.message_id);
      const body = asRecord(ctx.body);
      if (!message.own && ('content' in body || 'embeds' in body || 'attachments' in body)) {
        throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
      }
      this.#editMessage(message, body, ctx.files);
      return ok(this.#messageJson(message, false));
    });
    add('DELETE', '/channels/:channel_id/messages/:message_id', true, (ctx) => {
      this.#deleteMessage(this.#requireMessage(ctx.params.channel_id, ctx.params.message_id));
      return noContent;
    });
    add('POST', '/channels/:channel_id/typing', true, (ctx) => {
      const channel = this.#requireChannel(ctx.params.channel_id);
      this.#typing.set(channel.id, this.typingCount(channel.id) + 1);
      return noContent;
    });
    add('PUT', '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me', true, (ctx) => {
      const message = this.#requireMessage(ctx.params.channel_id, ctx.params.message_id);
      this.#addReaction(message, this.#checkEmoji(ctx.params.emoji), this.#opts.botUserId);
      return noContent;
    });
    add('DELETE', '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me', true, (ctx) => {
      const message = this.#requireMessage(ctx.params.channel_id, ctx.params.message_id);
      this.#removeReaction(message, this.#checkEmoji(ctx.params.emoji), this.#opts.botUserId);
      return noContent;
    });
    add('DELETE', '/channels/:channel_id/messages/:message_id/reactions/:emoji/:user_id', true, (ctx) => {
      const message = this.#requireMessage(ctx.params.channel_id, ctx.params.message_id);
      this.#removeReaction(message, this.#checkEmoji(ctx.params.emoji), ctx.params.user_id ?? '');
      return noContent;
    });
    add('POST', '/channels/:channel_id/messages/:message_id/threads', true, (ctx) => ok(this.#startThread(ctx, true), 201));
    add('POST', '/channels/:channel_id/threads', true, (ctx) => ok(this.#startThread(ctx, false), 201));

    // Application commands
    for (const scoped of [false, true]) {
      const base = scoped ? '/applications/:application_id/guilds/:guild_id/commands' : '/applications/:application_id/commands';
      add('GET', base, true, (ctx) => ok(this.#commandList(ctx)));
      add('PUT', base, true, (ctx) => ok(this.#overwriteCommands(ctx)));
      add('POST', base, true, (ctx) => {
        const { command, created } = this.#upsertCommand(ctx);
        return ok(command, created ? 201 : 200);
      });
    }

    // Interactions (no bot token needed)
    add('POST', '/interactions/:interaction_id/:token/callback', false, (ctx) => this.#interactionCallback(ctx));
    add('GET', '/webhooks/:application_id/:token/messages/@original', false, (ctx) =>
      ok(this.#messageJson(this.#webhookMessage(ctx, '@original'), false)),
    );
    add('PATCH', '/webhooks/:application_id/:token/messages/@original', false, (ctx) =>
      ok(this.#editWebhookMessage(ctx, '@original')),
    );
    add('DELETE', '/webhooks/:application_id/:token/messages/@original', false, (ctx) => {
      this.#deleteMessage(this.#webhookMessage(ctx, '@original'));
      return noContent;
    });
    add('POST', '/webhooks/:application_id/:token', false, (ctx) => ok(this.#followUp(ctx)));
    add('GET', '/webhooks/:application_id/:token/messages/:message_id', false, (ctx) =>
      ok(this.#messageJson(this.#webhookMessage(ctx, ctx.params.message_id ?? ''), false)),
    );
    add('PATCH', '/webhooks/:application_id/:token/messages/:message_id', false, (ctx) =>
      ok(this.#editWebhookMessage(ctx, ctx.params.message_id ?? '')),
    );
    add('DELETE', '/webhooks/:application_id/:token/messages/:message_id', false, (ctx) => {
      this.#deleteMessage(this.#webhookMessage(ctx, ctx.params.message_id ?? ''));
      return noContent;
    });
    return routes;
  }

  #requireGuild(id: string | undefined): GuildState {
    const guild = this.#guilds.get(id ?? '');
    if (!guild) throw new ApiError(404, 10004, 'Unknown Guild');
    return guild;
  }

  #requireChannel(id: string | undefined): ChannelState {
    const channel = this.#channels.get(id ?? '');
    if (!channel) throw new ApiError(404, 10003, 'Unknown Channel');
    return channel;
  }

  #requireMessage(channelId: string | undefined, messageId: string | undefined): StoredMessage {
    const channel = this.#requireChannel(channelId);
    const message = this.#messages.get(messageId ?? '');
    if (!message || message.deleted || message.channel_id !== channel.id) throw new ApiError(404, 10008, 'Unknown Message');
    return message;
  }

  /** A reaction emoji from the (decoded) path: a unicode emoji or `name:id`; a bare word is unknown. */
  #checkEmoji(emoji: string | undefined): string {
    if (!emoji || /^\w+$/.test(emoji)) throw new ApiError(400, 10014, 'Unknown Emoji');
    return emoji;
  }

  /** `GET /channels/:id/messages?limit&before&after&around`, newest first. */
  #listMessages(ctx: RestContext): ApiMessage[] {
    const channel = this.#requireChannel(ctx.params.channel_id);
    const limit = Number(ctx.query.get('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw formError('limit', 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 100.');
    }
    const before = ctx.query.get('before');
    const after = ctx.query.get('after');
    const around = ctx.query.get('around');
    let list = this.messages(channel.id)
      .filter((m) => !m.deleted && (m.flags & MessageFlag.Ephemeral) === 0)
      .sort((a, b) => compareIds(b.id, a.id));
    if (before) list = list.filter((m) => compareIds(m.id, before) < 0);
    if (after) list = list.filter((m) => compareIds(m.id, after) > 0).reverse().slice(0, limit).reverse();
    if (around) {
      const newer = list.filter((m) => compareIds(m.id, around) >= 0).slice(-Math.ceil(limit / 2));
      const older = list.filter((m) => compareIds(m.id, around) < 0).slice(0, Math.floor(limit / 2));
      list = [...newer, ...older];
    }
    return list.slice(0, limit).map((m) => this.#messageJson(m, false));
  }

  /** Content, embeds, components and attachments of a create/edit body, validated as Discord does. */
  #messageParts(
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
      const id = this.#snowflake();
      const filename = optString(meta?.filename) ?? file.filename;
      const attachment: ApiAttachment = {
        id,
        filename,
        size: file.size,
        url: `${this.url}/attachments/${id}/${encodeURIComponent(filename)}`,
        proxy_url: `${this.url}/attachments/${id}/${encodeURIComponent(filename)}`,
        content_type: file.contentType,
      };
      const description = optString(meta?.description);
      if (description !== undefined) attachment.description = description;
      return attachment;
    });
    return { content, embeds, components, attachments: [...kept, ...uploaded] };
  }

  #isEmpty(parts: MessageParts, body: Record<string, unknown>): boolean {
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

  #parseAllowedMentions(value: unknown): AllowedMentions | undefined {
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
  #botPings(content: string, allowed: AllowedMentions | undefined, replyTo: StoredMessage | undefined): MessagePings {
    const parsed = parseContentMentions(content);
    const known = parsed.users.filter((id) => this.#users.has(id));
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
    const target = messageId ? this.#messages.get(messageId) : undefined;
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
  #postChannelMessage(ctx: RestContext): ApiMessage {
    const channel = this.#requireChannel(ctx.params.channel_id);
    if (!TEXT_CHANNEL_TYPES.has(channel.type)) throw new ApiError(400, 50008, 'Cannot send messages in a non-text channel');
    const body = asRecord(ctx.body);
    const nonce = typeof body.nonce === 'string' || typeof body.nonce === 'number' ? body.nonce : undefined;
    if (nonce !== undefined && body.enforce_nonce === true) {
      // Discord answers a repeated enforced nonce with the message it already created.
      const existing = this.messages(channel.id).find((m) => m.own && m.nonce === nonce && !m.deleted);
      if (existing) return this.#messageJson(existing, false);
    }
    const parts = this.#messageParts(body, ctx.files);
    if (this.#isEmpty(parts, body)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    const allowed = this.#parseAllowedMentions(body.allowed_mentions);
    const { reference, replyTo } = this.#resolveReference(body.message_reference, channel);
    const message = this.#storeMessage({
      channel,
      authorId: this.#opts.botUserId,
      own: true,
      ...parts,
      type: reference && reference.type !== 1 ? MessageType.Reply : MessageType.Default,
      flags: typeof body.flags === 'number' ? body.flags & (MessageFlag.SuppressEmbeds | (1 << 12)) : 0,
      reference,
      allowedMentions: allowed,
      pings: this.#botPings(parts.content, allowed, replyTo),
      nonce,
      source: 'rest',
    });
    this.#echo('MESSAGE_CREATE', message);
    return this.#messageJson(message, false);
  }

  #storeMessage(input: {
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
      id: input.id ?? this.#snowflake(),
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
      message.webhook_id = this.applicationId;
    }
    if (input.extra) message.extra = input.extra;
    this.#messages.set(message.id, message);
    input.channel.lastMessageId = message.id;
    input.channel.messageCount += 1;
    return message;
  }

  /** Applies an edit body (content/embeds/components/attachments/allowed_mentions/flags). */
  #editMessage(message: StoredMessage, body: Record<string, unknown>, files: ParsedFile[]): void {
    const parts = this.#messageParts(body, files, message);
    const wasLoading = (message.flags & MessageFlag.Loading) !== 0;
    if (this.#isEmpty(parts, body)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    Object.assign(message, parts);
    const allowed = this.#parseAllowedMentions(body.allowed_mentions);
    if (allowed) message.allowed_mentions = allowed;
    const replyTo = message.message_reference?.message_id ? this.#messages.get(message.message_reference.message_id) : undefined;
    message.pings = this.#botPings(message.content, message.allowed_mentions, replyTo);
    if (typeof body.flags === 'number') {
      message.flags = (message.flags & ~MessageFlag.SuppressEmbeds) | (body.flags & MessageFlag.SuppressEmbeds);
    }
    message.flags &= ~MessageFlag.Loading;
    message.edits += 1;
    message.history.push(message.content);
    // Filling a deferred reply's "thinking" placeholder is not shown as an edit in Discord.
    if (!wasLoading) message.edited_timestamp = new Date().toISOString();
    this.#syncInteraction(message);
    this.#echo('MESSAGE_UPDATE', message);
  }

  #deleteMessage(message: StoredMessage): void {
    message.deleted = true;
    this.#echo('MESSAGE_DELETE', message);
  }

  #addReaction(message: StoredMessage, emoji: string, userId: string): void {
    const exists = this.reactions.some((r) => r.message_id === message.id && r.emoji === emoji && r.user_id === userId);
    if (exists) return;
    this.reactions.push({ channel_id: message.channel_id, message_id: message.id, emoji, user_id: userId, at: Date.now() });
    this.#dispatchReaction('MESSAGE_REACTION_ADD', message, emoji, userId);
  }

  #removeReaction(message: StoredMessage, emoji: string, userId: string): void {
    const index = this.reactions.findIndex((r) => r.message_id === message.id && r.emoji === emoji && r.user_id === userId);
    if (index === -1) return;
    this.reactions.splice(index, 1);
    this.#dispatchReaction('MESSAGE_REACTION_REMOVE', message, emoji, userId);
  }

  /** `POST /channels/:id/messages/:mid/threads` (fromMessage) or `POST /channels/:id/threads`. */
  #startThread(ctx: RestContext, fromMessage: boolean): ApiChannel {
    const parent = this.#requireChannel(ctx.params.channel_id);
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
      starter = this.#requireMessage(parent.id, ctx.params.message_id);
      if (starter.thread_id) throw new ApiError(400, 160004, 'A thread has already been created for this message');
      id = starter.id;
      type = parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread;
    } else {
      id = this.#snowflake();
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
      ownerId: this.#opts.botUserId,
      autoArchiveDuration: typeof body.auto_archive_duration === 'number' ? body.auto_archive_duration : 1440,
      messageCount: 0,
      createdAt: new Date().toISOString(),
      configured: false,
    };
    this.#channels.set(id, thread);
    if (starter) {
      starter.thread_id = id;
      starter.flags |= MessageFlag.HasThread;
    }
    const json = this.#channelJson(thread);
    const created = {
      ...json,
      newly_created: true,
      member: { id, user_id: this.#opts.botUserId, join_timestamp: thread.createdAt, flags: 0 },
    };
    this.#broadcast('THREAD_CREATE', (session) => (session.intents & Intent.Guilds ? created : undefined));
    return json;
  }

  // -------------------------------------------------------------------------------------------
  // Application commands

  #commandScope(ctx: RestContext): { list: RegisteredCommand[]; guildId?: string } {
    if (ctx.params.application_id !== this.applicationId) throw new ApiError(404, 10002, 'Unknown Application');
    const guildId = ctx.params.guild_id;
    if (guildId === undefined) return { list: this.registeredCommands.global };
    this.#requireGuild(guildId);
    return { list: this.registeredCommands.guilds[guildId] ?? [], guildId };
  }

  #commandList(ctx: RestContext): RegisteredCommand[] {
    return this.#commandScope(ctx).list;
  }

  #buildCommand(raw: unknown, index: number, previous: RegisteredCommand[], guildId: string | undefined): RegisteredCommand {
    const body = asRecord(raw);
    const type = typeof body.type === 'number' ? body.type : 1;
    const name = optString(body.name) ?? '';
    const namePattern = type === 1 ? /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u : /^.{1,32}$/u;
    if (!namePattern.test(name)) throw formError(`${index}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    const description = optString(body.description) ?? '';
    if (type === 1 && (description.length < 1 || description.length > 100)) {
      throw formError(`${index}.description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    // Discord keeps the id of a command that already existed under the same name and type.
    const same = previous.find((c) => c.name === name && c.type === type);
    const command: RegisteredCommand = {
      default_member_permissions: null,
      nsfw: false,
      contexts: null,
      integration_types: [0],
      ...body,
      id: same?.id ?? this.#snowflake(),
      application_id: this.applicationId,
      name,
      description,
      type,
      version: this.#snowflake(),
    };
    if (guildId) command.guild_id = guildId;
    return command;
  }

  #overwriteCommands(ctx: RestContext): RegisteredCommand[] {
    const { list, guildId } = this.#commandScope(ctx);
    if (!Array.isArray(ctx.body)) {
      throw new ApiError(400, 50035, 'Invalid Form Body', { _errors: [{ code: 'LIST_TYPE_CONVERT', message: 'Must be an array' }] });
    }
    const commands = ctx.body.map((raw, i) => this.#buildCommand(raw, i, list, guildId));
    const names = new Set<string>();
    for (const c of commands) {
      const key = `${c.type}:${c.name}`;
      if (names.has(key)) {
        const errors = { _errors: [{ code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: 'Application command names must be unique' }] };
        throw new ApiError(400, 50035, 'Invalid Form Body', errors);
      }
      names.add(key);
    }
    if (guildId) this.registeredCommands.guilds[guildId] = commands;
    else this.registeredCommands.global = commands;
    return commands;
  }

  #upsertCommand(ctx: RestContext): { command: RegisteredCommand; created: boolean } {
    const { list, guildId } = this.#commandScope(ctx);
    const command = this.#buildCommand(ctx.body, 0, list, guildId);
    const index = list.findIndex((c) => c.id === command.id);
    const next = index === -1 ? [...list, command] : list.map((c, i) => (i === index ? command : c));
    if (guildId) this.registeredCommands.guilds[guildId] = next;
    else this.registeredCommands.global = next;
    return { command, created: index === -1 };
  }

  // -------------------------------------------------------------------------------------------
  // Interactions

  /** `POST /interactions/:id/:token/callback`. */
  #interactionCallback(ctx: RestContext): RestResult {
    const rec = this.#interactionsById.get(ctx.params.interaction_id ?? '');
    if (!rec || rec.token !== ctx.params.token) throw new ApiError(404, 10062, 'Unknown interaction');
    const body = asRecord(ctx.body);
    const type = typeof body.type === 'number' ? body.type : -1;
    rec.callbacks.push(type);
    if (rec.callbackType !== null) throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    if (Date.now() - rec.createdAt > this.#opts.interactionResponseWindowMs) throw new ApiError(404, 10062, 'Unknown interaction');
    if (![4, 5, 6, 7, 8, 9, 12].includes(type)) {
      throw formError('type', 'BASE_TYPE_CHOICES', 'Value must be one of {4, 5, 6, 7, 8, 9, 12}.');
    }
    const data = asRecord(body.data);
    const ephemeral = typeof data.flags === 'number' && (data.flags & MessageFlag.Ephemeral) !== 0;
    let message: StoredMessage | undefined;
    if (type === 4 || type === 5) {
      const channel = this.#requireChannel(rec.channel_id);
      const allowed = this.#parseAllowedMentions(data.allowed_mentions);
      const parts: MessageParts =
        type === 4 ? this.#messageParts(data, ctx.files) : { content: '', embeds: [], components: [], attachments: [] };
      if (type === 4 && this.#isEmpty(parts, data)) throw new ApiError(400, 50006, 'Cannot send an empty message');
      message = this.#storeMessage({
        channel,
        authorId: this.#opts.botUserId,
        own: true,
        ...parts,
        type: MessageType.ChatInputCommand,
        flags: (ephemeral ? MessageFlag.Ephemeral : 0) | (type === 5 ? MessageFlag.Loading : 0),
        allowedMentions: allowed,
        pings: this.#botPings(parts.content, allowed, undefined),
        source: 'interaction',
        interactionToken: rec.token,
      });
      rec.originalMessageId = message.id;
      if (allowed) rec.allowed_mentions = allowed;
      this.#syncInteraction(message);
      this.#echo('MESSAGE_CREATE', message);
    }
    rec.callbackType = type;
    rec.respondedAt = Date.now();
    rec.ephemeral = ephemeral;
    if (ctx.query.get('with_response') !== 'true') return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: rec.id,
          type: 2,
          activity_instance_id: null,
          response_message_id: message?.id ?? null,
          response_message_loading: type === 5,
          response_message_ephemeral: ephemeral,
        },
        resource: { type, ...(message ? { message: this.#messageJson(message, false) } : {}) },
      },
    };
  }

  /** The interaction behind `/webhooks/:app/:token`, checked like Discord checks the webhook. */
  #webhookInteraction(ctx: RestContext): InteractionRecord {
    const rec = this.interactionResponses.get(ctx.params.token ?? '');
    if (ctx.params.application_id !== this.applicationId || !rec) throw new ApiError(404, 10015, 'Unknown Webhook');
    if (Date.now() - rec.createdAt > this.#opts.interactionTokenTtlMs) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    if (rec.callbackType === null) throw new ApiError(404, 10015, 'Unknown Webhook');
    return rec;
  }

  #webhookMessage(ctx: RestContext, messageId: string): StoredMessage {
    const rec = this.#webhookInteraction(ctx);
    const id = messageId === '@original' ? rec.originalMessageId : messageId;
    const message = id ? this.#messages.get(id) : undefined;
    if (!message || message.deleted || message.interaction_token !== rec.token) throw new ApiError(404, 10008, 'Unknown Message');
    return message;
  }

  #editWebhookMessage(ctx: RestContext, messageId: string): ApiMessage {
    const message = this.#webhookMessage(ctx, messageId);
    this.#editMessage(message, asRecord(ctx.body), ctx.files);
    return this.#messageJson(message, false);
  }

  /**
   * `POST /webhooks/:app/:token` (wait is always true for interactions). As on Discord, the first
   * follow-up after a deferred reply replaces the "thinking" placeholder instead of posting anew.
   */
  #followUp(ctx: RestContext): ApiMessage {
    const rec = this.#webhookInteraction(ctx);
    const body = asRecord(ctx.body);
    const original = rec.originalMessageId ? this.#messages.get(rec.originalMessageId) : undefined;
    if (original && !original.deleted && (original.flags & MessageFlag.Loading) !== 0) {
      this.#editMessage(original, body, ctx.files);
      return this.#messageJson(original, false);
    }
    const channel = this.#requireChannel(rec.channel_id);
    const parts = this.#messageParts(body, ctx.files);
    if (this.#isEmpty(parts, body)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    const allowed = this.#parseAllowedMentions(body.allowed_mentions);
    const message = this.#storeMessage({
      channel,
      authorId: this.#opts.botUserId,
      own: true,
      ...parts,
      type: MessageType.Default,
      flags: typeof body.flags === 'number' ? body.flags & (MessageFlag.Ephemeral | MessageFlag.SuppressEmbeds) : 0,
      allowedMentions: allowed,
      pings: this.#botPings(parts.content, allowed, undefined),
      source: 'followup',
      interactionToken: rec.token,
    });
    rec.followups.push(message);
    this.#echo('MESSAGE_CREATE', message);
    return this.#messageJson(message, false);
  }

  /** Copies the original message's state onto its interaction record. */
  #syncInteraction(message: StoredMessage): void {
    if (!message.interaction_token) return;
    const rec = this.interactionResponses.get(message.interaction_token);
    if (!rec || rec.originalMessageId !== message.id) return;
    rec.content = (message.flags & MessageFlag.Loading) !== 0 ? null : message.content;
    rec.edits = message.edits;
    rec.history = message.history;
    if (message.allowed_mentions) rec.allowed_mentions = message.allowed_mentions;
  }

  // -------------------------------------------------------------------------------------------
  // Test-side helpers (the "users" of the fake Discord)

  messageCreate(input: MessageCreateInput): ApiMessage {
    const author = this.#ensureUser(input.authorId, input.authorName, input.bot);
    const channel = this.#resolveUserChannel(input.channelId, input.guildId, author.id);
    const guild = channel.guildId ? this.#guilds.get(channel.guildId) : undefined;
    guild?.memberIds.add(author.id);

    const parsed = parseContentMentions(input.content);
    const users = parsed.users.filter((id) => this.#users.has(id));
    if (input.mentionsBot && !users.includes(this.#opts.botUserId)) users.push(this.#opts.botUserId);
    let reference: MessageReference | undefined;
    if (input.messageReference) {
      reference = { type: 0, ...input.messageReference };
      if (!reference.guild_id && channel.guildId) reference.guild_id = channel.guildId;
      const target = this.#messages.get(input.messageReference.message_id);
      if (target && input.replyPing !== false && !users.includes(target.author_id)) users.push(target.author_id);
    }
    const message = this.#storeMessage({
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
    this.#dispatchMessage('MESSAGE_CREATE', message);
    return this.#messageJson(message, true);
  }

  interactionCreate(input: InteractionCreateInput): { id: string; token: string; payload: Record<string, unknown> } {
    const user = this.#ensureUser(input.userId, input.userName);
    const channel = this.#resolveUserChannel(input.channelId, input.guildId, user.id);
    const guild = channel.guildId ? this.#guilds.get(channel.guildId) : undefined;
    guild?.memberIds.add(user.id);
    const id = this.#snowflake();
    // Shaped like Discord's: base64url of `interaction:<id>:<secret>` (no characters that need escaping).
    const token = Buffer.from(`interaction:${id}:${randomBytes(48).toString('base64url')}`).toString('base64url');
    const guildCommands = guild ? (this.registeredCommands.guilds[guild.id] ?? []) : [];
    const registered = [...this.registeredCommands.global, ...guildCommands].find((c) => c.name === input.name && c.type === 1);
    const data: Record<string, unknown> = {
      id: input.commandId ?? registered?.id ?? this.#snowflake(),
      name: input.name,
      type: 1,
    };
    if (input.options) data.options = input.options;
    if (registered?.guild_id) data.guild_id = registered.guild_id;
    const channelJson = { ...this.#channelJson(channel), permissions: DEFAULT_PERMISSIONS };
    const payload: Record<string, unknown> = {
      id,
      application_id: this.applicationId,
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
      payload.member = { ...this.#memberJson(guild, user.id, true), permissions: DEFAULT_PERMISSIONS };
    } else {
      payload.user = this.#userJson(user.id);
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
    this.interactionResponses.set(token, rec);
    this.#interactionsById.set(id, rec);
    // Interactions reach every session whatever its intents.
    this.#broadcast('INTERACTION_CREATE', () => payload);
    return { id, token, payload };
  }

  dmChannel(userId: string, opts: { userName?: string; dispatch?: boolean } = {}): string {
    this.#ensureUser(userId, opts.userName);
    const channel = this.#dmChannelFor(userId);
    if (opts.dispatch) {
      const json = this.#channelJson(channel);
      this.#broadcast('CHANNEL_CREATE', () => json);
    }
    return channel.id;
  }

  /** The channel a user event happens in: a known channel, or a DM created on the spot. */
  #resolveUserChannel(channelId: string, guildId: string | undefined, userId: string): ChannelState {
    const known = this.#channels.get(channelId);
    if (known) {
      if (guildId !== undefined && known.guildId !== guildId) {
        throw new Error(`discord fake: channel ${channelId} is not in guild ${guildId}`);
      }
      return known;
    }
    if (guildId !== undefined) throw new Error(`discord fake: unknown channel ${channelId} in guild ${guildId}`);
    return this.#dmChannelFor(userId, channelId);
  }

  // -------------------------------------------------------------------------------------------
  // Gateway: dispatching

  /** Sends a dispatch to every ready session for which `build` returns a payload. */
  #broadcast(t: string, build: (session: GatewaySession) => unknown): number {
    let n = 0;
    for (const session of this.#sessions.values()) {
      if (!session.ready) continue;
      const d = build(session);
      if (d === undefined) continue;
      this.#dispatchTo(session, t, d);
      n += 1;
    }
    return n;
  }

  #dispatchTo(session: GatewaySession, t: string, d: unknown): void {
    session.seq += 1;
    const frame: GatewayFrame = { op: Op.Dispatch, d, s: session.seq, t };
    session.buffer.push(frame);
    if (session.buffer.length > REPLAY_BUFFER) session.buffer.shift();
    if (session.conn) this.#sendFrame(session.conn, frame);
  }

  dispatch(t: string, d: unknown): number {
    return this.#broadcast(t, () => d);
  }

  /** The bot's own messages come back over the gateway too (unless `echoBotMessages: false`). */
  #echo(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', message: StoredMessage): void {
    if (!this.#opts.echoBotMessages) return;
    if ((message.flags & MessageFlag.Ephemeral) !== 0) return;
    this.#dispatchMessage(t, message);
  }

  /**
   * Message events, filtered as Discord does: guild messages need GuildMessages, DMs need
   * DirectMessages, and without MessageContent the content, embeds, attachments and components
   * are blank except in DMs, when the bot is mentioned, or for the bot's own messages.
   */
  #dispatchMessage(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', message: StoredMessage): void {
    const isDm = !message.guild_id;
    const needed = isDm ? Intent.DirectMessages : Intent.GuildMessages;
    if (t === 'MESSAGE_DELETE') {
      const d: Record<string, unknown> = { id: message.id, channel_id: message.channel_id };
      if (message.guild_id) d.guild_id = message.guild_id;
      this.#broadcast(t, (session) => (session.intents & needed ? d : undefined));
      return;
    }
    const full = this.#messageJson(message, true);
    const exempt = isDm || message.own || message.pings.users.includes(this.#opts.botUserId);
    const blank = { ...full, content: '', embeds: [], attachments: [], components: [] };
    this.#broadcast(t, (session) => {
      if (!(session.intents & needed)) return undefined;
      return session.intents & Intent.MessageContent || exempt ? full : blank;
    });
  }

  #dispatchReaction(t: string, message: StoredMessage, emoji: string, userId: string): void {
    const needed = message.guild_id ? Intent.GuildMessageReactions : Intent.DirectMessageReactions;
    const guild = message.guild_id ? this.#guilds.get(message.guild_id) : undefined;
    const d: Record<string, unknown> = {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      emoji: this.#emojiJson(emoji),
      burst: false,
      type: 0,
    };
    if (guild) {
      d.guild_id = guild.id;
      if (t === 'MESSAGE_REACTION_ADD') d.member = this.#memberJson(guild, userId, true);
    }
    if (t === 'MESSAGE_REACTION_ADD') d.message_author_id = message.author_id;
    this.#broadcast(t, (session) => (session.intents & needed ? d : undefined));
  }

  // -------------------------------------------------------------------------------------------
  // Gateway: connections

  #sendFrame(conn: GatewayConnection, frame: GatewayFrame): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(frame));
  }

  #closeConn(conn: GatewayConnection, code: number, reason: string): void {
    if (conn.ws.readyState === WebSocket.OPEN || conn.ws.readyState === WebSocket.CONNECTING) conn.ws.close(code, reason);
  }

  #onGatewayConnection(ws: WebSocket, req: IncomingMessage): void {
    const query = Object.fromEntries(new URL(req.url ?? '/', this.url).searchParams);
    this.gatewayConnects.push({ query, at: Date.now() });
    const conn: GatewayConnection = { ws, session: null };
    this.#connections.add(conn);
    ws.on('error', () => undefined);
    ws.on('close', (code: number) => this.#onGatewayClose(conn, code));
    if (query.v !== '10') {
      this.#closeConn(conn, 4012, 'Invalid API version');
      return;
    }
    if ((query.encoding ?? 'json') !== 'json') {
      this.#closeConn(conn, 4002, 'This fake gateway only speaks encoding=json');
      return;
    }
    ws.on('message', (data: RawData) => this.#onGatewayMessage(conn, data));
    this.#sendFrame(conn, {
      op: Op.Hello,
      d: { heartbeat_interval: this.#opts.heartbeatIntervalMs, _trace: ['["discord-fake",{"micros":0}]'] },
      s: null,
      t: null,
    });
  }

  /**
   * A client closing with 1000/1001 ends its session (as on Discord); any other close (4200 from
   * @discordjs/ws when it means to resume, a dropped socket, or our own reconnect) keeps it resumable.
   */
  #onGatewayClose(conn: GatewayConnection, code: number): void {
    this.#connections.delete(conn);
    const session = conn.session;
    if (!session || session.conn !== conn) return;
    session.conn = null;
    if (code === 1000 || code === 1001) this.#sessions.delete(session.id);
  }

  #onGatewayMessage(conn: GatewayConnection, data: RawData): void {
    let payload: unknown;
    try {
      payload = JSON.parse(rawToString(data)) as unknown;
    } catch {
      this.#closeConn(conn, 4002, 'Error while decoding payload.');
      return;
    }
    if (!isRecord(payload) || typeof payload.op !== 'number') {
      this.#closeConn(conn, 4002, 'Error while decoding payload.');
      return;
    }
    const { op, d } = payload;
    this.gatewayReceived.push({ op, d, at: Date.now() });
    switch (op) {
      case Op.Heartbeat:
        this.#sendFrame(conn, { op: Op.HeartbeatAck, d: null, s: null, t: null });
        return;
      case Op.Identify:
        this.#identify(conn, asRecord(d));
        return;
      case Op.Resume:
        this.#resume(conn, asRecord(d));
        return;
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
      case Op.RequestSoundboardSounds:
        if (!conn.session) this.#closeConn(conn, 4003, 'Not authenticated.');
        return;
      case Op.RequestGuildMembers:
        if (!conn.session) this.#closeConn(conn, 4003, 'Not authenticated.');
        else this.#guildMembersChunk(conn.session, asRecord(d));
        return;
      default:
        this.#closeConn(conn, 4001, 'Unknown opcode.');
    }
  }

  #tokenMatches(value: unknown): boolean {
    return typeof value === 'string' && value.replace(/^Bot\s+/i, '') === this.token;
  }

  #identify(conn: GatewayConnection, d: Record<string, unknown>): void {
    if (conn.session) {
      this.#closeConn(conn, 4005, 'Already authenticated.');
      return;
    }
    if (!this.#tokenMatches(d.token)) {
      this.#closeConn(conn, 4004, 'Authentication failed.');
      return;
    }
    const intents = d.intents;
    if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0 || intents > MAX_INTENTS) {
      this.#closeConn(conn, 4013, 'Invalid intent(s).');
      return;
    }
    if (intents & PRIVILEGED_INTENTS & ~this.#opts.allowedPrivilegedIntents) {
      this.#closeConn(conn, 4014, 'Disallowed intent(s).');
      return;
    }
    this.identifies.push({
      token: String(d.token),
      intents,
      properties: d.properties,
      shard: d.shard,
      compress: d.compress === true,
      presence: d.presence,
      at: Date.now(),
    });
    const session: GatewaySession = { id: randomBytes(16).toString('hex'), intents, seq: 0, buffer: [], conn, ready: false };
    this.#sessions.set(session.id, session);
    conn.session = session;
    const guilds = [...this.#guilds.values()];
    this.#dispatchTo(session, 'READY', {
      v: 10,
      user_settings: {},
      user: { ...this.#userJson(this.#opts.botUserId), verified: true, mfa_enabled: false, flags: 0, email: null },
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.gatewayUrl,
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['us-east'],
      application: { id: this.applicationId, flags: 0 },
      shard: [0, 1],
      _trace: ['["discord-fake",{"micros":0}]'],
    });
    // Without the Guilds intent Discord sends no GUILD_CREATE (discord.js then stops waiting at once).
    if (intents & Intent.Guilds) for (const guild of guilds) this.#dispatchTo(session, 'GUILD_CREATE', this.#guildJson(guild));
    session.ready = true;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #resume(conn: GatewayConnection, d: Record<string, unknown>): void {
    if (!this.#tokenMatches(d.token)) {
      this.#closeConn(conn, 4004, 'Authentication failed.');
      return;
    }
    const session = this.#sessions.get(optString(d.session_id) ?? '');
    const seq = typeof d.seq === 'number' ? d.seq : 0;
    const oldest = session?.buffer[0]?.s ?? (session ? session.seq + 1 : 0);
    if (!session || (conn.session && conn.session !== session) || seq > session.seq || seq < oldest - 1) {
      this.#sendFrame(conn, { op: Op.InvalidSession, d: false, s: null, t: null });
      return;
    }
    // A session lives on one socket: a resume elsewhere closes the old one.
    if (session.conn && session.conn !== conn) {
      const old = session.conn;
      old.session = null;
      this.#closeConn(old, 4000, 'Session resumed elsewhere');
    }
    session.conn = conn;
    conn.session = session;
    for (const frame of session.buffer) if (frame.s !== null && frame.s > seq) this.#sendFrame(conn, frame);
    this.#resumes += 1;
    this.#dispatchTo(session, 'RESUMED', { _trace: ['["discord-fake",{"micros":0}]'] });
  }

  #guildMembersChunk(session: GatewaySession, d: Record<string, unknown>): void {
    const guild = this.#guilds.get(optString(d.guild_id) ?? '');
    if (!guild) return;
    const wanted = stringArray(d.user_ids) ?? (typeof d.user_ids === 'string' ? [d.user_ids] : undefined);
    const query = optString(d.query) ?? '';
    const limit = typeof d.limit === 'number' && d.limit > 0 ? d.limit : Number.POSITIVE_INFINITY;
    const ids = [...guild.memberIds].filter((id) =>
      wanted ? wanted.includes(id) : (this.#users.get(id)?.username ?? '').toLowerCase().startsWith(query.toLowerCase()),
    );
    const chunk: Record<string, unknown> = {
      guild_id: guild.id,
      members: ids.slice(0, limit).map((id) => this.#memberJson(guild, id, true)),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted ? wanted.filter((id) => !guild.memberIds.has(id)) : [],
    };
    if (d.nonce !== undefined) chunk.nonce = d.nonce;
    this.#dispatchTo(session, 'GUILD_MEMBERS_CHUNK', chunk);
  }

  // -------------------------------------------------------------------------------------------
  // Gateway: controls

  ready(timeoutMs = 10_000): Promise<void> {
    for (const session of this.#sessions.values()) {
      if (session.ready && session.conn && session.conn.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== done);
        reject(new Error(`discord fake: no client identified within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#readyWaiters.push(done);
    });
  }

  reconnectClients(op: 7 | 'close', code = 4000): number {
    let n = 0;
    for (const conn of [...this.#connections]) {
      if (!conn.session) continue;
      n += 1;
      if (op === 7) this.#sendFrame(conn, { op: Op.Reconnect, d: null, s: null, t: null });
      else this.#closeConn(conn, code, 'Reconnect requested by the fake');
    }
    return n;
  }

  invalidateSession(resumable: boolean): number {
    let n = 0;
    for (const conn of [...this.#connections]) {
      const session = conn.session;
      if (!session) continue;
      n += 1;
      if (!resumable) {
        this.#sessions.delete(session.id);
        conn.session = null;
      }
      this.#sendFrame(conn, { op: Op.InvalidSession, d: resumable, s: null, t: null });
    }
    return n;
  }
}

/** Starts the fake on 127.0.0.1 (any free port unless `opts.port`). */
export async function startDiscordFake(opts: DiscordFakeOptions = {}): Promise<DiscordFake> {
  const fake = new FakeDiscordServer(opts);
  await fake.listen(opts.port ?? 0);
  return fake;
}
