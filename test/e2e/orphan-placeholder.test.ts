import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordRest, DiscordSurface } from '../../adapters/discord/surface.ts';
import { createSlackWebClient, SlackSurface } from '../../adapters/slack/surface.ts';
import { discordAdapter } from '../../adapters/discord/index.ts';
import { slackAdapter } from '../../adapters/slack/index.ts';
import type { ChatJob } from '../../src/jobs/chat-job.ts';
import { createLogger } from '../../src/logger.ts';
import type { Surface } from '../../src/surface.ts';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';

/**
 * A worker that dies between posting a reply's first message and saving its id leaves the job
 * with no message ids; the next attempt must reuse that message, not post a second one.
 */
let slack: SlackFake;
let discord: DiscordFake;
const logger = createLogger({ level: 'silent' });

function job(fields: Partial<ChatJob> & Pick<ChatJob, 'id' | 'platform' | 'channelId' | 'reply'>): ChatJob {
  return { v: 1, kind: 'mention', workspaceId: 'W1', userId: 'U1', text: 'hi', receivedAt: Date.now(), fetchThreadContext: false, attachments: [], progress: { messageIds: [], loadingWaitMs: 0, rateLimitWaitMs: 0 }, ...fields };
}

beforeAll(async () => {
  slack = await startSlackFake();
  discord = await startDiscordFake();
});

afterAll(async () => {
  await Promise.all([slack?.close(), discord?.close()]);
});

describe('a message posted by an attempt that died before saving it', () => {
  it('is adopted on Slack by the job id its messages carry, never an earlier answer posted after the question', async () => {
    // The edit path.
    const config = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: 's', SLACK_API_URL: slack.apiUrl, SLACK_STREAMING: 'update' })!;
    const surface = new SlackSurface(createSlackWebClient(config), config, logger);
    const root = slack.seedMessage({ channel: 'C1', user: 'U1', text: 'hello bot' });
    const question = slack.seedMessage({ channel: 'C1', user: 'U1', text: 'and then?', thread_ts: root });
    const inThread = { channelId: 'C1', threadId: root, reply: { channelId: 'C1', threadId: root } };
    // The answer to the first message, finished after the second question came (it waited its turn).
    const earlier = job({ id: 'slack-ev-Earlier1', platform: 'slack', messageId: root, ...inThread });
    await (await surface.openReply(earlier, async () => undefined)).render('an earlier answer', true, 'answer');
    const chat = job({ id: 'slack-ev-Orphan', platform: 'slack', messageId: question, ...inThread });

    // Nothing of this job's is adopted yet: the earlier answer is not its own.
    const waited = await surface.openReply(chat, async () => undefined, { mayHavePosted: true });
    expect(waited.placeholder).toBe('_Thinking…_');
    // The first attempt posts the beginning of its answer (and a second message past Slack's
    // length limit would carry the same id) and "dies": nothing is saved.
    await waited.render('the answer begins', false);
    const saved: string[][] = [];
    const reply = await surface.openReply(chat, async (ids) => void saved.push(ids), { mayHavePosted: true });
    expect(reply.placeholder).toBeUndefined();
    await reply.render('the answer', true, 'answer');

    const replies = slack.botReplies('C1', root);
    expect(replies.map((message) => message.text)).toEqual(['an earlier answer', 'the answer']);
    expect(saved[0]).toEqual([replies[1]!.ts]);
  });

  it('is adopted on Slack after a command, found in the channel by its job id', async () => {
    const config = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: 's', SLACK_API_URL: slack.apiUrl, SLACK_STREAMING: 'update' })!;
    const surface = new SlackSurface(createSlackWebClient(config), config, logger);
    // Received when the fake's clock began (its timestamps start at 1,700,000,000 s).
    const command = (id: string) => job({ id, platform: 'slack', kind: 'command', channelId: 'C3', receivedAt: 1_700_000_000_000, reply: { channelId: 'C3' } });
    // Another command's answer in the same channel, posted meanwhile.
    await (await surface.openReply(command('slack-cmd-Other'), async () => undefined)).render('another answer', false);
    await (await surface.openReply(command('slack-cmd-Mine'), async () => undefined)).render('mine begins', false);
    const saved: string[][] = [];
    const reply = await surface.openReply(command('slack-cmd-Mine'), async (ids) => void saved.push(ids), { mayHavePosted: true });
    await reply.render('mine, whole', true, 'answer');

    const posted = slack.botReplies('C3');
    expect(posted.map((message) => message.text.split('\n\n').at(-1))).toEqual(['another answer', 'mine, whole']);
    expect(saved[0]).toEqual([posted[1]!.ts]);
  });

  it('is adopted on Slack when it is a native stream, never an earlier finished answer', async () => {
    const config = slackAdapter.settingsFrom({ SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: 's', SLACK_API_URL: slack.apiUrl })!;
    const surface = new SlackSurface(createSlackWebClient(config), config, logger);
    const root = slack.seedMessage({ channel: 'C2', user: 'U1', text: 'hello bot' });
    const earlier = job({ id: 'slack-ev-Earlier', platform: 'slack', channelId: 'C2', threadId: root, messageId: root, reply: { channelId: 'C2', threadId: root } });
    await (await surface.openReply(earlier, async () => undefined)).render('an earlier answer', true, 'answer');

    const question = slack.seedMessage({ channel: 'C2', user: 'U1', text: 'and again', thread_ts: root });
    const chat = job({ id: 'slack-ev-OrphanStream', platform: 'slack', channelId: 'C2', threadId: root, messageId: question, reply: { channelId: 'C2', threadId: root } });
    // A job that waited its turn, with nothing posted: the earlier, finished answer is not its own.
    const waited = await surface.openReply(chat, async () => undefined, { mayHavePosted: true });
    // It starts its stream and "dies" before saving the ts.
    await waited.render('the answer begins ', false);
    const saved: string[][] = [];
    const reply = await surface.openReply(chat, async (ids) => void saved.push(ids), { mayHavePosted: true });
    await reply.render('the answer, whole', true, 'answer');

    expect(slack.botReplies('C2', root).map((message) => message.text)).toEqual(['an earlier answer', 'the answer, whole']);
    expect(saved[0]).toEqual([slack.botReplies('C2', root)[1]!.ts]);
  });

  it('is the same message on Discord: posts carry a nonce Discord enforces', async () => {
    const config = discordAdapter.settingsFrom({ DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.api })!;
    const surface: Surface = new DiscordSurface(createDiscordRest(config), config, logger);
    const question = discord.messageCreate({ channelId: '300000000000000001', authorId: '400000000000000001', content: 'hello bot' });
    const chat = job({ id: `discord-msg-${question.id}`, platform: 'discord', channelId: '300000000000000001', reply: { channelId: '300000000000000001', threadId: question.id } });

    const first = await surface.openReply(chat, async () => undefined);
    await first.render('Thinking', false);
    const second = await surface.openReply(chat, async () => undefined, { mayHavePosted: true });
    await second.render('the answer', true);

    const answers = discord.botMessages('300000000000000001').filter((message) => message.message_reference?.message_id === question.id && !message.deleted);
    expect(answers.map((message) => message.content)).toEqual(['the answer']);
  });
});
