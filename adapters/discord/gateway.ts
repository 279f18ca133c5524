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
import type { DiscordConfig } from '../../src/config.ts';
import { conversationKey, type NewChatJob } from '../../src/jobs/chat-job.ts';
import type { GatewayContext, RunningGateway } from '../../src/platform.ts';
import type { NoticeKind, Surface } from '../../src/surface.ts';
import { describeSentiment } from '../../src/sentiment/report.ts';
import { channelScope } from '../../src/sentiment/store.ts';
import { runModelCommand, runPromptCommand } from '../../src/channels/commands.ts';
import { ASK_COMMAND, MODEL_COMMAND, PROMPT_COMMAND, RESET_COMMAND, SENTIMENT_COMMAND } from './commands.ts';
import { DM_WORKSPACE, normalizeAskCommand, normalizeMessage, type InboundMessage } from './normalize.ts';

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
export async function startDiscordGateway(context: GatewayContext, discord: DiscordConfig, surface: Surface): Promise<RunningGateway> {
  const { intake, history, replies, sentiment, channelSettings, logger } = context;
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

  const onReset = async (interaction: ChatInputCommandInteraction) => {
    if (interaction.guildId) {
      await interaction.reply({
        content: 'In a server every reply chain is its own conversation: mention me to start a new one. /reset forgets our DM.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    await history.clear(conversationKey({ platform: 'discord', workspaceId: DM_WORKSPACE, channelId: interaction.channelId }));
    await interaction.reply({ content: 'Done: I’ve forgotten our conversation. The next message starts afresh.', flags: MessageFlags.Ephemeral });
  };

  const onSentiment = async (interaction: ChatInputCommandInteraction) => {
    const scope = interaction.guildId
      ? channelScope('discord', interaction.guildId, interaction.channelId)
      : conversationKey({ platform: 'discord', workspaceId: DM_WORKSPACE, channelId: interaction.channelId });
    const where = interaction.guildId ? 'this channel' : 'our conversation';
    const content = describeSentiment(where, await sentiment.read(scope), (label) => discord.sentimentEmoji[label]);
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  };

  const onSettings = async (interaction: ChatInputCommandInteraction, run: typeof runModelCommand) => {
    const content = await run({
      store: channelSettings,
      channel: { platform: 'discord', workspaceId: interaction.guildId ?? DM_WORKSPACE, channelId: interaction.channelId },
      argument: interaction.options.getString('value') ?? interaction.options.getString('text') ?? '',
      isAdmin: async () =>
        Boolean(context.config.channels.admins.get('discord')?.has(interaction.user.id) || interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)),
    });
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  };

  const onInteraction = async (interaction: Interaction) => {
    if (!interaction.isChatInputCommand()) return;
    if (interaction.commandName === MODEL_COMMAND) return onSettings(interaction, runModelCommand);
    if (interaction.commandName === PROMPT_COMMAND) return onSettings(interaction, runPromptCommand);
    if (interaction.commandName === ASK_COMMAND) await onAsk(interaction);
    else if (interaction.commandName === RESET_COMMAND) await onReset(interaction);
    else if (interaction.commandName === SENTIMENT_COMMAND) await onSentiment(interaction);
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
