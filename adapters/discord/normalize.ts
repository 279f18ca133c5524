import { z } from 'zod';
import { attachmentSchema } from '../../src/attachments/attachment.ts';
import { CHAT_JOB_VERSION, type NewChatJob } from '../../src/jobs/chat-job.ts';
import { fromDiscordText } from './format.ts';

const snowflake = z.string().regex(/^\d{1,20}$/);

/** The parts of a gateway message the bot reads, checked before anything else looks at them. */
const inboundMessage = z.object({
  id: snowflake,
  channelId: snowflake,
  guildId: snowflake.nullable(),
  author: z.object({ id: snowflake, username: z.string(), bot: z.boolean() }),
  content: z.string(),
  system: z.boolean(),
  webhookId: snowflake.nullable(),
  /** The bot is mentioned by `<@id>` (not merely as the author of a message replied to). */
  mentionsBot: z.boolean(),
  /** The id of the message this one replies to, if any. */
  referenceId: snowflake.nullable(),
  /** The conversation the replied-to message belongs to, when it is one of the bot's answers. */
  chainRootId: snowflake.nullable(),
  /** The replied-to message was the bot's. */
  repliesToBot: z.boolean(),
  /** Written in a thread (a thread channel, or a forum post): the thread is the conversation. */
  inThread: z.boolean().default(false),
  attachments: z.array(attachmentSchema).max(10).default([]),
});
export type InboundMessage = z.input<typeof inboundMessage>;

const inboundCommand = z.object({
  id: snowflake,
  token: z.string().min(1),
  channelId: snowflake,
  guildId: snowflake.nullable(),
  user: z.object({ id: snowflake, username: z.string() }),
  prompt: z.string(),
});
export type InboundCommand = z.input<typeof inboundCommand>;

/** DMs have no guild; their conversations live under this workspace id. */
export const DM_WORKSPACE = '@me';

/**
 * A gateway message → a job, or undefined to ignore it. In a server the bot answers a mention,
 * or a reply to one of its answers, as a reply to that message; the reply chain is the
 * conversation, and in a thread (a forum post too) the thread is, read back from the channel. In
 * a DM it answers everything, and the DM is the conversation.
 */
export function normalizeMessage(raw: InboundMessage, botUserId: string): NewChatJob | undefined {
  const parsed = inboundMessage.safeParse(raw);
  if (!parsed.success) return undefined;
  const message = parsed.data;
  if (message.author.bot || message.author.id === botUserId || message.system || message.webhookId) return undefined;
  const base = {
    v: CHAT_JOB_VERSION,
    id: `discord-msg-${message.id}`,
    platform: 'discord',
    channelId: message.channelId,
    userId: message.author.id,
    userName: message.author.username,
    messageId: message.id,
    text: fromDiscordText(message.content, botUserId),
    receivedAt: Date.now(),
    attachments: message.attachments,
  } as const;

  if (message.guildId === null) {
    return { ...base, kind: 'dm', workspaceId: DM_WORKSPACE, reply: { channelId: message.channelId } };
  }
  if (!message.mentionsBot && !message.repliesToBot) return undefined;
  if (message.inThread) {
    return {
      ...base,
      kind: 'mention',
      workspaceId: message.guildId,
      threadId: message.channelId,
      reply: { channelId: message.channelId, threadId: message.id },
      fetchThreadContext: true,
    };
  }
  return {
    ...base,
    kind: 'mention',
    workspaceId: message.guildId,
    // A reply chain is one conversation, named by its first message: one order, one history, one tag.
    threadId: message.chainRootId ?? message.referenceId ?? message.id,
    reply: { channelId: message.channelId, threadId: message.id },
    // A reply continues a chain: read it back as context.
    fetchThreadContext: message.referenceId !== null,
  };
}

/** `/ask prompt:` → a job answered in the interaction's own response, over REST alone. */
export function normalizeAskCommand(raw: InboundCommand): NewChatJob | undefined {
  const parsed = inboundCommand.safeParse(raw);
  if (!parsed.success) return undefined;
  const command = parsed.data;
  return {
    v: CHAT_JOB_VERSION,
    id: `discord-int-${command.id}`,
    platform: 'discord',
    kind: 'command',
    workspaceId: command.guildId ?? DM_WORKSPACE,
    channelId: command.channelId,
    // In a DM, /ask continues the DM's conversation; in a server each /ask starts its own.
    threadId: command.guildId === null ? undefined : command.id,
    userId: command.user.id,
    userName: command.user.username,
    text: command.prompt.trim(),
    receivedAt: Date.now(),
    reply: { channelId: command.channelId, via: { interactionToken: command.token } },
  };
}
