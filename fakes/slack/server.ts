/**
 * A loopback fake of Slack for tests: the Web API methods a chat bot uses (with message state),
 * `response_url` endpoints, and a Socket Mode WebSocket server, all on one 127.0.0.1 port.
 *
 * Point the real SDKs at it: `new WebClient(token, { slackApiUrl: fake.apiUrl })`, or
 * `new App({ token, appToken, socketMode: true, clientOptions: { slackApiUrl: fake.apiUrl } })`.
 * Bolt passes `clientOptions` on to its Socket Mode client, so `apps.connections.open` lands here
 * too and the client then opens the WebSocket URL this fake hands out.
 *
 * Fidelity notes (what it checks, so app bugs show up here rather than in production):
 * - tokens: the bot token for every method, the app-level token for `apps.connections.open`;
 * - message `ts` values are unique, increasing, Slack-formatted (`1700000000.000100`);
 * - a reply to a reply lands in the parent's thread, as in Slack;
 * - only the bot's own messages can be updated or deleted;
 * - blocks must be an array of typed objects (at most 50, a section's text at most 3,000 chars);
 *   `text` over 40,000 chars is truncated;
 * - native streams: `chat.startStream` needs `thread_ts`, and outside DMs `recipient_team_id` and
 *   `recipient_user_id`; appending to or stopping a stopped stream fails with
 *   `message_not_in_streaming_state`;
 * - a `response_url` takes at most 5 posts.
 * Rate limits are not simulated; inject them with `failNext`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { SLACK_FAKE_DEFAULTS } from './signing.ts';

// ---------------------------------------------------------------------------------------------
// Public types

export interface SlackFakeOptions {
  /** Port to listen on (127.0.0.1). Default 0: any free port. */
  port?: number;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  botToken?: string;
  appToken?: string;
}

export interface FakeReaction {
  name: string;
  /** Users who reacted, in order. */
  users: string[];
}

/** A message as the fake stores it (messages() and friends return snapshots of these). */
export interface FakeMessage {
  ts: string;
  channel: string;
  /** Set on thread replies only (the parent's `ts`); top-level messages have none. */
  thread_ts?: string;
  text: string;
  user?: string;
  /** Set on messages the bot posted. */
  bot_id?: string;
  blocks?: unknown[];
  mrkdwn?: boolean;
  /** How many times the text or blocks changed after posting (updates, stream appends). */
  edits: number;
  /** Every text the message has had, oldest first; the last entry equals `text`. */
  history: string[];
  deleted: boolean;
  reactions: FakeReaction[];
  /** Set on messages created by `chat.startStream`. */
  stream?: 'streaming' | 'stopped';
  /** `ts` of the latest edit, when edited. */
  edited_ts?: string;
}

export interface FakeCall {
  method: string;
  /**
   * The arguments as received, minus `token`. Form values stay strings, except JSON-valued
   * fields (`blocks`, `attachments`, `chunks`, `metadata`), which are decoded.
   */
  args: Record<string, unknown>;
  /** The token the call carried (header or form field), if any. */
  token?: string;
  at: number;
}

export interface FakeEphemeral {
  channel: string;
  /** The user it was shown to (`chat.postEphemeral`'s `user`, or the one a `response_url` was made for). */
  user?: string;
  text: string;
  thread_ts?: string;
  blocks?: unknown[];
  message_ts: string;
  via: 'api' | 'response_url';
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

export interface FailureSpec {
  /** HTTP status; default 200 (or 429 when `retryAfterSec` is given). */
  status?: number;
  /** The `error` in `{ok:false,error}`; default `ratelimited` for 429, else `internal_error`. */
  error?: string;
  /** Sent as `Retry-After`; a 429 without it gets `Retry-After: 1`, as Slack always sends one. */
  retryAfterSec?: number;
}

export interface SeedMessageInput {
  channel: string;
  user: string;
  text: string;
  thread_ts?: string;
  ts?: string;
}

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

export interface EnvelopeOptions {
  retryAttempt?: number;
  retryReason?: string;
  /** How long to wait for the client's ack before rejecting; default 5000 ms. */
  ackTimeoutMs?: number;
}

export interface EnvelopeAck {
  envelope_id: string;
  /** The `payload` the client sent with its ack (Bolt sends `{}` for a bare `ack()`). */
  ackPayload?: unknown;
}

/** An envelope sent over Socket Mode, with what became of it. */
export interface SentEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: object;
  /** Number of acks received for it (more than one means the app acked twice). */
  acks: number;
  ackPayload?: unknown;
}

