/**
 * The Slack fake, driven by the real SDKs: @slack/web-api's WebClient, and Bolt over Socket Mode
 * and over HTTP. If these pass, tests that put the bot against the fake exercise the same wire
 * protocol the bot meets in production.
 */
import type { AddressInfo } from 'node:net';
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient, WebClientEvent } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent, slashCommandForm, slashCommandPayload } from '../../fakes/slack/signing.ts';

const CHANNEL = 'C0TEST';
const HUMAN = 'U0HUMAN';
const SIGNING_SECRET = 'fake-signing-secret';

let fake: SlackFake;
/** Bolt apps started by a test; stopped after it. */
const apps: App[] = [];

beforeEach(async () => {
  fake = await startSlackFake();
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop().catch(() => undefined);
  await fake.close();
});

/** The Slack error code a call was rejected with (fails the test if it resolved or failed otherwise). */
async function platformError(call: Promise<unknown>): Promise<string> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should have been rejected').toBeInstanceOf(Error);
  const { code, data } = err as { code?: string; data?: { error?: string } };
  expect(code).toBe(ErrorCode.PlatformError);
  return data?.error ?? '';
}

function webClient(token = fake.botToken): WebClient {
  return new WebClient(token, {
    slackApiUrl: fake.apiUrl,
    logLevel: LogLevel.ERROR,
    retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 20 },
  });
}

/** The base URL of a started Bolt HTTP app. */
function listeningUrl(server: { address(): string | AddressInfo | null }): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
}

