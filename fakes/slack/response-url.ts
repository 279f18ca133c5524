/**
 * `response_url` endpoints (`/response/<id>`): what a slash command's or an interaction's reply
 * posts do to the workspace. Each URL takes at most 5 posts, as on Slack.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, readJson, sendJson } from '../http.ts';
import { flag, str } from './request.ts';
import { SLACK_FAKE_DEFAULTS } from './signing.ts';
import type { FakeEphemeral, FakeMessage, ResponseUrlOptions, ResponseUrlPost } from './types.ts';
import type { Workspace } from './workspace.ts';

const RESPONSE_URL_MAX_POSTS = 5;

interface ResponseTarget {
  channel: string;
  user?: string;
  posts: number;
  /** What the last post created, so `replace_original` / `delete_original` can act on it. */
  last?: { kind: 'message'; message: FakeMessage } | { kind: 'ephemeral'; ephemeral: FakeEphemeral };
}

export class ResponseUrls {
  readonly posts: ResponseUrlPost[] = [];
  readonly #workspace: Workspace;
  readonly #targets = new Map<string, ResponseTarget>();
  #counter = 0;

  constructor(workspace: Workspace) {
    this.#workspace = workspace;
  }

  /** Registers a target and returns its path id (`id`, or a generated `R<n>`). */
  create(id: string | undefined, options: ResponseUrlOptions): string {
    this.#counter += 1;
    const key = id ?? `R${this.#counter}`;
    this.#targets.set(key, {
      channel: options.channel ?? SLACK_FAKE_DEFAULTS.channelId,
      posts: 0,
      ...(options.user !== undefined ? { user: options.user } : {}),
    });
    return key;
  }

  async handle(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = await readJson(req);
    if (req.method !== 'POST' || !isRecord(body)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    let target = this.#targets.get(id);
    if (!target) {
      target = { channel: SLACK_FAKE_DEFAULTS.channelId, posts: 0 };
      this.#targets.set(id, target);
    }
    target.posts += 1;
    if (target.posts > RESPONSE_URL_MAX_POSTS) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('used_url');
      return;
    }
    this.posts.push({ id, body, at: Date.now() });
    this.#apply(target, body);
    sendJson(res, 200, { ok: true });
  }

  reset(): void {
    this.posts.length = 0;
    this.#targets.clear();
  }

  /** What a `response_url` post does to the workspace. */
  #apply(target: ResponseTarget, body: Record<string, unknown>): void {
    const workspace = this.#workspace;
    const text = str(body, 'text') ?? '';
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    const last = target.last;
    if (flag(body, 'delete_original')) {
      if (last?.kind === 'message') last.message.deleted = true;
      if (last?.kind === 'ephemeral') workspace.ephemerals.splice(workspace.ephemerals.indexOf(last.ephemeral), 1);
      target.last = undefined;
      return;
    }
    if (flag(body, 'replace_original') && last) {
      if (last.kind === 'message') workspace.edit(last.message, text, blocks);
      else {
        last.ephemeral.text = text;
        if (blocks !== undefined) last.ephemeral.blocks = blocks;
      }
      return;
    }
    if (body.response_type === 'in_channel') {
      const message = workspace.botMessage(target.channel, text, body, workspace.threadRoot(target.channel, str(body, 'thread_ts')));
      target.last = { kind: 'message', message };
      return;
    }
    const ephemeral: FakeEphemeral = {
      channel: target.channel,
      text,
      message_ts: workspace.nextTs(),
      via: 'response_url',
      ...(target.user !== undefined ? { user: target.user } : {}),
      ...(blocks !== undefined ? { blocks } : {}),
    };
    workspace.ephemerals.push(ephemeral);
    target.last = { kind: 'ephemeral', ephemeral };
  }
}
