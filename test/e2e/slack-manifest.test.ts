import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { COMMANDS } from '../../src/commands/registry.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, feedbackClickPayload, slashCommandPayload } from '../../fakes/slack/signing.ts';
import { eventually, hfEnv, secrets, settled, slackSocketEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

/**
 * slack/manifest.json against what the running bot does: the real gateway and worker, in Socket
 * Mode as the manifest says, are driven through every flow (mentions with a file, thread messages
 * in public and private channels, a DM, each slash command, sentiment tags and an alert, an
 * admin's /model), and the Web API methods, events and commands the Slack fake saw used are
 * compared with the manifest both ways.
 */

/** The bot-token scopes each Web API method needs (https://api.slack.com/methods). */
const METHOD_SCOPES: Record<string, string[]> = {
  // App-level token (connections:write is an app-level scope, not a bot one).
  'apps.connections.open': [],
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.getPermalink': [],
  'conversations.replies': ['channels:history', 'groups:history'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history'],
  'reactions.add': ['reactions:write'],
  'reactions.remove': ['reactions:write'],
  'users.info': ['users:read'],
  'chat.startStream': ['chat:write'],
  'chat.appendStream': ['chat:write'],
  'chat.stopStream': ['chat:write'],
  // An agent's methods: declaring the app an agent (features.agent_view) comes with assistant:write.
  'agents.sessions.setStatus': ['chat:write', 'assistant:write'],
  'assistant.threads.setSuggestedPrompts': ['assistant:write'],
  // Downloading a shared file (url_private) is not a Web API method, but needs files:read.
  'files (download)': ['files:read'],
};
/** The scopes that receiving each event needs. */
const EVENT_SCOPES: Record<string, string> = {
  app_mention: 'app_mentions:read',
  'message.im': 'im:history',
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
  'message.mpim': 'mpim:history',
  assistant_thread_started: 'assistant:write',
  assistant_thread_context_changed: 'assistant:write',
  agent_session_stopped: 'assistant:write',
};

const manifest = z
  .object({
    features: z.object({
      slash_commands: z.array(z.object({ command: z.string(), description: z.string() })),
      agent_view: z.object({ agent_description: z.string().min(1), suggested_prompts: z.array(z.object({ title: z.string(), message: z.string() })).max(4) }).optional(),
    }),
    oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }),
    settings: z.object({
      event_subscriptions: z.object({ bot_events: z.array(z.string()) }),
      interactivity: z.object({ is_enabled: z.boolean() }),
      socket_mode_enabled: z.boolean(),
    }),
  })
  .parse(JSON.parse(readFileSync(new URL('../../slack/manifest.json', import.meta.url), 'utf8')));

const PUBLIC = 'C0MANIFEST';
const PRIVATE = 'G0MANIFEST';
const GROUP_DM = 'G0MPIM';
const DM = 'D0MANIFEST';
const ALERTS = 'C0ALERTS';
const ADMIN = 'U0WSADMIN';

let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;
let sequence = 0;
/** What the run showed the bot uses. */
const seen = { events: new Set<string>(), commands: new Set<string>(), methods: new Set<string>(), interactivity: false };

const nextTs = () => `${1_700_400_000 + (sequence += 1)}.000100`;

/** Delivers a message event over the socket; returns its job id (when it makes one). */
async function deliver(event: { ts: string; channel: string; user: string; text: string; thread_ts?: string } & Record<string, unknown>): Promise<string> {
  const eventId = `EvMan${sequence}`;
  // What Slack would hold: the message itself, so the bot can tag it and link to it.
  slack.seedMessage({ channel: event.channel, user: event.user, text: event.text, ts: event.ts, ...(event.thread_ts ? { thread_ts: event.thread_ts } : {}) });
  await slack.sendEnvelope('events_api', eventCallback({ event_ts: event.ts, ...event }, { eventId }));
  return `slack-ev-${eventId}`;
}

/** A mention that starts a thread the bot answers in; resolves once it has. */
async function mention(channel: string, text: string, extra: Record<string, unknown> = {}): Promise<string> {
  const ts = nextTs();
  const job = await deliver({ type: 'app_mention', user: 'U0PERSON', text: `<@${slack.botUserId}> ${text}`, ts, channel, ...extra });
  expect(await settled(bot.queue, job)).toBe('completed');
  return ts;
}

/** A thread reply without a mention (Slack's message.channels / .groups / .mpim); true when the bot scored it. */
async function threadMessage(channelType: string, channel: string, root: string, text: string): Promise<boolean> {
  await deliver({ type: 'message', channel_type: channelType, user: 'U0PERSON', text, ts: nextTs(), channel, thread_ts: root });
  const scored = () => hf.classifyRequests.some((request) => request.inputs === text);
  // A message the bot ignores leaves no trace to wait for: give it the time a scored one takes.
  await eventually(scored, `"${text}" to be scored`, 2_000).catch(() => undefined);
  return scored();
}

