import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DM_CHANNEL_TYPES, THREAD_CHANNEL_TYPES } from '../../adapters/slack/normalize.ts';
import { createSlackWebClient, SlackSurface } from '../../adapters/slack/surface.ts';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { COMMANDS } from '../../src/commands/registry.ts';
import type { ChatJob } from '../../src/jobs/chat-job.ts';
import { createLogger } from '../../src/logger.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';

/** The scopes each Web API method the bot calls needs (https://api.slack.com/methods). */
const METHOD_SCOPES: Record<string, string[]> = {
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
  'files (download)': ['files:read'],
  // The gateway's admin check for /model and /prompt.
  'users.info': ['users:read'],
};
/** The scopes that receiving each event needs. */
const EVENT_SCOPES: Record<string, string> = {
  app_mention: 'app_mentions:read',
  'message.im': 'im:history',
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
};

const manifest = z
  .object({
    features: z.object({ slash_commands: z.array(z.object({ command: z.string(), description: z.string() })) }),
    oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }),
    settings: z.object({ event_subscriptions: z.object({ bot_events: z.array(z.string()) }), socket_mode_enabled: z.boolean() }),
  })
  .parse(JSON.parse(readFileSync(new URL('../../slack/manifest.json', import.meta.url), 'utf8')));

let slack: SlackFake;

beforeAll(async () => {
  slack = await startSlackFake();
});

afterAll(async () => {
  await slack?.close();
});

/** Drives every outbound path of the Slack surface against the fake and returns the methods it called. */
async function methodsTheSurfaceCalls(): Promise<Set<string>> {
  const slackConfig = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: 'secret', SLACK_API_URL: slack.apiUrl })!;
  const surface = new SlackSurface(createSlackWebClient(slackConfig), { ...slackConfig, maxMessageChars: 500 }, createLogger({ level: 'silent' }));
  const root = slack.seedMessage({ channel: 'C1', user: 'U1', text: 'help' });
  const job: ChatJob = {
    v: 1,
    id: 'slack-ev-1',
    platform: 'slack',
    kind: 'mention',
    workspaceId: 'T1',
    channelId: 'C1',
    threadId: root,
    userId: 'U1',
    messageId: root,
    text: 'help',
    receivedAt: Date.now(),
    reply: { channelId: 'C1', threadId: root },
    fetchThreadContext: true,
    attachments: [],
    progress: { messageIds: [], loadingWaitMs: 0, rateLimitWaitMs: 0 },
  };
  await surface.verify();
  const reply = await surface.openReply(job, async () => undefined);
  await reply.render('word '.repeat(300), false);
  await reply.render('short now', true);
  await surface.conversationContext(job);
  // A resumed command looks for its own orphaned placeholder in the channel.
  await surface.openReply({ ...job, kind: 'command', threadId: undefined, reply: { channelId: 'C1' } }, async () => undefined, { mayHavePosted: true });
  await surface.notice({ workspaceId: 'T1', channelId: 'C1', userId: 'U1' }, 'user_rate_limited', 'slow down');
  const ref = { workspaceId: 'T1', channelId: 'C1', messageId: root };
  await surface.tagSentiment(ref, undefined, 'neutral');
  await surface.tagSentiment(ref, 'neutral', 'negative');
  // The gateway's own Web API call: who may change a channel's settings.
  await createSlackWebClient(slackConfig).users.info({ user: 'U1' }).catch(() => undefined);
  await surface.alertNegative('C2', ref, { label: 'negative', score: -0.5, trend: 'worsening', count: 2, counts: { positive: 0, neutral: 1, negative: 1 }, lastClassifier: 'lexicon', records: [], updatedAt: 0 });
  const methods = new Set(slack.calls.map((call) => call.method));
  // Downloading a message's files (url_private) is not a Web API method, but needs files:read.
  if (typeof surface.download === 'function') methods.add('files (download)');
  return methods;
}

describe('slack/manifest.json', () => {
  it('subscribes to exactly the events the gateway handles', () => {
    // Slack names message events by conversation type: im → message.im, channel → message.channels, …
    const eventFor = { im: 'message.im', channel: 'message.channels', group: 'message.groups' } as const;
    const handled = ['app_mention', ...[...DM_CHANNEL_TYPES, ...THREAD_CHANNEL_TYPES].map((type) => eventFor[type])];
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(handled.sort());
  });

  it('declares exactly the slash commands the gateway registers by default', () => {
    const slack = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })!;
    const registered = [slack.commands.ask, ...COMMANDS.map(({ name }) => slack.commands[name] ?? `/${name}`)];
    expect(manifest.features.slash_commands.map((command) => command.command).sort()).toEqual(registered.sort());
  });

  it('asks for exactly the scopes the code uses', async () => {
    const methods = await methodsTheSurfaceCalls();
    const unknown = [...methods].filter((method) => !(method in METHOD_SCOPES));
    expect(unknown, 'a new Web API method: add its scopes to METHOD_SCOPES and the manifest').toEqual([]);
    const needed = new Set([
      ...[...methods].flatMap((method) => METHOD_SCOPES[method] ?? []),
      ...manifest.settings.event_subscriptions.bot_events.map((event) => EVENT_SCOPES[event] ?? `unknown event ${event}`),
      'commands',
    ]);
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual([...needed].sort());
  });

  it('runs in Socket Mode (the HTTP variant is in the README)', () => {
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});
