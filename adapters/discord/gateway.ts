import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Partials,
  PermissionFlagsBits,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
} from 'discord.js';
import type { NewChatJob } from '../../src/jobs/chat-job.ts';
import type { GatewayContext, RunningGateway } from '../../src/platform.ts';
import type { NoticeKind, Surface } from '../../src/surface.ts';
import { ASK_COMMAND } from './commands.ts';
import { DM_WORKSPACE, normalizeAskCommand, normalizeMessage, type InboundMessage } from './normalize.ts';
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
    attachments: [...message.attachments.values()]
      .slice(0, 10)
      .map((file) => ({ name: file.name, mimeType: file.contentType ?? 'application/octet-stream', size: file.size, url: file.url })),
  };
}

/**
 * The Discord gateway: a discord.js client that turns mentions, DMs and slash commands into jobs.
 * Slash commands are deferred at once (Discord allows 3 s); the worker then streams the answer
 * into the deferred response over REST.
 */
export async function startDiscordGateway(context: GatewayContext, discord: DiscordSettings, surface: Surface): Promise<RunningGateway> {
  const { intake, replies, channelSettings, commands, logger } = context;
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

  const onAsk = async (interaction: ChatInputCommandInteraction) => {
    const job = normalizeAskCommand({
      id: interaction.id,
      token: interaction.token,
      channelId: interaction.channelId,
      guildId: interaction.guildId,
      user: { id: interaction.user.id, username: interaction.user.username },
      prompt: interaction.options.getString('prompt') ?? '',
    });
    if (!job) return;
    // Acknowledge first: the worker edits this deferred response, so it must exist before the job runs.
    await interaction.deferReply();
    try {
      await submit(job, (notice) => interaction.editReply({ content: notice.text, allowedMentions: { parse: [] } }));
    } catch (err) {
      // Never queued: the user must not be left watching "thinking…" for an answer that is not coming.
      await interaction.editReply({ content: 'I couldn’t take your question just now. Please ask again in a moment.', allowedMentions: { parse: [] } });
      throw err;
    }
  };

  /** One of the core's commands: its answer is an ephemeral reply. */
  const onCommand = async (interaction: ChatInputCommandInteraction) => {
    const command = commands.commands.find((candidate) => candidate.name === interaction.commandName);
    if (!command) return;
    const content = await commands.run(command.name, {
      platform: 'discord',
      workspaceId: interaction.guildId ?? DM_WORKSPACE,
      channelId: interaction.channelId,
      isDm: !interaction.guildId,
      userId: interaction.user.id,
      argument: (command.argument && interaction.options.getString(command.argument.name)) ?? '',
      isPlatformAdmin: async () => Boolean(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)),
      sentimentTag: (label) => discord.sentimentEmoji[label],
    });
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  };

  const onInteraction = async (interaction: Interaction) => {
    if (!interaction.isChatInputCommand()) return;
    if (interaction.commandName === ASK_COMMAND) await onAsk(interaction);
    else await onCommand(interaction);
  };

  const guard =
    <T>(what: string, handle: (value: T) => Promise<void>) =>
    (value: T) => {
      handle(value).catch((err: unknown) => logger.error({ err }, `discord ${what} handler failed`));
    };
  client.on(Events.MessageCreate, guard('message', onMessage));
  client.on(Events.InteractionCreate, guard('interaction', onInteraction));
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
