/**
 * Drives the real discord.js `Client` and `@discordjs/rest` `REST` against the loopback Discord fake,
 * so the fake is known to speak the protocol those libraries expect.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  Partials,
  Routes,
  type ClientEvents,
  type SendableChannels,
} from 'discord.js';
import { REST, RateLimitError } from '@discordjs/rest';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';

const BOT_ID = '100000000000000001';
const GUILD_ID = '200000000000000001';
const CHANNEL_ID = '300000000000000001';
const USER_ID = '400000000000000001';

const FULL_INTENTS =
  GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent | GatewayIntentBits.DirectMessages;

let fake: DiscordFake;
const clients: Client[] = [];

beforeAll(async () => {
  fake = await startDiscordFake();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.destroy()));
  fake.reset();
});

afterAll(async () => {
  await fake.close();
});

/** The next `event` for which `pred` holds, as its argument tuple. */
function nextEvent<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  pred: (...args: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ClientEvents[K]): void => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`timed out waiting for ${String(event)}`));
    }, timeoutMs);
    client.on(event, listener);
  });
}

/** A logged-in discord.js client (destroyed after each test). */
async function loginClient(intents: number = FULL_INTENTS, api = fake.api, token = fake.token): Promise<Client<true>> {
  const client = new Client({ intents, partials: [Partials.Channel], rest: { api } });
  clients.push(client);
  const ready = nextEvent(client, Events.ClientReady);
  await client.login(token);
  const [readyClient] = await ready;
  return readyClient;
}

function sendableChannel(client: Client, id = CHANNEL_ID): SendableChannels {
  const channel = client.channels.cache.get(id);
  if (!channel?.isSendable()) throw new Error(`channel ${id} is not cached or not sendable`);
  return channel;
}

function restClient(extra: Partial<ConstructorParameters<typeof REST>[0]> = {}): REST {
  return new REST({ api: fake.api, ...extra }).setToken(fake.token);
}

function idOf(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string') return value.id;
  throw new Error(`no id in ${JSON.stringify(value)}`);
}