/** A slash command over the socket; `acked` is false for a command the bot does not know (it goes unacked). */
async function command(name: string, text: string, user = 'U0PERSON'): Promise<{ acked: boolean; jobId: string }> {
  const triggerId = `${(sequence += 1)}.1`;
  const payload = slashCommandPayload({ command: name, text, user_id: user, channel_id: PUBLIC, response_url: slack.responseUrl(), trigger_id: triggerId });
  const acked = await slack.sendEnvelope('slash_commands', payload, { ackTimeoutMs: 3_000 }).then(
    () => true,
    () => false,
  );
  return { acked, jobId: `slack-cmd-${triggerId}` };
}

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken, appToken: secrets.slackAppToken });
  slack.workspaceAdmins.add(ADMIN);
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('manifest'),
    ...hfEnv(hf),
    ...slackSocketEnv(slack),
    SENTIMENT_ALERT_CHANNEL: ALERTS,
    USER_RATE_LIMIT: '0',
  });
  await slack.socketConnected();

  // A mention with a file the worker downloads, then the thread turning negative: tags and an alert.
  const notes = slack.hostFile('notes.txt', Buffer.from('step 3 failed: out of memory'), 'text/plain');
  const thread = await mention(PUBLIC, 'what do my notes say?', { subtype: 'file_share', files: [notes] });
  if (slack.botReplies(PUBLIC, thread).length > 0) seen.events.add('app_mention');
  if (await threadMessage('channel', PUBLIC, thread, 'it is broken and terrible, I hate this')) seen.events.add('message.channels');
  await eventually(() => slack.messages(ALERTS).length > 0, 'the negative-turn alert');

  const privateThread = await mention(PRIVATE, 'hello from a private channel');
  if (await threadMessage('group', PRIVATE, privateThread, 'thanks, that is great')) seen.events.add('message.groups');
  const groupDmThread = await mention(GROUP_DM, 'hello from a group DM');
  if (await threadMessage('mpim', GROUP_DM, groupDmThread, 'a group DM reply, awful')) seen.events.add('message.mpim');

  const dm = await deliver({ type: 'message', channel_type: 'im', user: 'U0PERSON', text: 'hello in a DM', ts: nextTs(), channel: DM });
  expect(await settled(bot.queue, dm)).toBe('completed');
  if (slack.botReplies(DM).length > 0) seen.events.add('message.im');

  // The agent view: a thread opened from a channel, then moved to another, then a question in it.
  const agentThread = nextTs();
  const assistantThread = (channel: string) => ({ user_id: 'U0PERSON', channel_id: DM, thread_ts: agentThread, context: { channel_id: channel, team_id: slack.teamId } });
  await slack.sendEnvelope('events_api', eventCallback({ type: 'assistant_thread_started', assistant_thread: assistantThread(PUBLIC), event_ts: agentThread }, { eventId: `EvMan${(sequence += 1)}` }));
  await eventually(() => slack.suggestedPrompts.length > 0, 'suggested prompts', 3_000).catch(() => undefined);
  if (slack.suggestedPrompts.some((entry) => entry.thread_ts === agentThread)) seen.events.add('assistant_thread_started');
  await slack.sendEnvelope('events_api', eventCallback({ type: 'assistant_thread_context_changed', assistant_thread: assistantThread(PRIVATE), event_ts: nextTs() }, { eventId: `EvMan${(sequence += 1)}` }));
  const question = await deliver({ type: 'message', channel_type: 'im', user: 'U0PERSON', text: 'what is going on there?', ts: nextTs(), channel: DM, thread_ts: agentThread });
  expect(await settled(bot.queue, question)).toBe('completed');
  const asked = hf.chatRequests.find((request) => request.messages.at(-1)?.content === 'what is going on there?');
  if (JSON.stringify(asked?.messages[0]).includes(`<#${PRIVATE}>`)) seen.events.add('assistant_thread_context_changed');

  // An agent session's stop button, while an answer streams.
  hf.enqueueChat({ kind: 'stream', text: 'This goes on for quite a while. '.repeat(60), tokenDelayMs: 20 });
  const stopThread = nextTs();
  const stoppable = await deliver({ type: 'app_mention', user: 'U0PERSON', text: `<@${slack.botUserId}> go on and on`, ts: stopThread, channel: PUBLIC });
  await eventually(() => (slack.botReplies(PUBLIC, stopThread)[0]?.text.length ?? 0) > 20, 'the answer to stream');
  await slack.sendEnvelope('events_api', eventCallback(slack.stopAgentSession(PUBLIC, stopThread, 'U0PERSON'), { eventId: `EvMan${(sequence += 1)}` }));
  expect(await settled(bot.queue, stoppable)).toBe('completed');
  if ((await bot.queue.getJob(stoppable))?.returnvalue?.outcome === 'stopped') seen.events.add('agent_session_stopped');

  // A feedback button under the first answer (an interactive envelope).
  const rated = slack.botReplies(PUBLIC, thread)[0];
  const buttons = (rated?.blocks ?? []).find((block) => (block as { type?: string }).type === 'context_actions') as
    | { elements: Array<{ action_id: string; positive_button: { value: string } }> }
    | undefined;
  const button = buttons?.elements[0];
  if (rated && button) {
    const payload = feedbackClickPayload({ user: 'U0PERSON', channel: PUBLIC, messageTs: rated.ts, threadTs: thread, actionId: button.action_id, value: button.positive_button.value, responseUrl: slack.responseUrl() });
    await slack.sendEnvelope('interactive', payload, { ackTimeoutMs: 3_000 });
    await eventually(() => slack.responseUrlPosts.some((post) => /recorded/.test(String(post.body.text))), 'the feedback confirmation', 3_000).catch(() => undefined);
    seen.interactivity = slack.responseUrlPosts.some((post) => /recorded/.test(String(post.body.text)));
  }

  // Each command the manifest declares or the gateway is configured with; the admin's /model
  // makes the gateway ask users.info whether they are a workspace admin.
  const { commands: registered } = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })!;
  const commandName = (name: string) => registered[name] ?? `/${name}`;
  const arguments_: Record<string, [string, string?]> = {
    [registered.ask]: ['what is a manifest?'],
    [commandName('model')]: ['Qwen/Qwen2.5-72B-Instruct', ADMIN],
    [commandName('prompt')]: ['Answer briefly.', ADMIN],
  };
  const candidates = new Set([
    ...manifest.features.slash_commands.map((entry) => entry.command),
    registered.ask,
    ...COMMANDS.map(({ name }) => commandName(name)),
  ]);
  for (const name of candidates) {
    const [text, user] = arguments_[name] ?? [''];
    const { acked, jobId } = await command(name, text, user);
    if (acked) seen.commands.add(name);
    // Let the /ask answer finish, so every call it makes is counted.
    if (acked && name === registered.ask) expect(await settled(bot.queue, jobId)).toBe('completed');
  }

  for (const call of slack.calls) seen.methods.add(call.method);
  if (slack.fileDownloads.some((download) => download.authorized)) seen.methods.add('files (download)');
}, 90_000);

