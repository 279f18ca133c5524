/**
 * The workspace the Slack fake keeps: messages (bot and human) with their Slack timestamps,
 * threads, edits and reactions, ephemerals, and the workspace admins `users.info` reports.
 */
import { fail, flag, str, type ApiResult, type Args } from './request.ts';
import type { FakeAgentSession, FakeEphemeral, FakeMessage, FakeMessageMetadata, FakeSuggestedPrompts, SeedMessageInput } from './types.ts';

export const TEXT_LIMIT = 40_000;
/** Generated timestamps start here and step by 100 µs: `1700000000.000100`, `…000200`, … */
const TS_BASE_MICROS = 1_700_000_000 * 1_000_000;
const TS_STEP_MICROS = 100;

export function tsToMicros(ts: string): number | undefined {
  const match = /^(\d{1,12})\.(\d{1,6})$/.exec(ts);
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * 1_000_000 + Number(match[2].padEnd(6, '0'));
}

function microsToTs(micros: number): string {
  const sec = Math.floor(micros / 1_000_000);
  return `${sec}.${String(micros - sec * 1_000_000).padStart(6, '0')}`;
}

export function byTs(a: { ts: string }, b: { ts: string }): number {
  return (tsToMicros(a.ts) ?? 0) - (tsToMicros(b.ts) ?? 0);
}

export function snapshot(m: FakeMessage): FakeMessage {
  return structuredClone(m);
}

export function isMessage(value: FakeMessage | ApiResult): value is FakeMessage {
  return typeof value.ts === 'string' && Array.isArray(value.history);
}

export interface WorkspaceIds {
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
}

export class Workspace {
  readonly ids: WorkspaceIds;
  readonly store: FakeMessage[] = [];
  /** The store by channel and ts: a bench run posts and edits tens of thousands of messages, each found by its ts. */
  readonly #byChannelTs = new Map<string, Map<string, FakeMessage>>();
  readonly ephemerals: FakeEphemeral[] = [];
  /** Users `users.info` reports as workspace admins. */
  readonly workspaceAdmins = new Set<string>();
  readonly agentSessions = new Map<string, FakeAgentSession>();
  readonly suggestedPrompts: FakeSuggestedPrompts[] = [];
  streamIdleTimeoutMs = 5 * 60_000;
  streamRefusal: string | undefined;
  #lastTsMicros = TS_BASE_MICROS;

  constructor(ids: WorkspaceIds) {
    this.ids = ids;
  }