export interface ResponseUrlOptions {
  /** Channel that `response_type: 'in_channel'` posts land in; default `SLACK_FAKE_DEFAULTS.channelId`. */
  channel?: string;
  /** User that ephemeral responses are recorded for. */
  user?: string;
}

export interface SlackFake {
  /** `http://127.0.0.1:PORT/api/` — give this as `slackApiUrl`. */
  readonly apiUrl: string;
  readonly port: number;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly botToken: string;
  readonly appToken: string;

  /** Every Web API request, in arrival order (including failed and unauthenticated ones). */
  readonly calls: FakeCall[];
  callsTo(method: string): FakeCall[];
  /** Make the next `times` calls to `method` fail with this response (queued after earlier ones). */
  failNext(method: string, response: FailureSpec, times?: number): void;

  /** Put a (human) message into the workspace; returns its ts. */
  seedMessage(input: SeedMessageInput): string;
  /** All messages (bot and human, including deleted), in ts order; snapshots. */
  messages(channel?: string): FakeMessage[];
  /** A thread's root and replies (including deleted), in ts order; snapshots. */
  thread(channel: string, threadTs: string): FakeMessage[];
  /** Non-deleted bot messages; with `threadTs`, only the replies in that thread. */
  botReplies(channel?: string, threadTs?: string): FakeMessage[];
  readonly ephemerals: FakeEphemeral[];
  /** Users `users.info` reports as workspace admins. */
  readonly workspaceAdmins: Set<string>;

  /** A `response_url` served by this fake; posts to it are recorded in `responseUrlPosts`. */
  responseUrl(id?: string, opts?: ResponseUrlOptions): string;
  readonly responseUrlPosts: ResponseUrlPost[];

  /** Resolve once a Socket Mode client is connected and has been sent hello. */
  socketConnected(timeoutMs?: number): Promise<void>;
  /** Send an envelope to the newest connected client; resolves with its ack. */
  sendEnvelope(type: EnvelopeType, payload: object, opts?: EnvelopeOptions): Promise<EnvelopeAck>;
  /** Send `{type:'disconnect'}` to every client and resolve once their sockets have closed. */
  disconnectClients(reason?: string): Promise<void>;
  /** Cut every client's socket without a word (a network failure); resolves once closed. */
  dropClients(): Promise<void>;
  readonly socketConnections: number;
  /** Connections accepted since start (or reset). */
  readonly totalSocketConnections: number;
  readonly envelopes: SentEnvelope[];

  /** Poll `predicate` every 10 ms until true; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Forget messages, calls, ephemerals, response posts, envelopes and pending failures. */
  reset(): void;
  /** Stop the server and cut every socket. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

type Args = Record<string, unknown>;
type ApiResult = Record<string, unknown>;

/** Form fields Slack expects to hold JSON (the WebClient JSON-encodes nested values). */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'chunks', 'metadata']);
const TEXT_LIMIT = 40_000;
const SECTION_TEXT_LIMIT = 3_000;
const MAX_BLOCKS = 50;
const RESPONSE_URL_MAX_POSTS = 5;
/** Generated timestamps start here and step by 100 µs: `1700000000.000100`, `…000200`, … */
const TS_BASE_MICROS = 1_700_000_000 * 1_000_000;
const TS_STEP_MICROS = 100;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string argument (numbers are accepted and stringified, as form encoding would). */
function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A boolean argument: JSON booleans or form strings `true`/`1`. */
function flag(args: Args, key: string): boolean | undefined {
  const value = args[key];
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value === 'true' || value === '1';
  return undefined;
}

function int(args: Args, key: string): number | undefined {
  const raw = str(args, key);
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isNaN(n) ? undefined : n;
}

function tsToMicros(ts: string): number | undefined {
  const match = /^(\d{1,12})\.(\d{1,6})$/.exec(ts);
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * 1_000_000 + Number(match[2].padEnd(6, '0'));
}

function microsToTs(micros: number): string {
  const sec = Math.floor(micros / 1_000_000);
  return `${sec}.${String(micros - sec * 1_000_000).padStart(6, '0')}`;
}