describe('WebClient against the fake', () => {
  it('posts into a thread, updates, and lists the replies; the fake keeps the state', async () => {
    const client = webClient();
    const root = fake.seedMessage({ channel: CHANNEL, user: HUMAN, text: 'what is 2+2?' });

    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*thinking*' } }];
    const posted = await client.chat.postMessage({ channel: CHANNEL, thread_ts: root, text: 'thinking', blocks });
    expect(posted.ok).toBe(true);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(posted.ts)).toBeGreaterThan(Number(root));
    expect(posted.message?.bot_id).toBe(fake.botId);
    // The WebClient form-encodes blocks as a JSON string; the fake decodes them.
    expect(fake.callsTo('chat.postMessage')[0]?.args.blocks).toEqual(blocks);
    expect(fake.callsTo('chat.postMessage')[0]?.token).toBe(fake.botToken);

    const ts = posted.ts ?? '';
    const updated = await client.chat.update({ channel: CHANNEL, ts, text: '4' });
    expect(updated.text).toBe('4');

    const replies = await client.conversations.replies({ channel: CHANNEL, ts: root });
    expect(replies.messages?.map((m) => [m.ts, m.text])).toEqual([
      [root, 'what is 2+2?'],
      [ts, '4'],
    ]);
    expect(replies.messages?.[0]?.reply_count).toBe(1);
    expect(replies.messages?.[1]?.thread_ts).toBe(root);

    const [reply] = fake.botReplies(CHANNEL, root);
    expect(reply).toMatchObject({ ts, text: '4', edits: 1, history: ['thinking', '4'], deleted: false });
    expect(reply?.blocks).toEqual(blocks);
    expect(fake.thread(CHANNEL, root).map((m) => m.ts)).toEqual([root, ts]);

    // Unknown messages and other people's messages cannot be changed.
    expect(await platformError(client.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
    expect(await platformError(client.chat.update({ channel: CHANNEL, ts: root, text: 'x' }))).toBe(
      'cant_update_message',
    );

    await client.chat.delete({ channel: CHANNEL, ts });
    expect(fake.botReplies(CHANNEL, root)).toEqual([]);
    expect(fake.messages(CHANNEL).find((m) => m.ts === ts)?.deleted).toBe(true);
    const after = await client.conversations.replies({ channel: CHANNEL, ts: root });
    expect(after.messages?.map((m) => m.ts)).toEqual([root]);
  });

  it('retries a 429 after Retry-After, seen by the fake as two calls', async () => {
    const client = webClient();
    const waits: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (retrySec: number) => waits.push(retrySec));
    fake.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });

    const started = Date.now();
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'hello' });

    expect(posted.ok).toBe(true);
    expect(waits).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
    expect(fake.botReplies(CHANNEL).map((m) => m.text)).toEqual(['hello']);
  });

  it('fails calls with a wrong token, an injected error, or an unknown method', async () => {
    expect(await platformError(webClient('xoxb-wrong').chat.postMessage({ channel: CHANNEL, text: 'x' }))).toBe(
      'invalid_auth',
    );
    // The app-level token is not a bot token.
    expect(await platformError(webClient(fake.appToken).auth.test())).toBe('invalid_auth');

    const client = webClient();
    fake.failNext('chat.postMessage', { error: 'channel_not_found' });
    expect(await platformError(client.chat.postMessage({ channel: CHANNEL, text: 'x' }))).toBe('channel_not_found');
    // Only the next call failed.
    expect((await client.chat.postMessage({ channel: CHANNEL, text: 'y' })).ok).toBe(true);
    expect(await platformError(client.apiCall('chat.nonsense', {}))).toBe('unknown_method');
    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(['y']);
  });

  it('handles reactions, ephemerals and native streams', async () => {
    const client = webClient();
    const root = fake.seedMessage({ channel: CHANNEL, user: HUMAN, text: 'hi' });

    await client.reactions.add({ channel: CHANNEL, timestamp: root, name: 'eyes' });
    expect(await platformError(client.reactions.add({ channel: CHANNEL, timestamp: root, name: 'eyes' }))).toBe(
      'already_reacted',
    );
    const got = await client.reactions.get({ channel: CHANNEL, timestamp: root });
    expect(got.message?.reactions).toEqual([{ name: 'eyes', users: [fake.botUserId], count: 1 }]);
    await client.reactions.remove({ channel: CHANNEL, timestamp: root, name: 'eyes' });
    expect(await platformError(client.reactions.remove({ channel: CHANNEL, timestamp: root, name: 'eyes' }))).toBe(
      'no_reaction',
    );

    const eph = await client.chat.postEphemeral({ channel: CHANNEL, user: HUMAN, text: 'only you' });
    expect(fake.ephemerals).toEqual([
      { channel: CHANNEL, user: HUMAN, text: 'only you', message_ts: eph.message_ts, via: 'api' },
    ]);

    // In a channel a stream must say whom it is for.
    expect(await platformError(client.chat.startStream({ channel: CHANNEL, thread_ts: root }))).toBe(
      'missing_recipient_team_id',
    );
    const streamer = client.chatStream({
      channel: CHANNEL,
      thread_ts: root,
      recipient_team_id: fake.teamId,
      recipient_user_id: HUMAN,
      buffer_size: 1,
    });
    await streamer.append({ markdown_text: 'Hello' });
    await streamer.append({ markdown_text: ', world' });
    await streamer.stop({ markdown_text: '!' });
    const [streamed] = fake.botReplies(CHANNEL, root);
    expect(streamed).toMatchObject({ text: 'Hello, world!', stream: 'stopped', thread_ts: root });
    expect(streamed?.history).toEqual(['Hello', 'Hello, world', 'Hello, world!']);
    expect(
      await platformError(client.chat.appendStream({ channel: CHANNEL, ts: streamed?.ts ?? '', markdown_text: 'x' })),
    ).toBe('message_not_in_streaming_state');
  });
});