describe('gateway login', () => {
  it('logs a real Client in: READY, GUILD_CREATE, ClientReady with the bot user', async () => {
    const client = await loginClient();

    expect(client.user.id).toBe(BOT_ID);
    expect(client.user.bot).toBe(true);
    expect(client.application.id).toBe(BOT_ID);
    expect(client.guilds.cache.get(GUILD_ID)?.name).toBe('Test Guild');
    expect(client.channels.cache.get(CHANNEL_ID)?.type).toBe(ChannelType.GuildText);
    expect(client.guilds.cache.get(GUILD_ID)?.members.me?.id).toBe(BOT_ID);

    expect(fake.identifies).toHaveLength(1);
    expect(fake.identifies[0]?.intents).toBe(FULL_INTENTS);
    expect(fake.identifies[0]?.compress).toBe(false);
    expect(fake.gatewayConnects[0]?.query).toEqual({ v: '10', encoding: 'json' });
    expect(fake.connectedClients).toBe(1);
    await fake.ready(100);
  });

  it('rejects a wrong token at GET /gateway/bot', async () => {
    const client = new Client({ intents: FULL_INTENTS, rest: { api: fake.api } });
    clients.push(client);
    await expect(client.login('not-the-token')).rejects.toThrow(/invalid token/i);
    expect(fake.identifies).toHaveLength(0);
    expect(fake.requests.find((r) => r.path === '/gateway/bot')?.status).toBe(401);
  });

  it('answers 401 without the bot token and sends rate-limit headers', async () => {
    const res = await fetch(`${fake.api}/v10/users/@me`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    expect(res.headers.get('x-ratelimit-limit')).toBe('50');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('49');
    expect(Number(res.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(res.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);

    const ok = await fetch(`${fake.api}/v10/users/@me`, { headers: { Authorization: `Bot ${fake.token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: BOT_ID, bot: true });
  });
});

describe('messages from users', () => {
  it('fires messageCreate for a guild mention, with mentions.has(client.user)', async () => {
    const client = await loginClient();
    const got = nextEvent(client, Events.MessageCreate, (m) => m.author.id === USER_ID);
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, authorName: 'alice', content: `<@${BOT_ID}> hello there`, mentionsBot: true });
    const [message] = await got;

    expect(message.content).toBe(`<@${BOT_ID}> hello there`);
    expect(message.guildId).toBe(GUILD_ID);
    expect(message.author.username).toBe('alice');
    expect(message.author.bot).toBe(false);
    expect(message.member?.id).toBe(USER_ID);
    expect(message.mentions.has(client.user)).toBe(true);

    // A message that does not mention the bot says so.
    const plain = nextEvent(client, Events.MessageCreate, (m) => m.content === 'just chatting');
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: 'just chatting' });
    const [other] = await plain;
    expect(other.mentions.has(client.user)).toBe(false);

    // A reply to the bot pings it (Discord's default), so discord.js counts it as a mention too.
    const botMessage = await sendableChannel(client).send('I am the bot');
    const replied = nextEvent(client, Events.MessageCreate, (m) => m.content === 'replying to you');
    fake.messageCreate({
      channelId: CHANNEL_ID,
      authorId: USER_ID,
      content: 'replying to you',
      messageReference: { message_id: botMessage.id, channel_id: CHANNEL_ID },
    });
    const [reply] = await replied;
    expect(reply.reference?.messageId).toBe(botMessage.id);
    expect(reply.mentions.repliedUser?.id).toBe(BOT_ID);
    expect(reply.mentions.has(client.user)).toBe(true);
    expect(reply.mentions.has(client.user, { ignoreRepliedUser: true })).toBe(false);
  });

  it('fires messageCreate for a DM, on a DM-based (partial) channel', async () => {
    const client = await loginClient();
    const dmId = fake.dmChannel(USER_ID, { userName: 'alice' });
    const got = nextEvent(client, Events.MessageCreate, (m) => m.author.id === USER_ID);
    fake.messageCreate({ channelId: dmId, authorId: USER_ID, content: 'hi in private' });
    const [message] = await got;

    expect(message.channel.isDMBased()).toBe(true);
    expect(message.channel.type).toBe(ChannelType.DM);
    expect(message.guildId).toBeNull();
    expect(message.content).toBe('hi in private');

    const reply = await message.reply('private answer');
    expect(fake.botMessages(dmId).map((m) => m.content)).toEqual(['private answer']);
    expect(fake.message(reply.id)?.guild_id).toBeUndefined();
  });

  it('blanks content without the MessageContent intent, except mentions and DMs', async () => {
    const client = await loginClient(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages);
    const seen: string[] = [];
    client.on(Events.MessageCreate, (m) => {
      if (m.author.id === USER_ID) seen.push(m.content);
    });
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: 'no mention here' });
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: `<@${BOT_ID}> with mention` });
    fake.messageCreate({ channelId: fake.dmChannel(USER_ID), authorId: USER_ID, content: 'a dm' });
    await fake.waitFor(() => seen.length === 3, 5000);
    expect(seen).toEqual(['', `<@${BOT_ID}> with mention`, 'a dm']);
  });
});

describe('messages from the bot', () => {
  it('records message.reply() and channel.send() with allowed_mentions and the reply reference', async () => {
    const client = await loginClient();
    const got = nextEvent(client, Events.MessageCreate, (m) => m.author.id === USER_ID);
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: `<@${BOT_ID}> ping me back` });
    const [incoming] = await got;

    const reply = await incoming.reply({ content: `Sure <@${USER_ID}>`, allowedMentions: { parse: [] } });
    const sent = await sendableChannel(client).send({ content: 'hello @everyone', allowedMentions: { parse: [] } });

    expect(reply.reference?.messageId).toBe(incoming.id);
    const storedReply = fake.message(reply.id);
    expect(storedReply).toMatchObject({
      content: `Sure <@${USER_ID}>`,
      own: true,
      type: 19,
      allowed_mentions: { parse: [] },
      message_reference: { message_id: incoming.id, channel_id: CHANNEL_ID, guild_id: GUILD_ID },
      pings: { users: [], roles: [], everyone: false },
    });
    expect(fake.message(sent.id)).toMatchObject({ content: 'hello @everyone', type: 0, allowed_mentions: { parse: [] } });
    expect(fake.message(sent.id)?.pings.everyone).toBe(false);
    expect(fake.botMessages(CHANNEL_ID).map((m) => m.id)).toEqual([reply.id, sent.id]);

    // Without allowedMentions a reply pings the author, as on Discord.
    const loud = await incoming.reply('no allowed mentions');
    expect(fake.message(loud.id)?.pings.users).toEqual([USER_ID]);
  });

  it('echoes the bot’s own messages back over the gateway', async () => {
    const client = await loginClient();
    const echoed = nextEvent(client, Events.MessageCreate, (m) => m.content === 'echo me');
    const sent = await sendableChannel(client).send('echo me');
    const [message] = await echoed;
    expect(message.id).toBe(sent.id);
    expect(message.author.id).toBe(BOT_ID);
  });

  it('rejects what Discord rejects: too long, empty, unknown reply target', async () => {
    const client = await loginClient();
    const channel = sendableChannel(client);
    const tooLong = await channel.send('x'.repeat(2001)).catch((err: unknown) => err);
    expect(tooLong).toBeInstanceOf(DiscordAPIError);
    expect(tooLong).toMatchObject({ code: 50035, status: 400 });
    await expect(channel.send('x'.repeat(2000))).resolves.toMatchObject({ content: 'x'.repeat(2000) });

    const rest = restClient();
    await expect(rest.post(Routes.channelMessages(CHANNEL_ID), { body: { content: '' } })).rejects.toMatchObject({ code: 50006 });
    await expect(
      rest.post(Routes.channelMessages(CHANNEL_ID), { body: { content: 'hi', message_reference: { message_id: '999' } } }),
    ).rejects.toMatchObject({ code: 50035 });
    await expect(rest.get(Routes.channelMessage(CHANNEL_ID, '999'))).rejects.toMatchObject({ code: 10008, status: 404 });
  });

  it('edits a message with @discordjs/rest and keeps the history', async () => {
    const rest = restClient();
    const id = idOf(await rest.post(Routes.channelMessages(CHANNEL_ID), { body: { content: 'draft' } }));
    await rest.patch(Routes.channelMessage(CHANNEL_ID, id), { body: { content: 'draft, longer' } });
    const edited = await rest.patch(Routes.channelMessage(CHANNEL_ID, id), { body: { content: 'final' } });

    expect(edited).toMatchObject({ id, content: 'final' });
    expect(fake.message(id)).toMatchObject({ edits: 2, history: ['draft', 'draft, longer', 'final'], deleted: false });
    expect(fake.message(id)?.edited_timestamp).not.toBeNull();
    expect(await rest.get(Routes.channelMessage(CHANNEL_ID, id))).toMatchObject({ content: 'final' });

    await rest.delete(Routes.channelMessage(CHANNEL_ID, id));
    expect(fake.message(id)?.deleted).toBe(true);
    await expect(rest.get(Routes.channelMessage(CHANNEL_ID, id))).rejects.toMatchObject({ code: 10008 });
  });

  it('has REST retry an injected 429, seen as two requests', async () => {
    const rest = restClient();
    fake.failNext({ method: 'POST', route: /^\/channels\/\d+\/messages$/ }, { status: 429, retryAfterSec: 0.05 });
    const started = Date.now();
    const id = idOf(await rest.post(Routes.channelMessages(CHANNEL_ID), { body: { content: 'after the limit' } }));

    const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/messages`);
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(fake.botMessages(CHANNEL_ID).map((m) => m.id)).toEqual([id]);
  });

  it('has REST retry an injected 500, and surfaces a 429 with rejectOnRateLimit', async () => {
    fake.failNext({ route: /\/messages$/ }, { status: 500 });
    await restClient().post(Routes.channelMessages(CHANNEL_ID), { body: { content: 'second try' } });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);

    fake.failNext({ method: 'POST', route: /\/messages$/ }, { status: 429, retryAfterSec: 1.5 });
    const err = await restClient({ rejectOnRateLimit: ['/channels'] })
      .post(Routes.channelMessages(CHANNEL_ID), { body: { content: 'never' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ retryAfter: 1550, global: false });
    expect(fake.botMessages()).toHaveLength(1);
  });

  it('counts typing, records reactions and starts threads', async () => {
    const client = await loginClient();
    const channel = sendableChannel(client);
    await channel.sendTyping();
    await channel.sendTyping();
    expect(fake.typingCount(CHANNEL_ID)).toBe(2);

    const message = await channel.send('react to me');
    const reaction = await message.react('👍');
    expect(fake.reactions).toEqual([expect.objectContaining({ message_id: message.id, emoji: '👍', user_id: BOT_ID })]);
    await reaction.users.remove(BOT_ID);
    expect(fake.reactions).toEqual([]);

    const thread = await message.startThread({ name: 'Chat' });
    expect(thread.id).toBe(message.id);
    expect(thread.type).toBe(ChannelType.PublicThread);
    await thread.send('inside the thread');
    expect(fake.botMessages(thread.id)).toEqual([expect.objectContaining({ content: 'inside the thread', guild_id: GUILD_ID })]);

    const fetched = await client.channels.fetch(thread.id);
    expect(fetched?.isThread()).toBe(true);
  });
});

describe('interactions', () => {
  it('fires a chat input command; deferReply + editReply reach the callback and @original routes', async () => {
    const client = await loginClient();
    const rest = restClient();
    const commands = await rest.put(Routes.applicationCommands(BOT_ID), {
      body: [{ name: 'ask', description: 'Ask the model', options: [{ name: 'prompt', description: 'What', type: 3, required: true }] }],
    });
    expect(fake.registeredCommands.global.map((c) => c.name)).toEqual(['ask']);
    const commandId = Array.isArray(commands) ? idOf(commands[0]) : '';

    const got = nextEvent(client, Events.InteractionCreate);
    const { token } = fake.interactionCreate({
      name: 'ask',
      options: [{ name: 'prompt', type: 3, value: 'why is the sky blue?' }],
      channelId: CHANNEL_ID,
      userId: USER_ID,
      userName: 'alice',
    });
    const [interaction] = await got;
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    expect(interaction.commandName).toBe('ask');
    expect(interaction.commandId).toBe(commandId);
    expect(interaction.options.getString('prompt')).toBe('why is the sky blue?');
    expect(interaction.guildId).toBe(GUILD_ID);
    expect(interaction.user.id).toBe(USER_ID);

    await interaction.deferReply();
    expect(fake.interactionResponses.get(token)).toMatchObject({ callbackType: 5, content: null, edits: 0 });
    const edited = await interaction.editReply({ content: 'x', allowedMentions: { parse: [] } });

    const record = fake.interactionResponses.get(token);
    expect(record).toMatchObject({ callbackType: 5, content: 'x', edits: 1, history: ['x'], allowed_mentions: { parse: [] } });
    expect(record?.originalMessageId).toBe(edited.id);
    const paths = fake.requests.map((r) => `${r.method} ${r.path.replace(token, ':token').replace(interaction.id, ':id')}`);
    expect(paths).toContain('POST /interactions/:id/:token/callback');
    expect(paths).toContain(`PATCH /webhooks/${BOT_ID}/:token/messages/@original`);
    expect(fake.requests.find((r) => r.path.endsWith('/callback'))?.authorized).toBe(false);
  });

  it('lets a follow-up fill a deferred reply, then post new messages', async () => {
    const client = await loginClient();
    const got = nextEvent(client, Events.InteractionCreate);
    const { token } = fake.interactionCreate({ name: 'ask', channelId: CHANNEL_ID, userId: USER_ID });
    const [interaction] = await got;
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');

    await interaction.deferReply();
    const first = await interaction.followUp('first part');
    const second = await interaction.followUp('second part');

    const record = fake.interactionResponses.get(token);
    expect(record?.originalMessageId).toBe(first.id);
    expect(record?.content).toBe('first part');
    expect(record?.followups.map((m) => m.id)).toEqual([second.id]);
    await expect(interaction.fetchReply()).resolves.toMatchObject({ content: 'first part' });
  });

  it('refuses a second acknowledgement and a late first response', async () => {
    const rest = restClient();
    const { id, token } = fake.interactionCreate({ name: 'ask', channelId: CHANNEL_ID, userId: USER_ID });
    await rest.post(Routes.interactionCallback(id, token), { body: { type: 4, data: { content: 'hi' } }, auth: false });
    expect(fake.interactionResponses.get(token)).toMatchObject({ callbackType: 4, content: 'hi', history: ['hi'] });
    await expect(
      rest.post(Routes.interactionCallback(id, token), { body: { type: 5 }, auth: false }),
    ).rejects.toMatchObject({ code: 40060 });

    const late = await startDiscordFake({ interactionResponseWindowMs: 20 });
    try {
      const lateRest = new REST({ api: late.api });
      const slow = late.interactionCreate({ name: 'ask', channelId: CHANNEL_ID, userId: USER_ID });
      await new Promise((resolve) => setTimeout(resolve, 40));
      await expect(
        lateRest.post(Routes.interactionCallback(slow.id, slow.token), { body: { type: 5 }, auth: false }),
      ).rejects.toMatchObject({ code: 10062, status: 404 });
    } finally {
      await late.close();
    }
  });
});

describe('gateway reconnects', () => {
  it('resumes after the socket is closed with 4000, replays what it missed, no second identify', async () => {
    const client = await loginClient();
    const resumed = nextEvent(client, Events.ShardResume);
    const missed = nextEvent(client, Events.MessageCreate, (m) => m.content === 'while you were away');

    expect(fake.reconnectClients('close', 4000)).toBe(1);
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: 'while you were away' });
    const [, replayed] = await resumed;
    await missed;
    expect(replayed).toBeGreaterThanOrEqual(1);
    expect(fake.resumes).toBe(1);

    const after = nextEvent(client, Events.MessageCreate, (m) => m.content === 'after the resume');
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: 'after the resume', mentionsBot: true });
    await after;
    expect(fake.identifies).toHaveLength(1);
    expect(fake.gatewayConnects).toHaveLength(2);
  });

  it('resumes after op 7 Reconnect', async () => {
    const client = await loginClient();
    const resumed = nextEvent(client, Events.ShardResume);
    expect(fake.reconnectClients(7)).toBe(1);
    await resumed;
    expect(fake.resumes).toBe(1);
    expect(fake.identifies).toHaveLength(1);
    const got = nextEvent(client, Events.MessageCreate, (m) => m.content === 'still here');
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: 'still here' });
    await got;
  });

  it('resumes on the same socket after a resumable invalid session, re-identifies after a non-resumable one', async () => {
    const client = await loginClient();
    const resumed = nextEvent(client, Events.ShardResume);
    expect(fake.invalidateSession(true)).toBe(1);
    await resumed;
    expect(fake.resumes).toBe(1);
    expect(fake.gatewayConnects).toHaveLength(1);

    // @discordjs/ws spaces identifies 5 s apart (plus up to 1.5 s jitter).
    expect(fake.invalidateSession(false)).toBe(1);
    await fake.waitFor(() => fake.identifies.length === 2 && fake.connectedClients === 1, 15_000);
    const got = nextEvent(client, Events.MessageCreate, (m) => m.content === 'new session');
    fake.messageCreate({ channelId: CHANNEL_ID, authorId: USER_ID, content: 'new session' });
    await got;
  }, 25_000);
});

