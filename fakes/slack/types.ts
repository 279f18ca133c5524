/** The Slack fake's public types: options, stored messages, recorded calls and the handle. */
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
  /** When the stream last took a call (start or append), ms; an idle stream expires. */
  streamTouchedAt?: number;
  /** A person stopped the stream (the agent's stop button): further appends fail with `stopped_by_user`. */
  streamStoppedByUser?: boolean;
  /** `ts` of the latest edit, when edited. */
  edited_ts?: string;
  /** Message metadata the app posted; listings return it only with `include_all_metadata`. */
  metadata?: FakeMessageMetadata;
}

export interface FakeMessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** An agent session (`agents.sessions.setStatus`): one per thread. */
export interface FakeAgentSession {
  channel: string;
  thread_ts: string;
  status: 'active' | 'processing' | 'suspended' | 'closed';
  /** Set when the session was created with one; later titles are ignored, as in Slack. */
  title?: string;
  initiator_user_id?: string;
  /** Every status it has had, oldest first. */
  history: string[];
}

/** What `assistant.threads.setSuggestedPrompts` last set on a thread. */
export interface FakeSuggestedPrompts {
  channel: string;
  thread_ts: string;
  title?: string;
  prompts: Array<{ title: string; message: string }>;
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

/** A hosted file, as a message event's `files` entry carries it. */
export interface HostedFile {
  id: string;
  name: string;
  mimetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
}

export interface FileDownload {
  id: string;
  name: string;
  /** The request carried the bot token. */
  authorized: boolean;
  at: number;
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

  /** Host a file as Slack does (`url_private_download`, bot token required); put the answer in an event's `files`. */
  hostFile(name: string, body: Buffer, mimetype?: string): HostedFile;
  /** Every request for a hosted file, authorized or not. */
  readonly fileDownloads: FileDownload[];

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

  /** Agent sessions by `channel:thread_ts`. */
  readonly agentSessions: Map<string, FakeAgentSession>;
  agentSession(channel: string, threadTs: string): FakeAgentSession | undefined;
  readonly suggestedPrompts: FakeSuggestedPrompts[];
  /** A native stream idle this long expires (`message_not_in_streaming_state`); default 5 minutes. */
  streamIdleTimeoutMs: number;
  /** Refuse `chat.startStream` with this error (e.g. `feature_not_enabled`) until set back to undefined. */
  streamRefusal: string | undefined;
  /**
   * A person clicks the agent's stop button in a thread: Slack stops the app's open streams there
   * and sends `agent_session_stopped`. Returns that event, for the test to deliver.
   */
  stopAgentSession(channel: string, threadTs: string, user: string): Record<string, unknown>;

  /** Poll `predicate` every 10 ms until true; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Forget messages, calls, ephemerals, response posts, envelopes, hosted files and pending failures. */
  reset(): void;
  /** Stop the server and cut every socket. */
  close(): Promise<void>;
}