  /** A fresh ts, later than every ts seen so far. */
  nextTs(): string {
    this.#lastTsMicros += TS_STEP_MICROS;
    return microsToTs(this.#lastTsMicros);
  }

  find(channel: string, ts: string): FakeMessage | undefined {
    const message = this.#byChannelTs.get(channel)?.get(ts);
    return message && !message.deleted ? message : undefined;
  }

  /** The thread a new reply belongs to: replying to a reply puts it in the parent's thread. */
  threadRoot(channel: string, threadTs: string | undefined): string | undefined {
    if (threadTs === undefined || threadTs === '') return undefined;
    return this.find(channel, threadTs)?.thread_ts ?? threadTs;
  }

  /** Live replies in the thread under `root`, in ts order. */
  replies(channel: string, rootTs: string): FakeMessage[] {
    return this.store.filter((m) => m.channel === channel && m.thread_ts === rootTs && !m.deleted).sort(byTs);
  }

  /** One page of a conversations.* listing (no cursors: the first `limit` messages); metadata only when asked for. */
  messagePage(all: FakeMessage[], limit: number, includeMetadata = false): ApiResult {
    const page = all.slice(0, Math.max(1, limit));
    return {
      ok: true,
      messages: page.map((m) => this.toSlack(m, includeMetadata)),
      has_more: page.length < all.length,
      response_metadata: { next_cursor: '' },
    };
  }

  /** A message as the Web API returns it. */
  toSlack(m: FakeMessage, includeMetadata = false): Record<string, unknown> {
    const out: Record<string, unknown> = { type: 'message', ts: m.ts, text: m.text, team: this.ids.teamId };
    if (includeMetadata && m.metadata !== undefined) out.metadata = m.metadata;
    if (m.user !== undefined) out.user = m.user;
    if (m.bot_id !== undefined) {
      out.bot_id = m.bot_id;
      out.app_id = this.ids.appId;
    }
    if (m.blocks !== undefined) out.blocks = m.blocks;
    if (m.thread_ts !== undefined) out.thread_ts = m.thread_ts;
    if (m.edited_ts !== undefined) out.edited = { user: m.user ?? this.ids.botUserId, ts: m.edited_ts };
    if (m.reactions.length > 0) {
      out.reactions = m.reactions.map((r) => ({ name: r.name, users: [...r.users], count: r.users.length }));
    }
    if (m.thread_ts === undefined) {
      const replies = this.replies(m.channel, m.ts);
      const latest = replies.at(-1);
      if (latest) {
        out.thread_ts = m.ts;
        out.reply_count = replies.length;
        out.latest_reply = latest.ts;
      }
    }
    return out;
  }

  addMessage(fields: Omit<FakeMessage, 'edits' | 'history' | 'deleted' | 'reactions'>): FakeMessage {
    const message: FakeMessage = { ...fields, edits: 0, history: [fields.text], deleted: false, reactions: [] };
    this.store.push(message);
    let channel = this.#byChannelTs.get(message.channel);
    if (!channel) this.#byChannelTs.set(message.channel, (channel = new Map()));
    channel.set(message.ts, message);
    return message;
  }

  /** Record a change of text (and blocks) on an existing message. */
  edit(message: FakeMessage, text: string, blocks?: unknown[]): void {
    message.text = text;
    if (blocks !== undefined) message.blocks = blocks;
    message.edits += 1;
    message.history.push(text);
    message.edited_ts = this.nextTs();
  }

  botMessage(channel: string, text: string, args: Args, threadTs?: string, metadata?: FakeMessageMetadata): FakeMessage {
    const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
    const mrkdwn = flag(args, 'mrkdwn');
    return this.addMessage({
      ...(metadata !== undefined ? { metadata } : {}),
      ts: this.nextTs(),
      channel,
      text: text.slice(0, TEXT_LIMIT),
      user: this.ids.botUserId,
      bot_id: this.ids.botId,
      ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      ...(blocks !== undefined ? { blocks } : {}),
      ...(mrkdwn !== undefined ? { mrkdwn } : {}),
    });
  }

  /** The live message `args` name (`channel` and the `tsKey` argument), or the error Slack gives. */
  messageAt(args: Args, tsKey: string, notFound = 'message_not_found'): FakeMessage | ApiResult {
    const channel = str(args, 'channel');
    const ts = str(args, tsKey);
    if (!channel) return fail('channel_not_found');
    const message = ts ? this.find(channel, ts) : undefined;
    return message ?? fail(notFound);
  }

  /** A live message the bot may change, or the error Slack gives. */
  ownMessage(args: Args, notMine: string): FakeMessage | ApiResult {
    const message = this.messageAt(args, 'ts');
    if (isMessage(message) && message.bot_id !== this.ids.botId) return fail(notMine);
    return message;
  }

  /** Put a (human) message into the workspace; returns its ts. */
  seedMessage(input: SeedMessageInput): string {
    let ts = input.ts;
    if (ts === undefined) ts = this.nextTs();
    else {
      const micros = tsToMicros(ts);
      if (micros === undefined) throw new Error(`seedMessage: ts ${ts} is not a Slack timestamp`);
      if (this.#byChannelTs.get(input.channel)?.has(ts)) {
        throw new Error(`seedMessage: ${input.channel} already has a message at ${ts}`);
      }
      this.#lastTsMicros = Math.max(this.#lastTsMicros, micros);
    }
    const threadTs = this.threadRoot(input.channel, input.thread_ts);
    this.addMessage({
      ts,
      channel: input.channel,
      text: input.text,
      user: input.user,
      ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
    });
    return ts;
  }

  /** Messages matching `keep`, in ts order; snapshots. */
  snapshots(keep: (m: FakeMessage) => boolean): FakeMessage[] {
    return this.store.filter(keep).sort(byTs).map(snapshot);
  }

  /** Whether a stream message is still open; one idle past the timeout is closed now. */
  streamOpen(message: FakeMessage, now = Date.now()): boolean {
    if (message.stream !== 'streaming') return false;
    if (now - (message.streamTouchedAt ?? now) <= this.streamIdleTimeoutMs) return true;
    message.stream = 'stopped';
    return false;
  }

  /** Sets a thread's agent session status, creating the session (with its title) if needed. */
  setSessionStatus(channel: string, threadTs: string, status: FakeAgentSession['status'], created: { title?: string; initiator?: string } = {}): FakeAgentSession {
    const key = `${channel}:${threadTs}`;
    let session = this.agentSessions.get(key);
    if (!session) {
      session = { channel, thread_ts: threadTs, status, history: [], ...(created.title ? { title: created.title } : {}), ...(created.initiator ? { initiator_user_id: created.initiator } : {}) };
      this.agentSessions.set(key, session);
    }
    session.status = status;
    session.history.push(status);
    return session;
  }

  /** Forget messages and ephemerals; ts keeps counting up, so timestamps stay unique across a reset. */
  reset(): void {
    this.store.length = 0;
    this.#byChannelTs.clear();
    this.ephemerals.length = 0;
    this.agentSessions.clear();
    this.suggestedPrompts.length = 0;
    this.streamIdleTimeoutMs = 5 * 60_000;
    this.streamRefusal = undefined;
  }
}
