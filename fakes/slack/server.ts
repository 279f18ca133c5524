/**
 * A loopback fake of Slack for tests: the Web API methods a chat bot uses (with message state),
 * `response_url` endpoints, and a Socket Mode WebSocket server, all on one 127.0.0.1 port.
 * Parts: workspace.ts (message state), web-api.ts (the methods), request.ts (argument parsing),
 * response-url.ts, files.ts (url_private downloads), socket-mode.ts; this file routes HTTP,
 * checks tokens and injects failures.
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
 *   `recipient_user_id`; appending to or stopping a stopped or expired (idle past
 *   `streamIdleTimeoutMs`) stream fails with `message_not_in_streaming_state`, one a person
 *   stopped (`stopAgentSession`) with `stopped_by_user`; `streamRefusal` refuses new streams;
 * - agent sessions take only `active|processing|suspended|closed`, keep the title they were created
 *   with; suggested prompts are 1 to 4 `{title, message}`;
 * - a `response_url` takes at most 5 posts;
 * - hosted files (`hostFile`) are served only to the bot token, as `url_private` is;
 * - `POST /fake/messages` seeds a person's message from another process (not a Slack API).
 * Rate limits are not simulated; inject them with `failNext`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isRecord, listenOnLoopback, readJson, readText, sendJson } from '../http.ts';
import { fail, parseRequest } from './request.ts';
import { HostedFiles } from './files.ts';
import { ResponseUrls } from './response-url.ts';
import { SLACK_FAKE_DEFAULTS } from './signing.ts';
import { SocketMode } from './socket-mode.ts';
import type { FailureSpec, FakeCall, SlackFake, SlackFakeOptions } from './types.ts';
import { webApiMethods } from './web-api.ts';
import { Workspace } from './workspace.ts';

export type * from './types.ts';

export async function startSlackFake(opts: SlackFakeOptions = {}): Promise<SlackFake> {
  const botUserId = opts.botUserId ?? SLACK_FAKE_DEFAULTS.botUserId;
  const botId = opts.botId ?? SLACK_FAKE_DEFAULTS.botId;
  const teamId = opts.teamId ?? SLACK_FAKE_DEFAULTS.teamId;
  const botToken = opts.botToken ?? SLACK_FAKE_DEFAULTS.botToken;
  const appToken = opts.appToken ?? SLACK_FAKE_DEFAULTS.appToken;
  const appId = SLACK_FAKE_DEFAULTS.apiAppId;

  const workspace = new Workspace({ botUserId, botId, teamId, appId });
  const responseUrls = new ResponseUrls(workspace);
  const socketMode = new SocketMode(appId);
  const files = new HostedFiles(botToken);
  const calls: FakeCall[] = [];
  const failures = new Map<string, Array<{ spec: FailureSpec; remaining: number }>>();
  let port = 0;
  const methods = webApiMethods(workspace, () => socketMode.openUrl(port));

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

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const parsed = parseRequest(req, url, await readText(req));
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

  /**
   * `POST /fake/messages` `{channel, user, text, ts?, thread_ts?}`: not a Slack API, a door for a
   * separate process (scripts/slack-mention.ts) to do what `seedMessage` does: put a person's
   * message in the workspace before the event about it is sent, as Slack would hold it.
   */
  async function handleSeed(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const field = (key: string) => (isRecord(body) && typeof body[key] === 'string' ? body[key] : undefined);
    const [channel, user, text] = [field('channel'), field('user'), field('text')];
    if (req.method !== 'POST' || !channel || !user || text === undefined) {
      return sendJson(res, 400, { ok: false, error: 'expected POST {channel, user, text, ts?, thread_ts?}' });
    }
    const ts = field('ts');
    const threadTs = field('thread_ts');
    try {
      sendJson(res, 200, { ok: true, ts: workspace.seedMessage({ channel, user, text, ...(ts ? { ts } : {}), ...(threadTs ? { thread_ts: threadTs } : {}) }) });
    } catch (err) {
      sendJson(res, 400, { ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const apiMethod = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1];
    const responseId = /^\/response\/([^/]+)$/.exec(url.pathname)?.[1];
    const fileId = /^\/files\/(F\d+)\/[^/]+$/.exec(url.pathname)?.[1];
    const seeding = url.pathname === '/fake/messages';
    let work: Promise<void>;
    if (apiMethod) work = handleApi(req, res, url, apiMethod);
    else if (responseId) work = responseUrls.handle(req, res, decodeURIComponent(responseId));
    else if (fileId) work = Promise.resolve(files.handle(req, res, fileId));
    else if (seeding) work = handleSeed(req, res);
    else {
      sendJson(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    work.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'fake_internal_error', detail: String(err) });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => socketMode.upgrade(req, socket, head));
  port = await listenOnLoopback(server, opts.port ?? 0);

  const fake: SlackFake = {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    port,
    botUserId,
    botId,
    teamId,
    botToken,
    appToken,
    calls,
    ephemerals: workspace.ephemerals,
    workspaceAdmins: workspace.workspaceAdmins,
    agentSessions: workspace.agentSessions,
    suggestedPrompts: workspace.suggestedPrompts,
    responseUrlPosts: responseUrls.posts,
    envelopes: socketMode.envelopes,

    callsTo: (method) => calls.filter((c) => c.method === method),

    failNext(method, response, times = 1) {
      const queue = failures.get(method) ?? [];
      queue.push({ spec: response, remaining: times });
      failures.set(method, queue);
    },

    seedMessage: (input) => workspace.seedMessage(input),

    agentSession: (channel, threadTs) => workspace.agentSessions.get(`${channel}:${threadTs}`),

    get streamIdleTimeoutMs() {
      return workspace.streamIdleTimeoutMs;
    },
    set streamIdleTimeoutMs(ms: number) {
      workspace.streamIdleTimeoutMs = ms;
    },
    get streamRefusal() {
      return workspace.streamRefusal;
    },
    set streamRefusal(error: string | undefined) {
      workspace.streamRefusal = error;
    },

    stopAgentSession(channel, threadTs, user) {
      const stopped = workspace
        .replies(channel, threadTs)
        .filter((message) => message.bot_id !== undefined && workspace.streamOpen(message));
      for (const message of stopped) {
        message.stream = 'stopped';
        message.streamStoppedByUser = true;
      }
      const eventTs = workspace.nextTs();
      return { type: 'agent_session_stopped', channel, thread_ts: threadTs, user, event_ts: eventTs, streaming_message_ts: stopped.map((message) => message.ts) };
    },

    messages: (channel) => workspace.snapshots((m) => channel === undefined || m.channel === channel),

    thread: (channel, threadTs) => workspace.snapshots((m) => m.channel === channel && (m.ts === threadTs || m.thread_ts === threadTs)),

    botReplies: (channel, threadTs) =>
      workspace.snapshots(
        (m) =>
          m.bot_id !== undefined &&
          !m.deleted &&
          (channel === undefined || m.channel === channel) &&
          (threadTs === undefined || m.thread_ts === threadTs),
      ),

    responseUrl(id, options = {}) {
      return `http://127.0.0.1:${port}/response/${encodeURIComponent(responseUrls.create(id, options))}`;
    },

    hostFile: (name, body, mimetype = 'application/octet-stream') => files.add(`http://127.0.0.1:${port}`, name, body, mimetype),
    fileDownloads: files.downloads,

    socketConnected: (timeoutMs = 10_000) => socketMode.connected(timeoutMs),
    sendEnvelope: (type, payload, options = {}) => socketMode.send(type, payload, options),
    disconnectClients: (reason = 'refresh_requested') => socketMode.disconnect(reason),
    dropClients: () => socketMode.drop(),

    get socketConnections() {
      return socketMode.openConnections;
    },

    get totalSocketConnections() {
      return socketMode.totalConnections;
    },

    async waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },

    reset() {
      workspace.reset();
      calls.length = 0;
      responseUrls.reset();
      files.reset();
      socketMode.reset();
      failures.clear();
    },

    async close() {
      await socketMode.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
