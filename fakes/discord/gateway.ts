/**
 * The Gateway (`ws://…/gateway`): Hello, Identify / Resume, heartbeats, intents, READY and
 * GUILD_CREATE, dispatches (buffered per session for Resume), and the test-side controls
 * (reconnect, invalidate session).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { isRecord } from '../http.ts';
import { rawToString } from '../websocket.ts';
import type { StoredMessage, IdentifyRecord } from './types.ts';
import { MessageFlag, Intent, PRIVILEGED_INTENTS, MAX_INTENTS, Op, REPLAY_BUFFER } from './protocol.ts';
import { type GatewayFrame, type GatewaySession, type GatewayConnection, asRecord, optString, stringArray } from './internal.ts';
import type { DiscordState } from './state.ts';
import type { Views } from './views.ts';

export class Gateway {
  readonly #state: DiscordState;
  readonly #views: Views;
  readonly identifies: IdentifyRecord[] = [];
  readonly gatewayReceived: Array<{ op: number; d: unknown; at: number }> = [];
  readonly gatewayConnects: Array<{ query: Record<string, string>; at: number }> = [];
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #connections = new Set<GatewayConnection>();
  readonly #sessions = new Map<string, GatewaySession>();
  #readyWaiters: Array<() => void> = [];
  #resumes = 0;

  constructor(state: DiscordState, views: Views) {
    this.#state = state;
    this.#views = views;
  }

  get resumes(): number {
    return this.#resumes;
  }

  get connectedClients(): number {
    let n = 0;
    for (const c of this.#connections) if (c.session && c.ws.readyState === WebSocket.OPEN) n += 1;
    return n;
  }

  /** Sends a dispatch to every ready session for which `build` returns a payload. */
  broadcast(t: string, build: (session: GatewaySession) => unknown): number {
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
    return this.broadcast(t, () => d);
  }

  /** The bot's own messages come back over the gateway too (unless `echoBotMessages: false`). */
  echo(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', message: StoredMessage): void {
    if (!this.#state.opts.echoBotMessages) return;
    if ((message.flags & MessageFlag.Ephemeral) !== 0) return;
    this.dispatchMessage(t, message);
  }

  /**
   * Message events, filtered as Discord does: guild messages need GuildMessages, DMs need
   * DirectMessages, and without MessageContent the content, embeds, attachments and components
   * are blank except in DMs, when the bot is mentioned, or for the bot's own messages.
   */
  dispatchMessage(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', message: StoredMessage): void {
    const isDm = !message.guild_id;
    const needed = isDm ? Intent.DirectMessages : Intent.GuildMessages;
    if (t === 'MESSAGE_DELETE') {
      const d: Record<string, unknown> = { id: message.id, channel_id: message.channel_id };
      if (message.guild_id) d.guild_id = message.guild_id;
      this.broadcast(t, (session) => (session.intents & needed ? d : undefined));
      return;
    }
    const full = this.#views.messageJson(message, true);
    const exempt = isDm || message.own || message.pings.users.includes(this.#state.opts.botUserId);
    const blank = { ...full, content: '', embeds: [], attachments: [], components: [] };
    this.broadcast(t, (session) => {
      if (!(session.intents & needed)) return undefined;
      return session.intents & Intent.MessageContent || exempt ? full : blank;
    });
  }

  dispatchReaction(t: string, message: StoredMessage, emoji: string, userId: string): void {
    const needed = message.guild_id ? Intent.GuildMessageReactions : Intent.DirectMessageReactions;
    const guild = message.guild_id ? this.#state.guilds.get(message.guild_id) : undefined;
    const d: Record<string, unknown> = {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      emoji: this.#views.emojiJson(emoji),
      burst: false,
      type: 0,
    };
    if (guild) {
      d.guild_id = guild.id;
      if (t === 'MESSAGE_REACTION_ADD') d.member = this.#views.memberJson(guild, userId, true);
    }
    if (t === 'MESSAGE_REACTION_ADD') d.message_author_id = message.author_id;
    this.broadcast(t, (session) => (session.intents & needed ? d : undefined));
  }

  #sendFrame(conn: GatewayConnection, frame: GatewayFrame): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(frame));
  }

  #closeConn(conn: GatewayConnection, code: number, reason: string): void {
    if (conn.ws.readyState === WebSocket.OPEN || conn.ws.readyState === WebSocket.CONNECTING) conn.ws.close(code, reason);
  }

  #onGatewayConnection(ws: WebSocket, req: IncomingMessage): void {
    const query = Object.fromEntries(new URL(req.url ?? '/', this.#state.url).searchParams);
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
      d: { heartbeat_interval: this.#state.opts.heartbeatIntervalMs, _trace: ['["discord-fake",{"micros":0}]'] },
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
    return typeof value === 'string' && value.replace(/^Bot\s+/i, '') === this.#state.token;
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
    if (intents & PRIVILEGED_INTENTS & ~this.#state.opts.allowedPrivilegedIntents) {
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
    const guilds = [...this.#state.guilds.values()];
    this.#dispatchTo(session, 'READY', {
      v: 10,
      user_settings: {},
      user: { ...this.#views.userJson(this.#state.opts.botUserId), verified: true, mfa_enabled: false, flags: 0, email: null },
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.#state.gatewayUrl,
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['us-east'],
      application: { id: this.#state.applicationId, flags: 0 },
      shard: [0, 1],
      _trace: ['["discord-fake",{"micros":0}]'],
    });
    // Without the Guilds intent Discord sends no GUILD_CREATE (discord.js then stops waiting at once).
    if (intents & Intent.Guilds) for (const guild of guilds) this.#dispatchTo(session, 'GUILD_CREATE', this.#views.guildJson(guild));
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
    const guild = this.#state.guilds.get(optString(d.guild_id) ?? '');
    if (!guild) return;
    const wanted = stringArray(d.user_ids) ?? (typeof d.user_ids === 'string' ? [d.user_ids] : undefined);
    const query = optString(d.query) ?? '';
    const limit = typeof d.limit === 'number' && d.limit > 0 ? d.limit : Number.POSITIVE_INFINITY;
    const ids = [...guild.memberIds].filter((id) =>
      wanted ? wanted.includes(id) : (this.#state.users.get(id)?.username ?? '').toLowerCase().startsWith(query.toLowerCase()),
    );
    const chunk: Record<string, unknown> = {
      guild_id: guild.id,
      members: ids.slice(0, limit).map((id) => this.#views.memberJson(guild, id, true)),
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted ? wanted.filter((id) => !guild.memberIds.has(id)) : [],
    };
    if (d.nonce !== undefined) chunk.nonce = d.nonce;
    this.#dispatchTo(session, 'GUILD_MEMBERS_CHUNK', chunk);
  }

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

  /** The HTTP server's `upgrade` handler: `/gateway` only. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== '/gateway' && pathname !== '/gateway/') {
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onGatewayConnection(ws, req));
  }

  reset(): void {
    this.identifies.length = 0;
    this.gatewayReceived.length = 0;
    this.gatewayConnects.length = 0;
    this.#resumes = 0;
  }

  async close(): Promise<void> {
    for (const conn of this.#connections) conn.ws.terminate();
    this.#connections.clear();
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