describe('threads and forums', () => {
  const FORUM_ID = '300000000000000009';
  let forumFake: DiscordFake;

  beforeAll(async () => {
    forumFake = await startDiscordFake({
      guilds: [
        {
          id: GUILD_ID,
          name: 'Forums',
          channels: [
            { id: CHANNEL_ID, name: 'general' },
            { id: FORUM_ID, name: 'help', type: ChannelType.GuildForum, availableTags: [{ name: 'question' }, { name: 'solved' }] },
          ],
        },
      ],
    });
  });

  afterAll(async () => {
    await forumFake.close();
  });

  it('shows a forum with its tags, a post as a thread of it, and messages in the post', async () => {
    const client = await loginClient(FULL_INTENTS, forumFake.api, forumFake.token);
    const forum = client.channels.cache.get(FORUM_ID);
    if (forum?.type !== ChannelType.GuildForum) throw new Error('expected a forum channel');
    expect(forum.availableTags.map((tag) => tag.name)).toEqual(['question', 'solved']);
    const [question] = forumFake.forumTags(FORUM_ID);

    const created = nextEvent(client, Events.ThreadCreate);
    const post = forumFake.createThread({ parentId: FORUM_ID, name: 'How do I log in?', appliedTags: [question!.id] });
    const [thread] = await created;
    expect(thread.id).toBe(post);
    expect(thread.parentId).toBe(FORUM_ID);
    expect(thread.appliedTags).toEqual([question!.id]);

    const got = nextEvent(client, Events.MessageCreate);
    forumFake.messageCreate({ id: post, channelId: post, authorId: USER_ID, content: 'I cannot log in' });
    const [message] = await got;
    expect(message.channel.isThread()).toBe(true);
    expect(message.id).toBe(post);
  });

  it('sets a post’s applied tags with PATCH /channels/:id, as Discord checks them', async () => {
    const rest = new REST({ api: forumFake.api }).setToken(forumFake.token);
    const [question, solved] = forumFake.forumTags(FORUM_ID);
    const post = forumFake.createThread({ parentId: FORUM_ID, name: 'tags', appliedTags: [question!.id] });
    await rest.patch(Routes.channel(post), { body: { applied_tags: [question!.id, solved!.id] } });
    expect(forumFake.appliedTags(post)).toEqual([question!.id, solved!.id]);
    await expect(rest.patch(Routes.channel(post), { body: { applied_tags: ['123'] } })).rejects.toMatchObject({ code: 50035 });
    const plain = forumFake.createThread({ parentId: CHANNEL_ID, name: 'plain thread' });
    await expect(rest.patch(Routes.channel(plain), { body: { applied_tags: [question!.id] } })).rejects.toMatchObject({ code: 50035 });
    expect(await rest.get(Routes.channel(post))).toMatchObject({ parent_id: FORUM_ID, applied_tags: [question!.id, solved!.id] });
  });
});