function byTs(a: { ts: string }, b: { ts: string }): number {
  return (tsToMicros(a.ts) ?? 0) - (tsToMicros(b.ts) ?? 0);
}

/** Error code when `blocks` is not something Slack would accept, else undefined. */
function checkBlocks(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > MAX_BLOCKS) return 'invalid_blocks';
  for (const block of blocks) {
    if (!isRecord(block) || typeof block.type !== 'string') return 'invalid_blocks';
    const text = block.text;
    if (block.type === 'section' && isRecord(text) && typeof text.text === 'string') {
      if (text.text.length > SECTION_TEXT_LIMIT) return 'invalid_blocks';
    }
  }
  return undefined;
}

/** The markdown a stream call adds: `markdown_text` plus any `markdown_text` chunks. */
function streamText(args: Args): string {
  let text = str(args, 'markdown_text') ?? '';
  const chunks = args.chunks;
  if (Array.isArray(chunks)) {
    for (const chunk of chunks) {
      if (isRecord(chunk) && chunk.type === 'markdown_text' && typeof chunk.text === 'string') text += chunk.text;
    }
  }
  return text;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function fail(error: string): ApiResult {
  return { ok: false, error };
}

/** Parsed request arguments plus the token found in the body (form bodies only). */
interface ParsedRequest {
  args: Args;
  bodyToken?: string;
  error?: string;
}

/**
 * Arguments from the query string and the body. Form bodies are what the WebClient sends; JSON
 * bodies are accepted too, but (as on Slack) their token must come in the Authorization header.
 */
function parseRequest(req: IncomingMessage, url: URL, raw: string): ParsedRequest {
  const args: Args = {};
  for (const [key, value] of url.searchParams) args[key] = value;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let bodyToken: string | undefined = str(args, 'token');
  if (raw.length > 0) {
    if (contentType === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return { args, error: 'invalid_json' };
      }
      if (!isRecord(parsed)) return { args, error: 'invalid_json' };
      Object.assign(args, parsed);
    } else if (contentType === 'application/x-www-form-urlencoded' || contentType === '') {
      for (const [key, value] of new URLSearchParams(raw)) {
        args[key] = value;
        if (JSON_FIELDS.has(key)) {
          // Leave undecodable JSON as a string; the method then rejects it as malformed.
          try {
            args[key] = JSON.parse(value);
          } catch {
            /* keep the raw string */
          }
        }
      }
      bodyToken = str(args, 'token') ?? bodyToken;
    } else {
      return { args, error: 'invalid_form_data' };
    }
  }
  delete args.token;
  return bodyToken === undefined ? { args } : { args, bodyToken };
}

// ---------------------------------------------------------------------------------------------
// The fake

