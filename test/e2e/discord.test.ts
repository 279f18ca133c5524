import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { discordEnv, eventually, hfEnv, settled, sleep, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const GUILD = '200000000000000001';
const CHANNEL = '300000000000000001';
const STRING_OPTION = 3;

let hf: HfFake;
let discord: DiscordFake;
let bot: RunningTestService;
let botId: string;
let nextUser = 0;

/** A fresh user per test, so the per-user limit never links tests together. */
const newUser = () => `40000000000000${String((nextUser += 1)).padStart(4, '0')}`;

function mention(text: string, authorId = newUser(), extra: { messageReference?: { message_id: string; channel_id: string; guild_id?: string } } = {}) {
  const message = discord.messageCreate({ channelId: CHANNEL, guildId: GUILD, authorId, content: `<@${botId}> ${text}`, mentionsBot: true, ...extra });
  return { message, jobId: `discord-msg-${message.id}` };
}

/** The bot's messages that reply to `messageId`, in order. */
const answersTo = (messageId: string) =>
  discord.botMessages().filter((message) => message.message_reference?.message_id === messageId && !message.deleted);

beforeAll(async () => {
  hf = await startHfFake();
  discord = await startDiscordFake();
  botId = discord.botUser.id;
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('discord'),
    ...hfEnv(hf),
    ...discordEnv(discord),
  });
  await discord.ready();
});

afterAll(async () => {
  await bot?.stop();
  await discord?.close();
  await hf?.close();
});

beforeEach(() => {
  hf.reset();
});

