import { z } from 'zod';
import { CHAT_JOB_VERSION, conversationKey, type NewChatJob } from '../../src/jobs/chat-job.ts';
import type { Attachment } from '../../src/attachments/attachment.ts';
import { SENTIMENT_JOB_VERSION, type NewSentimentJob } from '../../src/sentiment/job.ts';
import { fromSlackText } from './format.ts';

/** The conversations whose `message.*` events the bot reads: DMs, and channel threads for sentiment. */
export const DM_CHANNEL_TYPES = ['im'] as const;
export const THREAD_CHANNEL_TYPES = ['channel', 'group'] as const;

/** Message subtypes that are a person saying something; edits, deletes, joins and the like are not. */
const SPOKEN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/** Files on a message (`file_share`); anything odd about one drops the file, not the message. */
const slackFiles = z
  .array(z.object({ name: z.string().optional(), title: z.string().optional(), mimetype: z.string().optional(), size: z.number().optional(), url_private_download: z.url().optional(), url_private: z.url().optional() }))
  .optional()
  .transform((files) =>
    (files ?? []).flatMap((file): Attachment[] => {
      const url = file.url_private_download ?? file.url_private;
      return url ? [{ name: file.name ?? file.title ?? 'file', mimeType: file.mimetype ?? 'application/octet-stream', size: file.size ?? 0, url }] : [];
    }),
  );

const mentionEvent = z.object({
  type: z.literal('app_mention'),
  user: z.string().min(1),
  text: z.string(),
  ts: z.string().min(1),
  channel: z.string().min(1),
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
  files: slackFiles,
});

const directMessageEvent = z.object({
  type: z.literal('message'),
  channel_type: z.enum(DM_CHANNEL_TYPES),
  user: z.string().min(1),
  text: z.string().default(''),
  ts: z.string().min(1),
  channel: z.string().min(1),
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
  files: slackFiles,
});

const channelThreadMessage = z.object({
  type: z.literal('message'),
  channel_type: z.enum(THREAD_CHANNEL_TYPES),
  user: z.string().min(1),
  text: z.string(),
  ts: z.string().min(1),
  channel: z.string().min(1),
  thread_ts: z.string().min(1),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
});

const slashCommand = z.object({
  command: z.string(),
  text: z.string().default(''),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().min(1),
  team_id: z.string().min(1),
  trigger_id: z.string().min(1),
  response_url: z.url().optional(),
});
export type SlashCommandPayload = z.infer<typeof slashCommand>;

export interface SlackEventEnvelope {
  teamId: string;
  eventId: string;
  botUserId: string | undefined;
}

/** Files read per message; the worker notes any it leaves out. */
const MAX_ATTACHMENTS = 10;

/** Job ids are BullMQ ids: no ':' allowed. */
const jobId = (...parts: string[]) => ['slack', ...parts].join('-').replace(/[^A-Za-z0-9_.-]/g, '_');

/** An `app_mention` → a job answered in the mentioned message's thread, or undefined to ignore it. */
export function normalizeMention(event: unknown, envelope: SlackEventEnvelope): NewChatJob | undefined {
  const parsed = mentionEvent.safeParse(event);
  if (!parsed.success) return undefined;
  const mention = parsed.data;
  if (mention.bot_id || !SPOKEN_SUBTYPES.has(mention.subtype)) return undefined;
  const thread = mention.thread_ts ?? mention.ts;
  return {
    v: CHAT_JOB_VERSION,
    id: jobId('ev', envelope.eventId),
    platform: 'slack',
    kind: 'mention',
    workspaceId: envelope.teamId,
    channelId: mention.channel,
    threadId: thread,
    userId: mention.user,
    messageId: mention.ts,
    text: fromSlackText(mention.text, envelope.botUserId),
    receivedAt: Date.now(),
    reply: { channelId: mention.channel, threadId: thread },
    // Mentioned late in a thread of people talking: read what was said before.
    fetchThreadContext: mention.thread_ts !== undefined,
    attachments: mention.files.slice(0, MAX_ATTACHMENTS),
  };
}

/** A message in a DM with the bot → a job answered in the DM, or undefined to ignore it. */
export function normalizeDirectMessage(event: unknown, envelope: SlackEventEnvelope): NewChatJob | undefined {
  const parsed = directMessageEvent.safeParse(event);
  if (!parsed.success) return undefined;
  const message = parsed.data;
  if (message.bot_id || message.user === envelope.botUserId || !SPOKEN_SUBTYPES.has(message.subtype)) return undefined;
  return {
    v: CHAT_JOB_VERSION,
    id: jobId('ev', envelope.eventId),
    platform: 'slack',
    kind: 'dm',
    workspaceId: envelope.teamId,
    channelId: message.channel,
    threadId: message.thread_ts,
    userId: message.user,
    messageId: message.ts,
    text: fromSlackText(message.text, envelope.botUserId),
    receivedAt: Date.now(),
    reply: { channelId: message.channel, threadId: message.thread_ts },
    attachments: message.files.slice(0, MAX_ATTACHMENTS),
  };
}

/**
 * A person's message in a channel thread, not addressed to the bot → a sentiment observation of
 * that thread (taken only if the bot is part of the thread). A message that mentions the bot also
 * arrives as `app_mention` and is classified from there.
 */
export function normalizeThreadMessage(event: unknown, envelope: SlackEventEnvelope): NewSentimentJob | undefined {
  const parsed = channelThreadMessage.safeParse(event);
  if (!parsed.success) return undefined;
  const message = parsed.data;
  if (message.bot_id || message.user === envelope.botUserId || !SPOKEN_SUBTYPES.has(message.subtype)) return undefined;
  if (envelope.botUserId && message.text.includes(`<@${envelope.botUserId}`)) return undefined;
  return {
    v: SENTIMENT_JOB_VERSION,
    id: jobId('sentiment', 'ev', envelope.eventId),
    platform: 'slack',
    workspaceId: envelope.teamId,
    channelId: message.channel,
    conversation: conversationKey({ platform: 'slack', workspaceId: envelope.teamId, channelId: message.channel, threadId: message.thread_ts }),
    tagMessageId: message.thread_ts,
    messageId: message.ts,
    userId: message.user,
    text: fromSlackText(message.text, envelope.botUserId),
  };
}

export function parseSlashCommand(payload: unknown): SlashCommandPayload | undefined {
  const parsed = slashCommand.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}

/** `/ask question` → a job whose answer is a new message in the channel (its own thread from then on). */
export function normalizeAskCommand(command: SlashCommandPayload): NewChatJob {
  return {
    v: CHAT_JOB_VERSION,
    id: jobId('cmd', command.trigger_id),
    platform: 'slack',
    kind: 'command',
    workspaceId: command.team_id,
    channelId: command.channel_id,
    // In a DM, /ask continues the DM's conversation; in a channel each /ask starts its own.
    threadId: command.channel_id.startsWith('D') ? undefined : command.trigger_id,
    userId: command.user_id,
    userName: command.user_name,
    text: fromSlackText(command.text, undefined),
    receivedAt: Date.now(),
    reply: { channelId: command.channel_id, ...(command.response_url ? { via: { responseUrl: command.response_url } } : {}) },
  };
}