interface PendingAck {
  resolve: (ack: EnvelopeAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface ResponseTarget {
  channel: string;
  user?: string;
  posts: number;
  /** What the last post created, so `replace_original` / `delete_original` can act on it. */
  last?: { kind: 'message'; message: FakeMessage } | { kind: 'ephemeral'; ephemeral: FakeEphemeral };
}

export async function startSlackFake(opts: SlackFakeOptions = {}): Promise<SlackFake> {
  const botUserId = opts.botUserId ?? SLACK_FAKE_DEFAULTS.botUserId;
  const botId = opts.botId ?? SLACK_FAKE_DEFAULTS.botId;
  const teamId = opts.teamId ?? SLACK_FAKE_DEFAULTS.teamId;
  const botToken = opts.botToken ?? SLACK_FAKE_DEFAULTS.botToken;
  const appToken = opts.appToken ?? SLACK_FAKE_DEFAULTS.appToken;
  const appId = SLACK_FAKE_DEFAULTS.apiAppId;

  // --- state ---------------------------------------------------------------------------------
  const store: FakeMessage[] = [];
  const calls: FakeCall[] = [];
  const ephemerals: FakeEphemeral[] = [];
  const workspaceAdmins = new Set<string>();
  const responseUrlPosts: ResponseUrlPost[] = [];
  const responseTargets = new Map<string, ResponseTarget>();
  const failures = new Map<string, Array<{ spec: FailureSpec; remaining: number }>>();
  const envelopes: SentEnvelope[] = [];
  const pendingAcks = new Map<string, PendingAck>();
  const sockets = new Set<WebSocket>();
  const connectWaiters = new Set<() => void>();
  const issuedTickets = new Set<string>();
  let lastTsMicros = TS_BASE_MICROS;
  let ticketCounter = 0;
  let responseUrlCounter = 0;
  let totalSocketConnections = 0;
  let port = 0;

  /** A fresh ts, later than every ts seen so far. */
  function nextTs(): string {
    lastTsMicros += TS_STEP_MICROS;
    return microsToTs(lastTsMicros);
  }

  function find(channel: string, ts: string): FakeMessage | undefined {
    return store.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  /** The thread a new reply belongs to: replying to a reply puts it in the parent's thread. */
  function threadRoot(channel: string, threadTs: string | undefined): string | undefined {
    if (threadTs === undefined || threadTs === '') return undefined;
    return find(channel, threadTs)?.thread_ts ?? threadTs;
  }

  function snapshot(m: FakeMessage): FakeMessage {
    return structuredClone(m);
  }

  /** One page of a conversations.* listing (no cursors: the first `limit` messages). */
  function messagePage(all: FakeMessage[], limit: number): ApiResult {
    const page = all.slice(0, Math.max(1, limit));
    return { ok: true, messages: page.map(toSlack), has_more: page.length < all.length, response_metadata: { next_cursor: '' } };
  }

  /** A message as the Web API returns it. */
  function toSlack(m: FakeMessage): Record<string, unknown> {
    const out: Record<string, unknown> = { type: 'message', ts: m.ts, text: m.text, team: teamId };
    if (m.user !== undefined) out.user = m.user;
    if (m.bot_id !== undefined) {
      out.bot_id = m.bot_id;
      out.app_id = appId;
    }
    if (m.blocks !== undefined) out.blocks = m.blocks;
    if (m.thread_ts !== undefined) out.thread_ts = m.thread_ts;
    if (m.edited_ts !== undefined) out.edited = { user: m.user ?? botUserId, ts: m.edited_ts };
    if (m.reactions.length > 0) {
      out.reactions = m.reactions.map((r) => ({ name: r.name, users: [...r.users], count: r.users.length }));
    }
    if (m.thread_ts === undefined) {
      const replies = store.filter((r) => r.channel === m.channel && r.thread_ts === m.ts && !r.deleted).sort(byTs);
      const latest = replies.at(-1);
      if (latest) {
        out.thread_ts = m.ts;
        out.reply_count = replies.length;
        out.latest_reply = latest.ts;
      }
    }
    return out;
  }

  function addMessage(fields: Omit<FakeMessage, 'edits' | 'history' | 'deleted' | 'reactions'>): FakeMessage {
    const message: FakeMessage = { ...fields, edits: 0, history: [fields.text], deleted: false, reactions: [] };
    store.push(message);
    return message;
  }

  /** Record a change of text (and blocks) on an existing message. */
  function edit(message: FakeMessage, text: string, blocks?: unknown[]): void {
    message.text = text;
    if (blocks !== undefined) message.blocks = blocks;
    message.edits += 1;
    message.history.push(text);
    message.edited_ts = nextTs();
  }

  function botMessage(channel: string, text: string, args: Args, threadTs?: string): FakeMessage {
    const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
    const mrkdwn = flag(args, 'mrkdwn');
    return addMessage({
      ts: nextTs(),
      channel,
      text: text.slice(0, TEXT_LIMIT),
      user: botUserId,
      bot_id: botId,
      ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      ...(blocks !== undefined ? { blocks } : {}),
      ...(mrkdwn !== undefined ? { mrkdwn } : {}),
    });
  }

  /** A live message the bot may change, or the error Slack gives. */
  function ownMessage(args: Args, notMine: string): FakeMessage | ApiResult {
    const channel = str(args, 'channel');
    const ts = str(args, 'ts');
    if (!channel) return fail('channel_not_found');
    const message = ts ? find(channel, ts) : undefined;
    if (!message) return fail('message_not_found');
    if (message.bot_id !== botId) return fail(notMine);
    return message;
  }

  function isMessage(value: FakeMessage | ApiResult): value is FakeMessage {
    return typeof value.ts === 'string' && Array.isArray(value.history);
  }

  // --- Web API methods -----------------------------------------------------------------------
  const methods: Record<string, (args: Args) => ApiResult> = {
    'auth.test': () => ({
      ok: true,
      url: `https://${SLACK_FAKE_DEFAULTS.teamDomain}.slack.com/`,
      team: 'Fake Team',
      user: 'fakebot',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),

    'apps.connections.open': () => {
      ticketCounter += 1;
      const ticket = String(ticketCounter);
      issuedTickets.add(ticket);
      return { ok: true, url: `ws://127.0.0.1:${port}/socket?ticket=${ticket}` };
    },

    'chat.postMessage': (args) => {
      const channel = str(args, 'channel');
      if (!channel) return fail('channel_not_found');
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const text = str(args, 'text') ?? '';
      if (text === '' && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
      const message = botMessage(channel, text, args, threadRoot(channel, str(args, 'thread_ts')));
      return { ok: true, channel, ts: message.ts, message: toSlack(message) };
    },

    'chat.update': (args) => {
      const found = ownMessage(args, 'cant_update_message');
      if (!isMessage(found)) return found;
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const text = str(args, 'text');
      if (text === undefined && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
      edit(found, (text ?? found.text).slice(0, TEXT_LIMIT), Array.isArray(args.blocks) ? args.blocks : undefined);
      return { ok: true, channel: found.channel, ts: found.ts, text: found.text, message: toSlack(found) };
    },

    'chat.delete': (args) => {
      const found = ownMessage(args, 'cant_delete_message');
      if (!isMessage(found)) return found;
      found.deleted = true;
      return { ok: true, channel: found.channel, ts: found.ts };
    },

    'users.info': (args) => {
      const user = str(args, 'user');
      if (!user) return fail('user_not_found');
      return { ok: true, user: { id: user, team_id: teamId, name: user.toLowerCase(), is_admin: workspaceAdmins.has(user), is_owner: false, is_bot: false } };
    },

    'chat.getPermalink': (args) => {
      const channel = str(args, 'channel');
      const ts = str(args, 'message_ts');
      const found = store.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
      if (!channel || !found) return fail('message_not_found');
      const thread = found.thread_ts ? `?thread_ts=${found.thread_ts}&cid=${channel}` : '';
      return { ok: true, channel, permalink: `https://fake.slack.com/archives/${channel}/p${found.ts.replace('.', '')}${thread}` };
    },

    'chat.postEphemeral': (args) => {
      const channel = str(args, 'channel');
      const user = str(args, 'user');
      if (!channel) return fail('channel_not_found');
      if (!user) return fail('user_not_in_channel');
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const text = str(args, 'text') ?? '';
      if (text === '' && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
      const threadTs = str(args, 'thread_ts');
      const ephemeral: FakeEphemeral = {
        channel,
        user,
        text,
        message_ts: nextTs(),
        via: 'api',
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
      };
      ephemerals.push(ephemeral);
      return { ok: true, message_ts: ephemeral.message_ts };
    },

    'conversations.replies': (args) => {
      const channel = str(args, 'channel');
      const ts = str(args, 'ts');
      if (!channel) return fail('channel_not_found');
      const root = ts ? find(channel, ts) : undefined;
      if (!root) return fail('thread_not_found');
      // A reply's ts gives just that reply; a parent's gives the whole thread.
      const all =
        root.thread_ts !== undefined
          ? [root]
          : [root, ...store.filter((m) => m.channel === channel && m.thread_ts === root.ts && !m.deleted).sort(byTs)];
      return messagePage(all, int(args, 'limit') ?? 1000);
    },

    'conversations.history': (args) => {
      const channel = str(args, 'channel');
      if (!channel) return fail('channel_not_found');
      const inclusive = flag(args, 'inclusive') ?? false;
      const oldest = tsToMicros(str(args, 'oldest') ?? '');
      const latest = tsToMicros(str(args, 'latest') ?? '');
      const within = (m: FakeMessage): boolean => {
        const at = tsToMicros(m.ts) ?? 0;
        if (oldest !== undefined && (inclusive ? at < oldest : at <= oldest)) return false;
        if (latest !== undefined && (inclusive ? at > latest : at >= latest)) return false;
        return true;
      };
      const all = store
        .filter((m) => m.channel === channel && m.thread_ts === undefined && !m.deleted && within(m))
        .sort(byTs)
        .reverse();
      return messagePage(all, int(args, 'limit') ?? 100);
    },

    'reactions.add': (args) => reactionChange(args, 'add'),
    'reactions.remove': (args) => reactionChange(args, 'remove'),

    'reactions.get': (args) => {
      const channel = str(args, 'channel');
      const ts = str(args, 'timestamp');
      if (!channel) return fail('channel_not_found');
      const message = ts ? find(channel, ts) : undefined;
      if (!message) return fail('message_not_found');
      return { ok: true, type: 'message', channel, message: toSlack(message) };
    },

    'chat.startStream': (args) => {
      const channel = str(args, 'channel');
      if (!channel) return fail('channel_not_found');
      const threadTs = str(args, 'thread_ts');
      if (!threadTs) return fail('invalid_arguments');
      // Outside DMs Slack needs to know whom the stream is for.
      if (!channel.startsWith('D')) {
        if (!str(args, 'recipient_team_id')) return fail('missing_recipient_team_id');
        if (!str(args, 'recipient_user_id')) return fail('missing_recipient_user_id');
      }
      const message = botMessage(channel, streamText(args), args, threadRoot(channel, threadTs));
      message.stream = 'streaming';
      return { ok: true, channel, ts: message.ts };
    },

    'chat.appendStream': (args) => {
      const found = ownMessage(args, 'message_not_in_streaming_state');
      if (!isMessage(found)) return found;
      if (found.stream !== 'streaming') return fail('message_not_in_streaming_state');
      const added = streamText(args);
      if (added !== '') edit(found, (found.text + added).slice(0, TEXT_LIMIT));
      return { ok: true, channel: found.channel, ts: found.ts };
    },

    'chat.stopStream': (args) => {
      const found = ownMessage(args, 'message_not_in_streaming_state');
      if (!isMessage(found)) return found;
      if (found.stream !== 'streaming') return fail('message_not_in_streaming_state');
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const added = streamText(args);
      const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
      if (added !== '' || blocks !== undefined) edit(found, (found.text + added).slice(0, TEXT_LIMIT), blocks);
      found.stream = 'stopped';
      return { ok: true, channel: found.channel, ts: found.ts, message: toSlack(found) };
    },
  };

  function reactionChange(args: Args, change: 'add' | 'remove'): ApiResult {
    const channel = str(args, 'channel');
    const ts = str(args, 'timestamp');
    const name = (str(args, 'name') ?? '').replace(/^:|:$/g, '');
    if (!channel) return fail('channel_not_found');
    if (name === '') return fail('invalid_name');
    const message = ts ? find(channel, ts) : undefined;
    if (!message) return fail('message_not_found');
    const reaction = message.reactions.find((r) => r.name === name);
    if (change === 'add') {
      if (reaction?.users.includes(botUserId)) return fail('already_reacted');
      if (reaction) reaction.users.push(botUserId);
      else message.reactions.push({ name, users: [botUserId] });
    } else {
      if (!reaction?.users.includes(botUserId)) return fail('no_reaction');
      reaction.users = reaction.users.filter((u) => u !== botUserId);
      if (reaction.users.length === 0) message.reactions = message.reactions.filter((r) => r !== reaction);
    }
    return { ok: true };
  }

  /** A queued failure for this method, consumed if present. */
  function takeFailure(method: string): FailureSpec | undefined {
    const queue = failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    if (queue.length === 0) failures.delete(method);
    return head.spec;
  }

  // --- HTTP ------------------------------------------------------------------------------------
  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const parsed = parseRequest(req, url, await readBody(req));
    const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = header ?? parsed.bodyToken;
    calls.push({ method, args: parsed.args, ...(token !== undefined ? { token } : {}), at: Date.now() });

    const failure = takeFailure(method);
    if (failure) {
      const status = failure.status ?? (failure.retryAfterSec !== undefined ? 429 : 200);
      const headers: Record<string, string> = {};
      if (failure.retryAfterSec !== undefined || status === 429) {
        headers['retry-after'] = String(failure.retryAfterSec ?? 1);
      }
      const error = failure.error ?? (status === 429 ? 'ratelimited' : 'internal_error');
      sendJson(res, status, fail(error), headers);
      return;
    }
    const handler = methods[method];
    if (!handler) return sendJson(res, 200, fail('unknown_method'));
    if (parsed.error) return sendJson(res, 200, fail(parsed.error));
    const expected = method === 'apps.connections.open' ? appToken : botToken;
    if (token !== expected) return sendJson(res, 200, fail('invalid_auth'));
    sendJson(res, 200, handler(parsed.args));
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (req.method !== 'POST' || !isRecord(body)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    let target = responseTargets.get(id);
    if (!target) {
      target = { channel: SLACK_FAKE_DEFAULTS.channelId, posts: 0 };
      responseTargets.set(id, target);
    }
    target.posts += 1;
    if (target.posts > RESPONSE_URL_MAX_POSTS) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('used_url');
      return;
    }
    responseUrlPosts.push({ id, body, at: Date.now() });
    applyResponse(target, body);
    sendJson(res, 200, { ok: true });
  }

  /** What a `response_url` post does to the workspace. */
  function applyResponse(target: ResponseTarget, body: Record<string, unknown>): void {
    const text = str(body, 'text') ?? '';
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    const last = target.last;
    if (flag(body, 'delete_original')) {
      if (last?.kind === 'message') last.message.deleted = true;
      if (last?.kind === 'ephemeral') ephemerals.splice(ephemerals.indexOf(last.ephemeral), 1);
      target.last = undefined;
      return;
    }
    if (flag(body, 'replace_original') && last) {
      if (last.kind === 'message') edit(last.message, text, blocks);
      else {
        last.ephemeral.text = text;
        if (blocks !== undefined) last.ephemeral.blocks = blocks;
      }
      return;
    }
    if (body.response_type === 'in_channel') {
      const message = botMessage(target.channel, text, body, threadRoot(target.channel, str(body, 'thread_ts')));
      target.last = { kind: 'message', message };
      return;
    }
    const ephemeral: FakeEphemeral = {
      channel: target.channel,
      text,
      message_ts: nextTs(),
      via: 'response_url',
      ...(target.user !== undefined ? { user: target.user } : {}),
      ...(blocks !== undefined ? { blocks } : {}),
    };
    ephemerals.push(ephemeral);
    target.last = { kind: 'ephemeral', ephemeral };
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const apiMethod = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1];
    const responseId = /^\/response\/([^/]+)$/.exec(url.pathname)?.[1];
    let work: Promise<void>;
    if (apiMethod) work = handleApi(req, res, url, apiMethod);
    else if (responseId) work = handleResponseUrl(req, res, decodeURIComponent(responseId));
    else {
      sendJson(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    work.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'fake_internal_error', detail: String(err) });
      else res.destroy();
    });
  });

  // --- Socket Mode -----------------------------------------------------------------------------
  // `ws` answers the client's pings with pongs by itself (autoPong), which keeps the client happy.
  const wss = new WebSocketServer({ noServer: true });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket');
    // Each URL from apps.connections.open is good for one connection.
    if (url.pathname !== '/socket' || ticket === null || !issuedTickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });

  function onSocket(ws: WebSocket): void {
    sockets.add(ws);
    totalSocketConnections += 1;
    ws.on('error', () => undefined);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) onClientMessage(rawToString(data));
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'fake', approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
    for (const wake of connectWaiters) wake();
    connectWaiters.clear();
  }