describe('the agent methods of the fake, through the WebClient', () => {
  it('keeps agent sessions: the four statuses only, the title they were created with', async () => {
    const client = webClient();
    const root = fake.seedMessage({ channel: CHANNEL, user: HUMAN, text: 'a question' });
    await client.agents.sessions.setStatus({ channel_id: CHANNEL, thread_ts: root, status: 'processing', title: 'a question', initiator_user_id: HUMAN });
    await client.agents.sessions.setStatus({ channel_id: CHANNEL, thread_ts: root, status: 'active', title: 'ignored now' });
    expect(fake.agentSession(CHANNEL, root)).toMatchObject({ status: 'active', title: 'a question', initiator_user_id: HUMAN, history: ['processing', 'active'] });
    expect(await platformError(client.agents.sessions.setStatus({ channel_id: CHANNEL, thread_ts: root, status: 'thinking hard' }))).toBe('invalid_arguments');
    expect(await platformError(client.agents.sessions.setStatus({ channel_id: CHANNEL, status: 'active' }))).toBe('invalid_arguments');
  });

  it('takes one to four suggested prompts', async () => {
    const client = webClient();
    const prompts = [{ title: 'Hi', message: 'Say hi' }];
    await client.assistant.threads.setSuggestedPrompts({ channel_id: 'D0DM', thread_ts: '1.000100', title: 'Try', prompts });
    expect(fake.suggestedPrompts).toEqual([{ channel: 'D0DM', thread_ts: '1.000100', title: 'Try', prompts }]);
    const five = Array.from({ length: 5 }, (_, i) => ({ title: `t${i}`, message: `m${i}` }));
    expect(await platformError(client.assistant.threads.setSuggestedPrompts({ channel_id: 'D0DM', thread_ts: '1.000100', prompts: five }))).toBe('invalid_arguments');
  });

  it('expires an idle stream, refuses streams when told, and stops streams from the stop button', async () => {
    const client = webClient();
    const root = fake.seedMessage({ channel: 'D0DM', user: HUMAN, text: 'hi' });
    fake.streamIdleTimeoutMs = 50;
    const { ts = '' } = await client.chat.startStream({ channel: 'D0DM', thread_ts: root, markdown_text: 'Hello' });
    await client.chat.appendStream({ channel: 'D0DM', ts, markdown_text: ' there' });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await platformError(client.chat.appendStream({ channel: 'D0DM', ts, markdown_text: '!' }))).toBe('message_not_in_streaming_state');
    expect(await platformError(client.chat.stopStream({ channel: 'D0DM', ts }))).toBe('message_not_in_streaming_state');
    // A message whose stream is over is edited like any other.
    await client.chat.update({ channel: 'D0DM', ts, text: 'Hello there, finished' });
    expect(fake.botReplies('D0DM', root).map((m) => m.text)).toEqual(['Hello there, finished']);

    fake.streamIdleTimeoutMs = 60_000;
    fake.streamRefusal = 'feature_not_enabled';
    expect(await platformError(client.chat.startStream({ channel: 'D0DM', thread_ts: root, markdown_text: 'x' }))).toBe('feature_not_enabled');
    fake.streamRefusal = undefined;

    const second = await client.chat.startStream({ channel: 'D0DM', thread_ts: root, markdown_text: 'Going' });
    const event = fake.stopAgentSession('D0DM', root, HUMAN);
    expect(event).toMatchObject({ type: 'agent_session_stopped', channel: 'D0DM', thread_ts: root, user: HUMAN, streaming_message_ts: [second.ts] });
    expect(await platformError(client.chat.appendStream({ channel: 'D0DM', ts: second.ts ?? '', markdown_text: ' on' }))).toBe('stopped_by_user');

    const third = await client.chat.startStream({ channel: 'D0DM', thread_ts: root, markdown_text: 'Done' });
    await client.chat.stopStream({ channel: 'D0DM', ts: third.ts ?? '', session_status: 'active', blocks: [{ type: 'context_actions', elements: [] }] });
    expect(fake.agentSession('D0DM', root)?.status).toBe('active');
  });
});

describe('raw HTTP against the fake', () => {
  it('takes JSON bodies with a Bearer header and form bodies with a token field', async () => {
    const json = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${fake.botToken}` },
      body: JSON.stringify({ channel: CHANNEL, text: 'from json', blocks: [{ type: 'divider' }] }),
    });
    expect(await json.json()).toMatchObject({ ok: true, channel: CHANNEL });

    const form = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: fake.botToken, channel: CHANNEL, text: 'from form' }),
    });
    expect(await form.json()).toMatchObject({ ok: true });

    // As on Slack, a JSON body cannot carry the token itself.
    const tokenInJson = await fetch(`${fake.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: fake.botToken }),
    });
    expect(await tokenInJson.json()).toEqual({ ok: false, error: 'invalid_auth' });

    expect(fake.messages(CHANNEL).map((m) => m.text)).toEqual(['from json', 'from form']);
    expect(fake.callsTo('chat.postMessage').map((c) => c.args.blocks)).toEqual([[{ type: 'divider' }], undefined]);

    fake.reset();
    expect(fake.messages()).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('lets a response_url replace what it posted, five times at most', async () => {
    const url = fake.responseUrl('r', { channel: CHANNEL });
    const post = (body: object): Promise<Response> =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post({ response_type: 'in_channel', text: 'v1' })).status).toBe(200);
    expect((await post({ replace_original: true, text: 'v2' })).status).toBe(200);
    expect(fake.botReplies(CHANNEL)).toMatchObject([{ text: 'v2', history: ['v1', 'v2'], edits: 1 }]);
    expect((await post({ delete_original: true })).status).toBe(200);
    expect(fake.botReplies(CHANNEL)).toEqual([]);

    expect((await post({ text: 'four' })).status).toBe(200);
    expect((await post({ text: 'five' })).status).toBe(200);
    expect((await post({ text: 'six' })).status).toBe(404);
    expect(fake.responseUrlPosts).toHaveLength(5);
  });

  it('serves a hosted file to the bot token only, and records every download', async () => {
    const file = fake.hostFile('notes.txt', Buffer.from('hello file'), 'text/plain');
    expect(file).toMatchObject({ name: 'notes.txt', mimetype: 'text/plain', size: 10 });
    const withToken = await fetch(file.url_private_download, { headers: { authorization: `Bearer ${fake.botToken}` } });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('content-type')).toBe('text/plain');
    expect(await withToken.text()).toBe('hello file');
    expect((await fetch(file.url_private, { headers: { authorization: 'Bearer xoxb-someone-else' } })).status).toBe(403);
    expect(fake.fileDownloads.map((download) => download.authorized)).toEqual([true, false]);
  });

  it('seeds a person’s message posted to /fake/messages, and rejects a body without one', async () => {
    const seed = (body: object) =>
      fetch(new URL('/fake/messages', fake.apiUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const seeded = await seed({ channel: CHANNEL, user: HUMAN, text: 'from another process', ts: '1700009999.000100' });
    expect(await seeded.json()).toEqual({ ok: true, ts: '1700009999.000100' });
    expect(fake.messages(CHANNEL)).toMatchObject([{ ts: '1700009999.000100', user: HUMAN, text: 'from another process' }]);
    expect((await seed({ channel: CHANNEL })).status).toBe(400);
  });
});

