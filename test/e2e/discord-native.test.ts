import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDiscordFake, type DiscordFake, type StoredMessage } from '../../fakes/discord/server.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { discordEnv, eventually, hfEnv, settled, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const GUILD = '200000000000000001';
const CHANNEL = '300000000000000001';
const FORUM = '300000000000000005';
const STRING_OPTION = 3;
const MANAGE_MESSAGES = 1n << 13n;
const ADMIN = '419999999999999999';

let hf: HfFake;
let discord: DiscordFake;
let bot: RunningTestService;
let botId: string;
let nextUser = 0;

/** A fresh user per test, so the per-user limit never links tests together. */
const newUser = () => `41000000000000${String((nextUser += 1)).padStart(4, '0')}`;

/** The custom ids of a message's buttons. */
const buttonsOf = (message: StoredMessage | undefined): string[] =>
  (message?.components ?? []).flatMap((row) => ((row as { components?: Array<{ custom_id?: string }> }).components ?? []).map((button) => button.custom_id ?? ''));
const button = (message: StoredMessage | undefined, action: string) => buttonsOf(message).find((id) => id.startsWith(`hfbot:${action}:`));

const answersTo = (messageId: string) => discord.botMessages().filter((message) => message.message_reference?.message_id === messageId && !message.deleted);

function mention(text: string, authorId: string, channelId = CHANNEL, id?: string) {
  const message = discord.messageCreate({ channelId, guildId: GUILD, authorId, content: `<@${botId}> ${text}`, mentionsBot: true, ...(id ? { id } : {}) });
  return { message, jobId: `discord-msg-${message.id}` };
}

beforeAll(async () => {
  hf = await startHfFake();
  discord = await startDiscordFake({
    guilds: [
      {
        id: GUILD,
        name: 'Test Guild',
        channels: [
          { id: CHANNEL, name: 'general' },
          { id: FORUM, name: 'help-forum', type: 15, availableTags: [{ name: 'question' }, { name: 'Positive' }, { name: 'Neutral' }, { name: 'Negative' }] },
        ],
      },
    ],
  });
  botId = discord.botUser.id;
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('discord-native'),
    ...hfEnv(hf),
    ...discordEnv(discord),
    DISCORD_PUBLIC_KEY: discord.publicKey,
    ADMIN_USER_IDS: ADMIN,
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
  discord.interactionsEndpoint = undefined;
  discord.httpAnswerDelayMs = 0;
});

describe('Discord threads and forums', () => {
  it('answers in a thread with its earlier messages as context, its own answers as assistant turns', async () => {
    const thread = discord.createThread({ parentId: CHANNEL, name: 'trip planning' });
    const [alice, bob] = [newUser(), newUser()];
    const opening = discord.messageCreate({ channelId: thread, guildId: GUILD, authorId: alice, authorName: 'alice', content: 'I am flying to Lisbon on Friday' });
    const first = mention('where is alice flying?', bob, thread);
    expect(await settled(bot.queue, first.jobId)).toBe('completed');
    expect(discord.botMessages(thread).map((message) => message.content)).toEqual(['Echo: where is alice flying?']);
    expect(JSON.stringify(hf.chatRequests[0]?.messages)).toContain('alice: I am flying to Lisbon on Friday');

    const second = mention('and on which day?', alice, thread);
    expect(await settled(bot.queue, second.jobId)).toBe('completed');
    const prompt = hf.chatRequests[1]!.messages;
    expect(prompt.map((turn) => turn.role)).toEqual(['system', 'user', 'user', 'assistant', 'user']);
    expect(prompt[3]).toEqual({ role: 'assistant', content: 'Echo: where is alice flying?' });
    expect(prompt.at(-1)?.content).toBe('and on which day?');
    // The thread's sentiment shows on its first message (it was started from none in the channel).
    await eventually(() => discord.reactions.some((reaction) => reaction.message_id === opening.id && reaction.emoji === '⚪'), 'the neutral tag on the thread’s first message');
  });

  it('answers a mention in a forum post in the post, and swaps the post’s sentiment tags, keeping its other tags', async () => {
    const tags = Object.fromEntries(discord.forumTags(FORUM).map((tag) => [tag.name.toLowerCase(), tag.id]));
    const post = discord.createThread({ parentId: FORUM, name: 'Login trouble', appliedTags: [tags.question!] });
    const user = newUser();
    const first = mention('how do I reset my password?', user, post, post);
    expect(await settled(bot.queue, first.jobId)).toBe('completed');
    expect(discord.botMessages(post).map((message) => message.content)).toEqual(['Echo: how do I reset my password?']);
    await eventually(() => discord.appliedTags(post).join() === [tags.question, tags.neutral].join(), 'the neutral tag beside the question tag');

    for (const text of ['this is useless and broken', 'worst support ever, I hate it, awful']) {
      const next = mention(text, user, post);
      await settled(bot.queue, next.jobId);
    }
    await eventually(() => discord.appliedTags(post).join() === [tags.question, tags.negative].join(), 'the negative tag instead of the neutral one');
    expect(discord.reactions.filter((reaction) => reaction.channel_id === post)).toEqual([]);
  });
});