describe('buttons', () => {
  it('sends a click on a message’s button; deferUpdate, then editReply edits the clicked message', async () => {
    const client = await loginClient();
    const rest = restClient();
    const posted = await rest.post(Routes.channelMessages(CHANNEL_ID), {
      body: { content: 'an answer', components: [{ type: 1, components: [{ type: 2, style: 2, label: 'Again', custom_id: 'again:1' }] }] },
    });
    const messageId = idOf(posted);
    expect(() => fake.componentInteraction({ messageId, customId: 'missing', userId: USER_ID })).toThrow(/no button/);

    const got = nextEvent(client, Events.InteractionCreate);
    const { token } = fake.componentInteraction({ messageId, customId: 'again:1', userId: USER_ID });
    const [interaction] = await got;
    if (!interaction.isButton()) throw new Error('expected a button click');
    expect(interaction.customId).toBe('again:1');
    expect(interaction.message.id).toBe(messageId);
    expect(interaction.user.id).toBe(USER_ID);

    await interaction.deferUpdate();
    expect(fake.interactionResponses.get(token)).toMatchObject({ callbackType: 6, type: 3, originalMessageId: messageId });
    await interaction.editReply({ content: 'a new answer' });
    expect(fake.message(messageId)).toMatchObject({ content: 'a new answer', history: ['an answer', 'a new answer'] });
  });

  it('refuses a deferred update (type 6) to a slash command', async () => {
    const rest = restClient();
    const { id, token } = fake.interactionCreate({ name: 'ask', channelId: CHANNEL_ID, userId: USER_ID });
    await expect(rest.post(Routes.interactionCallback(id, token), { body: { type: 6 }, auth: false })).rejects.toMatchObject({ code: 50035 });
  });
});

