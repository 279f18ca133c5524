import type { REST } from '@discordjs/rest';
import { Routes, type GatewayDispatchPayload } from 'discord-api-types/v10';
import { Client, Events, GatewayIntentBits, Partials, type Message } from 'discord.js';
import type { NewChatJob } from '../../src/jobs/chat-job.ts';
import type { GatewayContext, RunningGateway } from '../../src/platform.ts';
import type { NoticeKind, Surface } from '../../src/surface.ts';
import { mountHttpInteractions } from './http-interactions.ts';
import { InteractionHandler } from './interactions.ts';
import { normalizeMessage, type InboundMessage } from './normalize.ts';
import type { DiscordSettings } from './settings.ts';

/**
 * Guild messages and DMs, and their content. MessageContent is privileged: without it a server
 * message's text arrives empty unless it mentions the bot, so replies to the bot's answers (which
 * need not mention it) would go unread.
 */
const INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.DirectMessages,
];

function inboundView(message: Message, botUserId: string, chainRootId: string | undefined): InboundMessage {
  return {
    chainRootId: chainRootId ?? null,
    id: message.id,
    channelId: message.channelId,
    guildId: message.guildId,
    author: { id: message.author.id, username: message.author.username, bot: message.author.bot },
    content: message.content,
    system: message.system,
    webhookId: message.webhookId,
    mentionsBot: message.mentions.users.has(botUserId) && message.content.includes(botUserId),
    referenceId: message.reference?.messageId ?? null,
    repliesToBot: message.mentions.repliedUser?.id === botUserId,
    inThread: message.channel.isThread(),
    attachments: [...message.attachments.values()]
      .slice(0, 10)
      .map((file) => ({ name: file.name, mimeType: file.contentType ?? 'application/octet-stream', size: file.size, url: file.url })),
  };
}

/**
 * The Discord gateway: a discord.js client that turns mentions, DMs and threads into jobs, and
 * interactions (slash commands, the buttons on answers) into work through the one handler that
 * HTTP interactions use too (mounted when DISCORD_PUBLIC_KEY is set). Interactions are answered
 * at once (Discord allows 3 s); the worker then streams an answer into a deferred response over REST.
 */
export async function startDiscordGateway(context: GatewayContext, discord: DiscordSettings, surface: Surface, rest: REST): Promise<RunningGateway> {
  const { intake, replies, channelSettings, logger } = context;
  const interactions = new InteractionHandler(context, discord, rest);
  if (discord.publicKey) mountHttpInteractions(context.http, discord.publicKey, interactions, logger);
  const client = new Client({
    intents: INTENTS,
    partials: [Partials.Channel],
    allowedMentions: { parse: [], repliedUser: false },
    ...(discord.apiUrl ? { rest: { api: discord.apiUrl } } : {}),
  });

  const submit = async (job: NewChatJob, onRejected: (notice: { kind: NoticeKind; text: string }) => Promise<unknown>) => {
    const verdict = await intake.submit(job);
    logger.debug({ jobId: job.id, status: verdict.status }, 'discord event taken in');
    if (verdict.status === 'rejected' && verdict.notice) await onRejected(verdict.notice);
  };

  const onMessage = async (message: Message) => {
    const botUserId = client.user?.id;
    if (!botUserId) return;
    const referenceId = message.reference?.messageId;
    const chainRootId = referenceId ? await replies.threadOf('discord', referenceId) : undefined;
    const view = inboundView(message, botUserId, chainRootId);
    let job = normalizeMessage(view, botUserId);
    // In the threads of a channel that asks for it, every message is for the bot.
    if (!job && message.guildId && message.channel.isThread() && message.channel.parentId) {
      const settings = await channelSettings.resolve({ platform: 'discord', workspaceId: message.guildId, channelId: message.channel.parentId });
      if (settings.answerWithoutMention) job = normalizeMessage({ ...view, mentionsBot: true }, botUserId);
    }
    if (!job) return;
    await submit(job, (notice) =>
      surface.notice({ workspaceId: job.workspaceId, channelId: job.channelId, userId: job.userId, threadId: message.id }, notice.kind, notice.text),
    );
  };

  /** An interaction from the gateway: answered through its callback, then followed up. */
  const onInteraction = async (payload: unknown) => {
    const reply = await interactions.handle(payload);
    if (!reply) return;
    await rest.post(Routes.interactionCallback(reply.id, reply.token), { auth: false, body: reply.response });
    await reply.after?.();
  };

  const guard =
    <T>(what: string, handle: (value: T) => Promise<void>) =>
    (value: T) => {
      handle(value).catch((err: unknown) => logger.error({ err }, `discord ${what} handler failed`));
    };
  client.on(Events.MessageCreate, guard('message', onMessage));
  // Read raw, so the gateway and HTTP interactions share one parser and one handler.
  client.on(
    Events.Raw,
    guard('interaction', async (packet: GatewayDispatchPayload) => {
      if (packet.t === 'INTERACTION_CREATE') await onInteraction(packet.d);
    }),
  );
  client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
  client.on(Events.ShardResume, (shard, replayed) => logger.info({ shard, replayed }, 'discord gateway resumed'));

  let connected = false;
  client.on(Events.ShardReady, () => (connected = true));
  client.on(Events.ShardResume, () => (connected = true));
  client.on(Events.ShardDisconnect, () => (connected = false));
  client.on(Events.ShardReconnecting, () => (connected = false));

  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(discord.token);
  await ready;
  connected = true;
  logger.info({ botUserId: client.user?.id, guilds: client.guilds.cache.size }, 'discord gateway started');
  return {
    ready: () => connected,
    stop: async () => {
      connected = false;
      await client.destroy();
    },
  };
}