describe('Discord buttons', () => {
  it('shows Stop while streaming; Stop ends the answer with what was written and a mark, and aborts the model request', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    hf.enqueueChat({ kind: 'stream', text: words, tokenDelayMs: 20 });
    const user = newUser();
    const { message, jobId } = mention('talk for a long time', user);
    const streaming = await eventually(() => answersTo(message.id).find((answer) => answer.content.includes('word') && button(answer, 'stop')), 'a streaming answer with Stop');
    const click = discord.componentInteraction({ messageId: streaming.id, customId: button(streaming, 'stop')!, userId: user });
    await eventually(() => discord.interactionResponses.get(click.token)?.callbackType === 6, 'the deferred update');
    expect(await settled(bot.queue, jobId)).toBe('completed');
    expect((await bot.queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'stopped' });
    const answer = discord.message(streaming.id)!;
    expect(answer.content).toMatch(/word\d+\n\n_⏹ Stopped\._$/);
    expect(answer.content.length).toBeLessThan(words.length);
    expect(button(answer, 'regen')).toBeDefined();
    expect(button(answer, 'stop')).toBeUndefined();
    await eventually(() => hf.activeStreams === 0, 'the model stream to be closed');
  });

  it('refuses Stop and Regenerate to anyone but the asker, privately; a moderator may', async () => {
    const asker = newUser();
    const { message, jobId } = mention('hello there', asker);
    await settled(bot.queue, jobId);
    const answer = answersTo(message.id)[0]!;
    const regen = button(answer, 'regen')!;
    const other = discord.componentInteraction({ messageId: answer.id, customId: regen, userId: newUser() });
    const refused = await eventually(() => discord.interactionResponses.get(other.token)?.content, 'the refusal');
    expect(refused).toBe('Only the person who asked can do that.');
    expect(discord.interactionResponses.get(other.token)?.ephemeral).toBe(true);
    expect(await bot.queue.getJobState(`${jobId}.r${other.id}`)).toBe('unknown');

    hf.enqueueChat({ kind: 'stream', text: 'A moderator asked again.' });
    const moderator = discord.componentInteraction({ messageId: answer.id, customId: regen, userId: newUser(), permissions: String(MANAGE_MESSAGES) });
    expect(await settled(bot.queue, `${jobId}.r${moderator.id}`)).toBe('completed');
    expect(discord.message(answer.id)?.content).toBe('A moderator asked again.');

    const latest = discord.message(answer.id)!;
    const byAdmin = discord.componentInteraction({ messageId: answer.id, customId: button(latest, 'regen')!, userId: ADMIN });
    expect(await settled(bot.queue, `${jobId}.r${byAdmin.id}`)).toBe('completed');
  });

  it('Regenerate answers again in the same message, and the history keeps the new answer', async () => {
    const user = newUser();
    const dm = discord.dmChannel(user);
    hf.enqueueChat({ kind: 'stream', text: 'Seven.' });
    const first = discord.messageCreate({ channelId: dm, authorId: user, content: 'pick a number' });
    await settled(bot.queue, `discord-msg-${first.id}`);
    const [answer] = discord.botMessages(dm);
    expect(buttonsOf(answer)).toHaveLength(3);

    hf.enqueueChat({ kind: 'stream', text: 'Eleven.' });
    const click = discord.componentInteraction({ messageId: answer!.id, customId: button(answer, 'regen')!, userId: user });
    await eventually(() => discord.interactionResponses.get(click.token)?.callbackType === 6, 'the deferred update');
    expect(await settled(bot.queue, `discord-msg-${first.id}.r${click.id}`)).toBe('completed');
    expect(discord.botMessages(dm).map((message) => message.content)).toEqual(['Eleven.']);
    expect(hf.chatRequests[1]?.messages.at(-1)?.content).toBe('pick a number');
    expect(JSON.stringify(hf.chatRequests[1]?.messages)).not.toContain('Seven.');

    const next = discord.messageCreate({ channelId: dm, authorId: user, content: 'which number was it?' });
    await settled(bot.queue, `discord-msg-${next.id}`);
    const prompt = JSON.stringify(hf.chatRequests[2]?.messages);
    expect(prompt).toContain('Eleven.');
    expect(prompt).not.toContain('Seven.');
    expect(prompt.match(/pick a number/g)).toHaveLength(1);
    // The question asked again is not scored twice for the conversation's sentiment.
    const classified = (text: string) => hf.classifyRequests.filter((request) => JSON.stringify(request.inputs).includes(text)).length;
    await eventually(() => classified('which number was it?') === 1, 'the next message to be classified');
    expect(classified('pick a number')).toBe(1);
  });

  it('regenerates an /ask answer in its interaction response, and with the click’s own token once that one is too old', async () => {
    const user = newUser();
    const ask = discord.interactionCreate({ name: 'ask', options: [{ name: 'prompt', type: STRING_OPTION, value: 'a colour?' }], channelId: CHANNEL, userId: user });
    const jobId = `discord-int-${ask.id}`;
    await settled(bot.queue, jobId);
    const response = discord.interactionResponses.get(ask.token)!;
    const answerId = response.originalMessageId!;

    hf.enqueueChat({ kind: 'stream', text: 'Teal.' });
    const fresh = discord.componentInteraction({ messageId: answerId, customId: button(discord.message(answerId), 'regen')!, userId: user });
    const freshJob = `${jobId}.r${fresh.id}`;
    expect(await settled(bot.queue, freshJob)).toBe('completed');
    expect(response.content).toBe('Teal.');
    expect(discord.requests.some((request) => request.method === 'PATCH' && request.path.includes(fresh.token))).toBe(false);

    // As if the answer were 20 minutes old: its interaction token can no longer be counted on.
    const recordKey = `${bot.config.redis.prefix}:answer:${freshJob}`;
    const record = JSON.parse((await bot.redis.get(recordKey))!) as { job: { receivedAt: number } };
    record.job.receivedAt -= 20 * 60_000;
    await bot.redis.set(recordKey, JSON.stringify(record), 'EX', 600);
    hf.enqueueChat({ kind: 'stream', text: 'Coral.' });
    const late = discord.componentInteraction({ messageId: answerId, customId: button(discord.message(answerId), 'regen')!, userId: user });
    expect(await settled(bot.queue, `${jobId}.r${late.id}`)).toBe('completed');
    expect(discord.message(answerId)?.content).toBe('Coral.');
    expect(discord.requests.some((request) => request.method === 'PATCH' && request.path === `/webhooks/${discord.applicationId}/${late.token}/messages/@original`)).toBe(true);
    expect(discord.botMessages(CHANNEL).filter((message) => message.interaction_token === ask.token || message.interaction_token === late.token)).toHaveLength(1);
  });

  it('records 👍 / 👎 once per user and answer, and /sentiment reports it', async () => {
    const channel = discord.createThread({ parentId: CHANNEL, name: 'feedback' });
    const asker = newUser();
    const { message, jobId } = mention('rate me', asker, channel);
    await settled(bot.queue, jobId);
    const answer = discord.botMessages(channel).find((candidate) => candidate.message_reference?.message_id === message.id)!;
    const reply = async (click: { token: string }) => eventually(() => discord.interactionResponses.get(click.token)?.content, 'the feedback reply');
    expect(await reply(discord.componentInteraction({ messageId: answer.id, customId: button(answer, 'up')!, userId: asker }))).toBe('Thanks for the feedback.');
    expect(await reply(discord.componentInteraction({ messageId: answer.id, customId: button(answer, 'down')!, userId: asker }))).toBe('You have already rated this answer.');
    expect(await reply(discord.componentInteraction({ messageId: answer.id, customId: button(answer, 'down')!, userId: newUser() }))).toBe('Thanks for the feedback.');
    const metrics = await (await fetch(`${bot.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/hfbot_feedback_total\{platform="discord",rating="up"\} [1-9]/);

    const report = discord.interactionCreate({ name: 'sentiment', channelId: channel, userId: asker });
    expect(await eventually(() => discord.interactionResponses.get(report.token)?.content, '/sentiment')).toContain('👍 1 · 👎 1');
  });

  it('answers a click on an answer that is gone with a short private note', async () => {
    const asker = newUser();
    const { message, jobId } = mention('short lived', asker);
    await settled(bot.queue, jobId);
    const answer = answersTo(message.id)[0]!;
    await bot.redis.del(`${bot.config.redis.prefix}:answer:${jobId}`);
    const click = discord.componentInteraction({ messageId: answer.id, customId: button(answer, 'regen')!, userId: asker });
    expect(await eventually(() => discord.interactionResponses.get(click.token)?.content, 'the note')).toBe('That answer is no longer available.');
    expect(discord.interactionResponses.get(click.token)?.ephemeral).toBe(true);
  });
});

describe('Discord HTTP interactions', () => {
  const endpoint = () => `${bot.baseUrl}/discord/interactions`;

  it('answers PING with PONG, and 401 to a forged or missing signature', async () => {
    discord.interactionsEndpoint = endpoint();
    expect(await discord.signedPost(JSON.stringify({ id: '1', type: 1, token: 'x', application_id: discord.applicationId }))).toEqual({ status: 200, body: { type: 1 } });
    expect((await discord.signedPost(JSON.stringify({ type: 1 }), { forge: true })).status).toBe(401);
    expect((await discord.signedPost(JSON.stringify({ type: 1 }), { omitSignature: true })).status).toBe(401);
  });

  it('takes /ask over HTTP and streams the answer through the webhook; a click over HTTP works too', async () => {
    discord.interactionsEndpoint = endpoint();
    hf.enqueueChat({ kind: 'stream', text: 'Answered over HTTP interactions.', tokenDelayMs: 20 });
    const user = newUser();
    const ask = discord.interactionCreate({ name: 'ask', options: [{ name: 'prompt', type: STRING_OPTION, value: 'no gateway needed?' }], channelId: CHANNEL, userId: user });
    expect(await ask.http).toEqual({ status: 200, body: { type: 5 } });
    expect(await settled(bot.queue, `discord-int-${ask.id}`)).toBe('completed');
    const response = discord.interactionResponses.get(ask.token)!;
    expect(response.via).toBe('http');
    expect(response.content).toBe('Answered over HTTP interactions.');
    expect(response.history.length).toBeGreaterThan(1);

    const answer = discord.message(response.originalMessageId!)!;
    const up = discord.componentInteraction({ messageId: answer.id, customId: button(answer, 'up')!, userId: user });
    expect(await up.http).toMatchObject({ status: 200, body: { type: 4, data: { content: 'Thanks for the feedback.', flags: 64 } } });
  });

  it('retries the first edit when Discord has not yet acted on the HTTP answer', async () => {
    discord.interactionsEndpoint = endpoint();
    discord.httpAnswerDelayMs = 400;
    const ask = discord.interactionCreate({ name: 'ask', options: [{ name: 'prompt', type: STRING_OPTION, value: 'quick?' }], channelId: CHANNEL, userId: newUser() });
    expect(await settled(bot.queue, `discord-int-${ask.id}`, 30_000)).toBe('completed');
    expect(discord.interactionResponses.get(ask.token)?.content).toBe('Echo: quick?');
    expect(discord.requests.some((request) => request.path.includes(ask.token) && request.status === 404)).toBe(true);
  }, 40_000);

  it('handles an interaction delivered both ways once', async () => {
    discord.interactionsEndpoint = endpoint();
    const ask = discord.interactionCreate({ name: 'ask', options: [{ name: 'prompt', type: STRING_OPTION, value: 'once?' }], channelId: CHANNEL, userId: newUser(), deliver: 'both' });
    await ask.http;
    expect(await settled(bot.queue, `discord-int-${ask.id}`)).toBe('completed');
    const record = discord.interactionResponses.get(ask.token)!;
    expect(record.callbacks).toEqual([5]);
    expect(record.content).toBe('Echo: once?');
    expect(hf.chatRequests).toHaveLength(1);
  });
});

describe('Discord rate limits', () => {
  it('rides out a storm of 429s on edits: no edit lost, the final text arrives, no error shown', async () => {
    const text = Array.from({ length: 40 }, (_, i) => `part${i}`).join(' ');
    hf.enqueueChat({ kind: 'stream', text, tokenDelayMs: 15 });
    const { message, jobId } = mention('stream through the storm', newUser());
    await eventually(() => answersTo(message.id)[0], 'the first text');
    discord.rateLimitEdits(6, 0.15);
    expect(await settled(bot.queue, jobId, 30_000)).toBe('completed');
    const answers = answersTo(message.id);
    expect(answers.map((answer) => answer.content)).toEqual([text]);
    expect(buttonsOf(answers[0])).toHaveLength(3);
    expect(discord.requests.filter((request) => request.method === 'PATCH' && request.status === 429)).toHaveLength(6);
    expect(discord.botMessages().some((bot) => /went wrong|Sorry/.test(bot.content))).toBe(false);
  }, 40_000);
});