describe('Bolt in Socket Mode against the fake', () => {
  /** A Socket Mode app on the fake, started, with its listeners registered by `setup`. */
  async function startSocketApp(setup: (app: App) => void): Promise<App> {
    const app = new App({
      token: fake.botToken,
      appToken: fake.appToken,
      socketMode: true,
      clientOptions: { slackApiUrl: fake.apiUrl },
      logLevel: LogLevel.ERROR,
    });
    setup(app);
    apps.push(app);
    await app.start();
    await fake.socketConnected();
    return app;
  }

  /** Register an app_mention listener that answers in the mention's thread. */
  function echoMentions(app: App): void {
    app.event('app_mention', async ({ event, client }) => {
      await client.chat.postMessage({ channel: event.channel, thread_ts: event.ts, text: `echo: ${event.text}` });
    });
  }

  /** Send a mention like Slack would and wait for the app's reply in its thread. */
  async function mentionAndAwaitReply(text: string): Promise<void> {
    const ts = fake.seedMessage({ channel: CHANNEL, user: HUMAN, text });
    const event = { type: 'app_mention', user: HUMAN, text, ts, channel: CHANNEL };
    const ack = await fake.sendEnvelope('events_api', eventCallback(event));
    expect(fake.envelopes.find((e) => e.envelope_id === ack.envelope_id)?.acks).toBe(1);
    await fake.waitFor(() => fake.botReplies(CHANNEL, ts).length === 1, 5_000, 'a reply to the mention');
    expect(fake.botReplies(CHANNEL, ts)[0]?.text).toBe(`echo: ${text}`);
  }

  it('connects, acks an app_mention and replies through the Web API', async () => {
    await startSocketApp(echoMentions);
    expect(fake.callsTo('auth.test')).not.toHaveLength(0);
    expect(fake.callsTo('apps.connections.open')[0]?.token).toBe(fake.appToken);
    expect(fake.socketConnections).toBe(1);

    await mentionAndAwaitReply(`<@${fake.botUserId}> ping`);
  });

  it('acks a slash command with the payload the handler gave ack()', async () => {
    await startSocketApp((app) => {
      app.command('/ask', async ({ ack, command }) => {
        await ack({ text: `asked: ${command.text}` });
      });
      app.command('/silent', async () => undefined);
    });
    const fields = { user_id: HUMAN, channel_id: CHANNEL, response_url: fake.responseUrl() };

    const ack = await fake.sendEnvelope('slash_commands', slashCommandPayload({ ...fields, command: '/ask', text: 'why' }));
    expect(ack.ackPayload).toEqual({ text: 'asked: why' });

    // A handler that never acks leaves the envelope un-acked, and the fake says so.
    await expect(
      fake.sendEnvelope('slash_commands', slashCommandPayload({ ...fields, command: '/silent', text: '' }), {
        ackTimeoutMs: 500,
      }),
    ).rejects.toThrow(/not acked/);
  });

  it('reconnects after a disconnect message and still receives events', async () => {
    await startSocketApp(echoMentions);
    const asked = Date.now();
    await fake.disconnectClients();
    // The client closed because it was told to, not because the fake gave up waiting (5 s).
    expect(Date.now() - asked).toBeLessThan(2_000);
    expect(fake.socketConnections).toBe(0);

    // The client waits its ping timeout (5 s by default) before reconnecting.
    await fake.socketConnected(15_000);
    expect(fake.callsTo('apps.connections.open')).toHaveLength(2);
    expect(fake.totalSocketConnections).toBe(2);

    await mentionAndAwaitReply('again?');
  });
});

