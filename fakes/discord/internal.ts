/** The fake's internal shapes (stored state, gateway sessions, REST plumbing) and small helpers. */
import type { WebSocket } from 'ws';
import { isRecord } from '../http.ts';
import type { ApiAttachment, UploadedFile, FailMatch, FailResponse, ForumTag } from './types.ts';

export interface UserState {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
}

export interface ChannelState {
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
  /** Forums. */
  availableTags?: ForumTag[];
  /** Forum posts. */
  appliedTags?: string[];
}

export interface GuildState {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  /** Users seen in this guild (the bot included); they appear in GUILD_CREATE and member routes. */
  memberIds: Set<string>;
}

export interface GatewayFrame {
  op: number;
  d: unknown;
  s: number | null;
  t: string | null;
}

export interface GatewaySession {
  id: string;
  intents: number;
  seq: number;
  /** Dispatches sent (or due) on this session, for Resume. */
  buffer: GatewayFrame[];
  conn: GatewayConnection | null;
  /** READY and the GUILD_CREATEs went out. */
  ready: boolean;
}

export interface GatewayConnection {
  ws: WebSocket;
  session: GatewaySession | null;
}

export interface PendingFailure {
  match: FailMatch;
  response: FailResponse;
  remaining: number;
}

export interface RestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: ParsedFile[];
}

export interface ParsedFile extends UploadedFile {
  /** `files[N]` → N; matches `attachments[].id` in the payload. */
  index: string;
}

/** The content-bearing parts of a message body. */
export interface MessageParts {
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: ApiAttachment[];
}

export interface RestResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  auth: boolean;
  handler: (ctx: RestContext) => RestResult;
}

/** An error answered as Discord's JSON error body. */
export class ApiError extends Error {
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

export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function optString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isSnowflake(value: string): boolean {
  return /^\d{1,20}$/.test(value);
}

/** Discord's "Invalid Form Body" (50035) with one field error. */
export function formError(field: string, code: string, message: string): ApiError {
  return new ApiError(400, 50035, 'Invalid Form Body', { [field]: { _errors: [{ code, message }] } });
}

export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Mentions written in message content. */
export function parseContentMentions(content: string): { users: string[]; roles: string[]; everyone: boolean } {
  const users = [...content.matchAll(/<@!?(\d{1,20})>/g)].map((m) => m[1] ?? '');
  const roles = [...content.matchAll(/<@&(\d{1,20})>/g)].map((m) => m[1] ?? '');
  return { users: [...new Set(users)], roles: [...new Set(roles)], everyone: /@(everyone|here)\b/.test(content) };
}

/** Content length as Discord counts it (code points). */
export function contentLength(content: string): number {
  return [...content].length;
}