describe('Discord', () => {
  it('answers a mention in a server as a reply, typing first, streamed by paced edits, pinging nobody', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'A transformer is a neural network built on attention, introduced in 2017.', firstTokenDelayMs: 200, tokenDelayMs: 30 });
    const { message, jobId } = mention('what is a transformer?');
    expect(await settled(bot.queue, jobId)).toBe('completed');
    const [answer, ...rest] = answersTo(message.id);
    expect(rest).toHaveLength(0);
    expect(answer!.content).toBe('A transformer is a neural network built on attention, introduced in 2017.');
    expect(answer!.edits).toBeGreaterThan(0);
    expect(answer!.edits).toBeLessThan(12);
    expect(answer!.allowed_mentions?.parse).toEqual([]);
    expect(answer!.pings).toEqual({ users: [], roles: [], everyone: false });
    expect(discord.typingCount(CHANNEL)).toBeGreaterThan(0);
    const edits = discord.requests.filter((request) => request.method === 'PATCH' && request.path.endsWith(`/messages/${answer!.id}`)).map((request) => request.at);
    for (let i = 1; i < edits.length - 1; i += 1) expect(edits[i]! - edits[i - 1]!).toBeGreaterThanOrEqual(80);
    expect(hf.chatRequests[0]?.messages.at(-1)?.content).toBe('what is a transformer?');
  });

  it('continues the conversation when someone replies to an answer, with the reply chain as context', async () => {
    const user = newUser();
    const first = mention('my favourite colour is teal', user);
    await settled(bot.queue, first.jobId);
    const answer = answersTo(first.message.id)[0]!;
    const followUp = discord.messageCreate({
      channelId: CHANNEL,
      guildId: GUILD,
      authorId: user,
      content: 'and what is my favourite colour?',
      messageReference: { message_id: answer.id, channel_id: CHANNEL, guild_id: GUILD },
    });
    expect(await settled(bot.queue, `discord-msg-${followUp.id}`)).toBe('completed');
    const prompt = JSON.stringify(hf.chatRequests[1]?.messages);
    expect(prompt).toContain('my favourite colour is teal');
    expect(prompt).toContain('Echo: my favourite colour is teal');
    expect(answersTo(followUp.id).map((message) => message.content)).toEqual(['Echo: and what is my favourite colour?']);
  });

  it('answers DMs with the DM conversation as context, and /reset forgets it', async () => {
    const user = newUser();
    const dm = discord.dmChannel(user);
    const first = discord.messageCreate({ channelId: dm, authorId: user, content: 'I am called Linus' });
    await settled(bot.queue, `discord-msg-${first.id}`);
    const second = discord.messageCreate({ channelId: dm, authorId: user, content: 'who am I?' });
    await settled(bot.queue, `discord-msg-${second.id}`);
    expect(JSON.stringify(hf.chatRequests[1]?.messages)).toContain('I am called Linus');
    expect(discord.botMessages(dm).map((message) => message.content)).toEqual(['Echo: I am called Linus', 'Echo: who am I?']);

    const reset = discord.interactionCreate({ name: 'reset', channelId: dm, userId: user });
    await eventually(() => discord.interactionResponses.get(reset.token)?.content?.includes('forgotten'), '/reset to answer');
    const third = discord.messageCreate({ channelId: dm, authorId: user, content: 'who am I now?' });
    await settled(bot.queue, `discord-msg-${third.id}`);
    expect(JSON.stringify(hf.chatRequests[2]?.messages)).not.toContain('Linus');
  });

  it('defers /ask at once and streams the answer into the interaction response over REST', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Interactions are answered within three seconds, then edited.', firstTokenDelayMs: 300, tokenDelayMs: 40 });
    const { id, token } = discord.interactionCreate({ name: 'ask', options: [{ name: 'prompt', type: STRING_OPTION, value: 'how do interactions work?' }], channelId: CHANNEL, userId: newUser() });
    await eventually(() => discord.interactionResponses.get(token)?.callbackType === 5, 'the deferral');
    const response = discord.interactionResponses.get(token)!;
    expect(response.respondedAt! - response.createdAt).toBeLessThan(3000);
    expect(await settled(bot.queue, `discord-int-${id}`)).toBe('completed');
    expect(response.content).toBe('Interactions are answered within three seconds, then edited.');
    expect(response.history.length).toBeGreaterThan(1);
    expect(response.allowed_mentions?.parse).toEqual([]);
  });

  it('splits a 5,000-character answer into messages of at most 2,000, in order, closing and reopening code', async () => {
    const prose = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} explains one more detail of the system.`).join(' ');
    const code = Array.from({ length: 60 }, (_, i) => `print("line ${i} of the example")`).join('\n');
    const text = `${prose}\n\n\`\`\`python\n${code}\n\`\`\`\n\n${prose}`;
    expect(text.length).toBeGreaterThan(5000);
    hf.enqueueChat({ kind: 'stream', text, tokenDelayMs: 0 });
    const { message, jobId } = mention('write a long answer');
    await settled(bot.queue, jobId);
    const parts = answersTo(message.id).map((answer) => answer.content);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) {
      expect([...part].length).toBeLessThanOrEqual(2000);
      expect(part.split('\n').filter((line) => line.startsWith('```')).length % 2).toBe(0);
    }
    const rejoined = parts.join('\n').replace(/\n```\n```python\n/g, '\n');
    expect(rejoined.replace(/\s+/g, ' ')).toBe(text.replace(/\s+/g, ' '));
  });

  it('never pings @everyone or @here from model output', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Hey @everyone and @here, read this! <@&123456789012345678>' });
    const { message, jobId } = mention('ping them all');
    await settled(bot.queue, jobId);
    const answer = answersTo(message.id)[0]!;
    expect(answer.pings).toEqual({ users: [], roles: [], everyone: false });
    expect(answer.content).not.toMatch(/@(everyone|here)\b/);
  });

  it('defuses look-alikes and mentions of anyone but the asker in the text too', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Hey ＠everyone, <@&123456789012345678> and <@987654321098765432>, says <@555555555555555555>!' });
    const { message, jobId } = mention('ping them in disguise', '555555555555555555');
    await settled(bot.queue, jobId);
    const answer = answersTo(message.id)[0]!;
    expect(answer.pings).toEqual({ users: [], roles: [], everyone: false });
    expect(answer.content).toBe('Hey @\u200Beveryone, @\u200B&123456789012345678 and @\u200B987654321098765432, says <@555555555555555555>!');
  });

  it('absorbs a cold start in the same message without spending an attempt', async () => {
    hf.enqueueChat({ kind: 'loading', shape: 'nested', estimatedTime: 1 }, { kind: 'loading', shape: 'legacy', estimatedTime: 1 });
    const { message, jobId } = mention('wake up');
    await eventually(() => answersTo(message.id)[0]?.content.includes('warming up'), 'the warming-up notice');
    expect(await settled(bot.queue, jobId, 30_000)).toBe('completed');
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(1);
    expect(answersTo(message.id).map((answer) => answer.content)).toEqual(['Echo: wake up']);
  }, 40_000);

  it('ignores itself, other bots, system messages and plain chatter', async () => {
    const own = discord.messageCreate({ channelId: CHANNEL, guildId: GUILD, authorId: botId, content: `<@${botId}> talking to myself` });
    const otherBot = discord.messageCreate({ channelId: CHANNEL, guildId: GUILD, authorId: newUser(), bot: true, content: `<@${botId}> beep`, mentionsBot: true });
    const system = discord.messageCreate({ channelId: CHANNEL, guildId: GUILD, authorId: newUser(), content: '', type: 7 });
    const chatter = discord.messageCreate({ channelId: CHANNEL, guildId: GUILD, authorId: newUser(), content: 'just people talking' });
    await sleep(500);
    for (const message of [own, otherBot, system, chatter]) expect(await bot.queue.getJobState(`discord-msg-${message.id}`)).toBe('unknown');
    expect(hf.chatRequests).toHaveLength(0);
  });

  it('answers once when the gateway replays a message, and keeps answering after a resume', async () => {
    const { message, jobId } = mention('only once please');
    discord.dispatch('MESSAGE_CREATE', message);
    await settled(bot.queue, jobId);
    await sleep(300);
    expect(answersTo(message.id)).toHaveLength(1);

    const resumesBefore = discord.resumes;
    discord.reconnectClients('close', 4000);
    await eventually(() => discord.resumes > resumesBefore, 'the client to resume');
    const after = mention('still with me?');
    expect(await settled(bot.queue, after.jobId)).toBe('completed');
    expect(answersTo(after.message.id).map((answer) => answer.content)).toEqual(['Echo: still with me?']);
    expect(discord.identifies).toHaveLength(1);
  });
});
