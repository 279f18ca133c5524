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
 * - Threads and forums: `createThread()` starts a thread or a forum post (THREAD_CREATE); a forum's
 *   `available_tags` and a post's `applied_tags` (set with `PATCH /channels/:id`) are kept.
 * - Button clicks (`componentInteraction()`): the click's `@original` is the clicked message.
 * - HTTP interactions: with `interactionsEndpoint` set, interactions are POSTed there signed with
 *   Ed25519 (`publicKey` is the matching DISCORD_PUBLIC_KEY) and the HTTP answer is the response.
 * - `rateLimitEdits(n)` answers the next n message edits with 429 and `retry_after`.
 *
 * Tests drive the "user" side with `messageCreate()`, `interactionCreate()`, `componentInteraction()`
 * and `dispatch()`, and assert on what the bot did through `messages()`, `interactionResponses`,
 * `requests`, and so on.
 *
 * Parts: state.ts (the world), views.ts (JSON shapes), rest.ts + routes.ts (REST), messaging.ts,
 * interactions.ts, http-delivery.ts, commands.ts, gateway.ts, actors.ts (the test side); this file
 * wires them up.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { listenOnLoopback } from '../http.ts';
import { Actors } from './actors.ts';
import { Commands } from './commands.ts';
import { Gateway } from './gateway.ts';
import { HttpDeliveries } from './http-delivery.ts';
import { Interactions } from './interactions.ts';
import { Messaging } from './messaging.ts';
import { Rest } from './rest.ts';
import { Routes } from './routes.ts';
import { DiscordState } from './state.ts';
import type { DiscordFake, DiscordFakeOptions } from './types.ts';
import { Views } from './views.ts';

export type * from './types.ts';

/** Starts the fake on 127.0.0.1 (any free port unless `opts.port`). */
export async function startDiscordFake(opts: DiscordFakeOptions = {}): Promise<DiscordFake> {
  const state = new DiscordState(opts);
  const views = new Views(state);
  const gateway = new Gateway(state, views);
  const messaging = new Messaging(state, views, gateway);
  const interactions = new Interactions(state, views, gateway, messaging);
  const rest = new Rest(state, new Routes(state, views, messaging, new Commands(state), interactions).build());
  const http = new HttpDeliveries(interactions, { endpoint: opts.interactionsEndpoint, signingKey: opts.signingKey });
  const actors = new Actors(state, views, gateway, messaging, http);
  const edits = { route: /^\/(channels\/\d+|webhooks\/\d+\/[^/]+)\/messages\/[^/]+$/ };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => rest.handle(req, res));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => gateway.upgrade(req, socket, head));
  state.port = await listenOnLoopback(server, opts.port ?? 0);
  state.url = `http://127.0.0.1:${state.port}`;
  state.api = `${state.url}/api`;
  state.gatewayUrl = `ws://127.0.0.1:${state.port}/gateway`;

  const messages = (channelId?: string) => state.messageList(channelId);
  return {
    api: state.api,
    url: state.url,
    gatewayUrl: state.gatewayUrl,
    port: state.port,
    token: state.token,
    applicationId: state.applicationId,
    botUser: views.userJson(state.opts.botUserId),
    // The parts' own records: reset() empties them in place.
    requests: rest.requests,
    reactions: state.reactions,
    interactionResponses: state.interactionResponses,
    registeredCommands: state.registeredCommands,
    identifies: gateway.identifies,
    gatewayReceived: gateway.gatewayReceived,
    gatewayConnects: gateway.gatewayConnects,
    get resumes() {
      return gateway.resumes;
    },
    get connectedClients() {
      return gateway.connectedClients;
    },

    messages,
    botMessages: (channelId) => messages(channelId).filter((m) => m.own),
    message: (id) => state.messages.get(id),
    typingCount: (channelId) => state.typingCount(channelId),
    failNext: (match, response, times = 1) => rest.failNext(match, response, times),

    async waitFor<T>(pred: () => T, timeoutMs = 10_000): Promise<NonNullable<T>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = pred();
        if (value) return value as NonNullable<T>;
        if (Date.now() >= deadline) {
          const recent = rest.requests
            .slice(-8)
            .map((r) => `${r.method} ${r.path} → ${r.status}`)
            .join('; ');
          throw new Error(`waitFor timed out after ${timeoutMs} ms (recent requests: ${recent || 'none'})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },

    reset() {
      rest.reset();
      gateway.reset();
      state.reset();
    },

    async close() {
      await gateway.close();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },

    ready: (timeoutMs) => gateway.ready(timeoutMs),
    dispatch: (t, d) => gateway.dispatch(t, d),
    reconnectClients: (op, code) => gateway.reconnectClients(op, code),
    invalidateSession: (resumable) => gateway.invalidateSession(resumable),
    messageCreate: (input) => actors.messageCreate(input),
    interactionCreate: (input) => actors.interactionCreate(input),
    componentInteraction: (input) => actors.componentInteraction(input),
    get interactionsEndpoint() {
      return http.endpoint;
    },
    set interactionsEndpoint(url: string | undefined) {
      http.endpoint = url;
    },
    get httpAnswerDelayMs() {
      return http.answerDelayMs;
    },
    set httpAnswerDelayMs(ms: number) {
      http.answerDelayMs = ms;
    },
    publicKey: http.publicKey,
    signedPost: (body, options) => http.signedPost(body, options),
    createThread: (input) => actors.createThread(input),
    forumTags: (forumId) => [...(state.requireChannel(forumId).availableTags ?? [])],
    appliedTags: (threadId) => [...(state.requireChannel(threadId).appliedTags ?? [])],
    rateLimitEdits: (times, retryAfterSec = 0.2) => rest.failNext({ method: 'PATCH', ...edits }, { status: 429, retryAfterSec }, times),
    dmChannel: (userId, options) => actors.dmChannel(userId, options),
  };
}