describe('HTTP interactions', () => {
  it('POSTs interactions to the endpoint signed with its key, and takes the answer as the response', async () => {
    const { createPublicKey, verify } = await import('node:crypto');
    const { createServer } = await import('node:http');
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(fake.publicKey, 'hex')]), format: 'der', type: 'spki' });
    const seen: Array<{ valid: boolean; body: Record<string, unknown> }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signature = String(req.headers['x-signature-ed25519'] ?? '');
        const valid = verify(null, Buffer.concat([Buffer.from(String(req.headers['x-signature-timestamp'])), raw]), key, Buffer.from(signature, 'hex'));
        seen.push({ valid, body: JSON.parse(raw.toString()) as Record<string, unknown> });
        res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json' }).end(valid ? JSON.stringify({ type: 5 }) : '"bad"');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    fake.interactionsEndpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/interactions`;
    try {
      const client = await loginClient();
      let onGateway = 0;
      client.on(Events.InteractionCreate, () => (onGateway += 1));
      const sent = fake.interactionCreate({ name: 'ask', channelId: CHANNEL_ID, userId: USER_ID });
      expect(await sent.http).toEqual({ status: 200, body: { type: 5 } });
      expect(seen[0]).toMatchObject({ valid: true, body: { id: sent.id, type: 2, token: sent.token } });
      expect(fake.interactionResponses.get(sent.token)).toMatchObject({ callbackType: 5, via: 'http' });
      await restClient().patch(Routes.webhookMessage(BOT_ID, sent.token), { auth: false, body: { content: 'done' } });
      expect(fake.interactionResponses.get(sent.token)?.content).toBe('done');

      expect(await fake.signedPost('{"type":1}', { forge: true })).toEqual({ status: 401, body: 'bad' });
      expect(seen[1]?.valid).toBe(false);
      expect(onGateway).toBe(0);
    } finally {
      fake.interactionsEndpoint = undefined;
      server.close();
    }
  });
});

describe('429 storms on edits', () => {
  it('answers edits 429 a number of times; @discordjs/rest waits and the edit lands', async () => {
    const rest = restClient();
    const messageId = idOf(await rest.post(Routes.channelMessages(CHANNEL_ID), { body: { content: 'v1' } }));
    fake.rateLimitEdits(3, 0.05);
    await rest.patch(Routes.channelMessage(CHANNEL_ID, messageId), { body: { content: 'v2' } });
    expect(fake.message(messageId)?.content).toBe('v2');
    const edits = fake.requests.filter((request) => request.method === 'PATCH');
    expect(edits.map((request) => request.status)).toEqual([429, 429, 429, 200]);
  });
});
