import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChannelSettingsStore } from '../../src/channels/settings.ts';
import { adapters } from '../../adapters/index.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createRedis, keyspace } from '../../src/queue/redis.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { slackUser } from '../support/slack-user.ts';
import { hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const FILE = fileURLToPath(new URL('../fixtures/channels.yaml', import.meta.url));
const INVALID = fileURLToPath(new URL('../fixtures/channels-invalid.yaml', import.meta.url));
const DEFAULT_MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;
const person = slackUser({ baseUrl: () => bot.baseUrl, channel: 'C0SETTINGS', eventPrefix: 'EvSet', firstTsSec: 1_700_005_000 });

/** A slash command's immediate answer, as text. */
async function command(name: string, text: string, user: string, channel = 'C0SETTINGS') {
  const response = await person.command(name, text, { user, channel, teamId: 'T0FAKE', responseUrl: slack.responseUrl('settings') });
  return ((await response.json()) as { text: string }).text.replaceAll('\u200B', '');
}

const mention = (text: string, channel: string) => person.mention(text, { channel, user: 'U0PERSON' });

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken });
  slack.workspaceAdmins.add('U0WSADMIN');
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('settings'),
    ...hfEnv(hf),
    ...slackEnv(slack),
    CHANNEL_CONFIG_FILE: FILE,
    ADMIN_USER_IDS: 'slack:U0LISTED',
    USER_RATE_LIMIT: '0',
  });
});

afterAll(async () => {
  await bot?.stop();
  await Promise.all([slack?.close(), hf?.close()]);
});

beforeEach(() => hf.reset());

describe('per-channel settings', () => {
  it('shows the settings to anyone, and lets only admins change them', async () => {
    expect(await command('/model', '', 'U0NOBODY')).toContain(`Model: \`${DEFAULT_MODEL}\` (the default)`);
    expect(await command('/model', 'Qwen/Qwen2.5-72B-Instruct', 'U0NOBODY')).toMatch(/Only workspace admins/);
    expect(await command('/model', 'Qwen/Qwen2.5-72B-Instruct', 'U0WSADMIN')).toContain('This channel now uses `Qwen/Qwen2.5-72B-Instruct`');
    expect(await command('/prompt', 'You are a pirate. Answer like one.', 'U0LISTED')).toContain('System prompt updated.');
    expect(await command('/model', 'not a model', 'U0LISTED')).toMatch(/is not a model id/);
  });

  it('sends the channel’s model and prompt to the model, and says which model answered', async () => {
    const { jobId: job, ts } = await mention('hello there', 'C0SETTINGS');
    expect(await settled(bot.queue, job)).toBe('completed');
    const request = hf.chatRequests[0]!;
    expect(request.model).toBe('Qwen/Qwen2.5-72B-Instruct');
    expect(request.messages[0]).toEqual({ role: 'system', content: 'You are a pirate. Answer like one.' });
    expect(slack.botReplies('C0SETTINGS', ts)[0]?.text).toMatch(/Echo: hello there[\s\S]*Qwen\/Qwen2\.5-72B-Instruct/);
  });

  it('keeps other channels on the defaults, without a model note', async () => {
    const { jobId: job, ts } = await mention('hi', 'C0OTHER');
    await settled(bot.queue, job);
    expect(hf.chatRequests[0]?.model).toBe(DEFAULT_MODEL);
    expect(slack.botReplies('C0OTHER', ts)[0]?.text).toBe('Echo: hi');
  });

  it('lets the settings file win: its channels use it and commands refuse to change them', async () => {
    expect(await command('/model', 'Qwen/Qwen2.5-72B-Instruct', 'U0WSADMIN', 'C0PINNED')).toMatch(/settings file/);
    const { jobId: job } = await mention('release status?', 'C0PINNED');
    await settled(bot.queue, job);
    expect(hf.chatRequests[0]?.model).toBe('meta-llama/Llama-3.3-70B-Instruct');
    expect(hf.chatRequests[0]?.messages[0]?.content).toBe('You are the release bot. Answer in one sentence.');
  });

  it('answers in the bot’s threads without a mention once a channel asks for it', async () => {
    const { jobId: job, ts: root } = await mention('start a thread', 'C0SETTINGS');
    await settled(bot.queue, job);
    const say = async (text: string, eventId: string) => (await person.message(text, { threadTs: root, user: 'U0PERSON', eventId })).jobId;
    const quiet = await say('just chatting', 'EvQuiet');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await bot.queue.getJobState(quiet)).toBe('unknown');

    expect(await command('/model', 'listen on', 'U0LISTED')).toContain('without a mention');
    const heard = await say('and now?', 'EvHeard');
    expect(await settled(bot.queue, heard)).toBe('completed');
    expect(slack.botReplies('C0SETTINGS', root).at(-1)?.text).toMatch(/^Echo: and now\?/);
  });
});

describe('settings precedence', () => {
  it('takes a channel entry over its guild’s, the file over stored settings, and defaults last', async () => {
    const redis = createRedis(bot.config.redis.url, 'test');
    const file = [
      { platform: 'discord' as const, guild: 'G1', model: 'org/guild-model', answerWithoutMention: true },
      { platform: 'discord' as const, channel: 'C2', model: 'org/channel-model' },
    ];
    const store = new ChannelSettingsStore(redis, keyspace(uniquePrefix('precedence')), { model: 'org/default', systemPrompt: 'default prompt' }, file);
    const inGuild = await store.resolve({ platform: 'discord', workspaceId: 'G1', channelId: 'C1' });
    expect(inGuild).toMatchObject({ model: 'org/guild-model', answerWithoutMention: true, pinnedByFile: true, customModel: true });
    expect(await store.resolve({ platform: 'discord', workspaceId: 'G1', channelId: 'C2' })).toMatchObject({ model: 'org/channel-model', answerWithoutMention: true });
    await expect(store.update({ platform: 'discord', workspaceId: 'G1', channelId: 'C1' }, { model: 'org/x' })).rejects.toThrow(/settings file/);
    const elsewhere = { platform: 'discord', workspaceId: 'G9', channelId: 'C9' };
    expect(await store.resolve(elsewhere)).toMatchObject({ model: 'org/default', systemPrompt: 'default prompt', pinnedByFile: false, customModel: false });
    await store.update(elsewhere, { model: 'org/stored', systemPrompt: 'stored prompt' });
    await store.update(elsewhere, { model: undefined });
    expect(await store.resolve(elsewhere)).toMatchObject({ model: 'org/default', systemPrompt: 'stored prompt' });
    await redis.quit();
  });
});

describe('CHANNEL_CONFIG_FILE validation', () => {
  it('names every problem in the file at start-up', () => {
    try {
      loadConfig({ HF_TOKEN: 'hf_x', CHANNEL_CONFIG_FILE: INVALID }, adapters);
      expect.unreachable('the config should be refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as ConfigError).message;
      expect(message).toMatch(/channels\.0\.platform/);
      expect(message).toMatch(/channels\.1.*modle|Unrecognized key/);
    }
    expect(() => loadConfig({ HF_TOKEN: 'hf_x', CHANNEL_CONFIG_FILE: '/nope.yaml' }, adapters)).toThrow(/cannot read \/nope\.yaml/);
  });
});