describe('Bolt over HTTP against the fake', () => {
  it('accepts a signed event and rejects bad or stale signatures', async () => {
    let mentions = 0;
    const retryNums: Array<number | undefined> = [];
    const app = new App({
      token: fake.botToken,
      signingSecret: SIGNING_SECRET,
      clientOptions: { slackApiUrl: fake.apiUrl },
      logLevel: LogLevel.ERROR,
    });
    app.event('app_mention', async ({ event, client, context }) => {
      mentions += 1;
      retryNums.push(context.retryNum);
      await client.chat.postMessage({ channel: event.channel, thread_ts: event.ts, text: 'hi there' });
    });
    apps.push(app);
    const url = listeningUrl(await app.start(0));

    const ts = fake.seedMessage({ channel: CHANNEL, user: HUMAN, text: 'hello bot' });
    const body = eventCallback({ type: 'app_mention', user: HUMAN, text: 'hello bot', ts, channel: CHANNEL });

    expect((await postSignedEvent(url, SIGNING_SECRET, body, { badSignature: true })).status).toBe(401);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    expect((await postSignedEvent(url, SIGNING_SECRET, body, { timestampSec: tenMinutesAgo })).status).toBe(401);
    expect(mentions).toBe(0);

    expect((await postSignedEvent(url, SIGNING_SECRET, body)).status).toBe(200);
    await fake.waitFor(() => fake.botReplies(CHANNEL, ts).length === 1, 5_000, 'a reply to the mention');
    expect(fake.botReplies(CHANNEL, ts)[0]?.text).toBe('hi there');

    // A Slack retry carries its number through to the listener's context.
    expect((await postSignedEvent(url, SIGNING_SECRET, body, { retryNum: 1 })).status).toBe(200);
    await fake.waitFor(() => mentions === 2, 5_000, 'the retried event');
    expect(retryNums).toEqual([undefined, 1]);

    const challenge = await postSignedEvent(url, SIGNING_SECRET, { type: 'url_verification', challenge: 'c-123' });
    expect(await challenge.json()).toEqual({ challenge: 'c-123' });
  });

  it('runs a form-encoded slash command through ExpressReceiver and its response_url', async () => {
    const receiver = new ExpressReceiver({ signingSecret: SIGNING_SECRET, logLevel: LogLevel.ERROR });
    const app = new App({
      token: fake.botToken,
      receiver,
      clientOptions: { slackApiUrl: fake.apiUrl },
      logLevel: LogLevel.ERROR,
    });
    app.command('/ask', async ({ ack, respond, command }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: 'working…' });
      await respond({ response_type: 'in_channel', text: `answer to ${command.text}` });
    });
    apps.push(app);
    const url = listeningUrl(await app.start(0));

    const responseUrl = fake.responseUrl('cmd-1', { channel: CHANNEL, user: HUMAN });
    const form = slashCommandForm({ command: '/ask', text: 'life', user_id: HUMAN, channel_id: CHANNEL, response_url: responseUrl });
    expect((await postSignedEvent(url, SIGNING_SECRET, form)).status).toBe(200);

    await fake.waitFor(() => fake.responseUrlPosts.length === 2, 5_000, 'two response_url posts');
    expect(fake.responseUrlPosts.map((p) => [p.id, p.body.text])).toEqual([
      ['cmd-1', 'working…'],
      ['cmd-1', 'answer to life'],
    ]);
    expect(fake.ephemerals).toMatchObject([{ channel: CHANNEL, user: HUMAN, text: 'working…', via: 'response_url' }]);
    expect(fake.botReplies(CHANNEL).map((m) => m.text)).toEqual(['answer to life']);
  });
});