afterAll(async () => {
  await bot?.stop();
  await Promise.all([slack?.close(), hf?.close()]);
});

describe('slack/manifest.json against what the bot does', () => {
  it('subscribes to exactly the events the bot acts on', () => {
    expect([...seen.events].sort()).toEqual([...manifest.settings.event_subscriptions.bot_events].sort());
  });

  it('declares exactly the slash commands the bot answers', () => {
    expect([...seen.commands].sort()).toEqual(manifest.features.slash_commands.map((entry) => entry.command).sort());
  });

  it('asks for exactly the scopes of the methods the bot called and the events it receives', () => {
    const unknown = [...seen.methods].filter((method) => !(method in METHOD_SCOPES));
    expect(unknown, 'a new Web API method: add its scopes to METHOD_SCOPES and the manifest').toEqual([]);
    // The flows above reach these; a method no longer called drops its scope from what is needed.
    expect([...seen.methods]).toEqual(
      expect.arrayContaining(['chat.postMessage', 'chat.update', 'chat.startStream', 'agents.sessions.setStatus', 'reactions.add', 'users.info', 'files (download)']),
    );
    const needed = new Set([
      ...[...seen.methods].flatMap((method) => METHOD_SCOPES[method] ?? []),
      ...[...seen.events].map((event) => EVENT_SCOPES[event] ?? `unknown event ${event}`),
      ...(seen.commands.size > 0 ? ['commands'] : []),
    ]);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('enables interactivity, which the feedback buttons need', () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(seen.interactivity);
    expect(seen.interactivity).toBe(true);
  });

  it('declares the agent view with the prompts the bot suggests by default', () => {
    const { suggestedPrompts } = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })!;
    expect(manifest.features.agent_view?.suggested_prompts).toEqual(suggestedPrompts);
    expect(seen.events.has('assistant_thread_started')).toBe(manifest.features.agent_view !== undefined);
  });

  it('runs in Socket Mode, as this test does (the HTTP variant is in the README)', () => {
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});