  function rawToString(data: RawData): string {
    if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
    if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
    return data.toString('utf8');
  }

  /** Client → server frames are acks: `{envelope_id, payload?}`. */
  function onClientMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(message) || typeof message.envelope_id !== 'string') return;
    const id = message.envelope_id;
    const sent = envelopes.find((e) => e.envelope_id === id);
    if (sent) {
      sent.acks += 1;
      if (sent.acks === 1 && 'payload' in message) sent.ackPayload = message.payload;
    }
    const pending = pendingAcks.get(id);
    if (!pending) return;
    pendingAcks.delete(id);
    clearTimeout(pending.timer);
    pending.resolve('payload' in message ? { envelope_id: id, ackPayload: message.payload } : { envelope_id: id });
  }

  function openSockets(): WebSocket[] {
    return [...sockets].filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** Resolves when every given socket has closed; terminates stragglers after `graceMs`. */
  function closed(targets: WebSocket[], graceMs: number): Promise<void> {
    return Promise.all(
      targets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => ws.terminate(), graceMs);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    ).then(() => undefined);
  }

  // --- start -----------------------------------------------------------------------------------
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  const fake: SlackFake = {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    port,
    botUserId,
    botId,
    teamId,
    botToken,
    appToken,
    calls,
    ephemerals,
    workspaceAdmins,
    responseUrlPosts,
    envelopes,

    callsTo: (method) => calls.filter((c) => c.method === method),

    failNext(method, response, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ spec: response, remaining: times });
      failures.set(method, queue);
    },

    seedMessage(input) {
      let ts = input.ts;
      if (ts === undefined) ts = nextTs();
      else {
        const micros = tsToMicros(ts);
        if (micros === undefined) throw new Error(`seedMessage: ts ${ts} is not a Slack timestamp`);
        if (store.some((m) => m.channel === input.channel && m.ts === ts)) {
          throw new Error(`seedMessage: ${input.channel} already has a message at ${ts}`);
        }
        lastTsMicros = Math.max(lastTsMicros, micros);
      }
      const threadTs = threadRoot(input.channel, input.thread_ts);
      addMessage({
        ts,
        channel: input.channel,
        text: input.text,
        user: input.user,
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      });
      return ts;
    },

    messages: (channel) =>
      store
        .filter((m) => channel === undefined || m.channel === channel)
        .sort(byTs)
        .map(snapshot),

    thread: (channel, threadTs) =>
      store
        .filter((m) => m.channel === channel && (m.ts === threadTs || m.thread_ts === threadTs))
        .sort(byTs)
        .map(snapshot),

    botReplies: (channel, threadTs) =>
      store
        .filter(
          (m) =>
            m.bot_id !== undefined &&
            !m.deleted &&
            (channel === undefined || m.channel === channel) &&
            (threadTs === undefined || m.thread_ts === threadTs),
        )
        .sort(byTs)
        .map(snapshot),

    responseUrl(id, options = {}) {
      responseUrlCounter += 1;
      const key = id ?? `R${responseUrlCounter}`;
      responseTargets.set(key, {
        channel: options.channel ?? SLACK_FAKE_DEFAULTS.channelId,
        posts: 0,
        ...(options.user !== undefined ? { user: options.user } : {}),
      });
      return `http://127.0.0.1:${port}/response/${encodeURIComponent(key)}`;
    },

    socketConnected(timeoutMs = 10_000) {
      if (openSockets().length > 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          connectWaiters.delete(wake);
          reject(new Error(`no Socket Mode client connected within ${timeoutMs} ms`));
        }, timeoutMs);
        connectWaiters.add(wake);
      });
    },

    sendEnvelope(type, payload, options = {}) {
      const target = openSockets().at(-1);
      if (!target) return Promise.reject(new Error('sendEnvelope: no Socket Mode client is connected'));
      const envelopeId = randomUUID();
      const ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
      envelopes.push({ envelope_id: envelopeId, type, payload, acks: 0 });
      const acked = new Promise<EnvelopeAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingAcks.delete(envelopeId);
          reject(new Error(`envelope ${envelopeId} (${type}) was not acked within ${ackTimeoutMs} ms`));
        }, ackTimeoutMs);
        pendingAcks.set(envelopeId, { resolve, reject, timer });
      });
      target.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          retry_attempt: options.retryAttempt ?? 0,
          retry_reason: options.retryReason ?? '',
        }),
      );
      return acked;
    },

    disconnectClients(reason = 'refresh_requested') {
      const targets = openSockets();
      for (const ws of targets) {
        ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake' } }));
      }
      return closed(targets, 5_000);
    },

    dropClients() {
      const targets = [...sockets];
      for (const ws of targets) ws.terminate();
      return closed(targets, 0);
    },

    get socketConnections() {
      return openSockets().length;
    },

    get totalSocketConnections() {
      return totalSocketConnections;
    },

    async waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },

    reset() {
      store.length = 0;
      calls.length = 0;
      ephemerals.length = 0;
      responseUrlPosts.length = 0;
      envelopes.length = 0;
      responseTargets.clear();
      failures.clear();
      totalSocketConnections = openSockets().length;
      // ts keeps counting up, so timestamps stay unique across a reset.
    },

    async close() {
      for (const [id, pending] of pendingAcks) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`fake closed before envelope ${id} was acked`));
      }
      pendingAcks.clear();
      // Let close handshakes already under way (a stopping client) finish, and close the rest
      // politely, so clients see a clean close rather than a socket error; cut stragglers after 1 s.
      const targets = [...sockets];
      for (const ws of targets) if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'server shutting down');
      await closed(targets, 1_000);
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
