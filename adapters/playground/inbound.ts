import { z } from 'zod';
import { CHAT_JOB_VERSION, conversationKey, type NewChatJob } from '../../src/jobs/chat-job.ts';
import { SENTIMENT_JOB_VERSION, type NewSentimentJob } from '../../src/sentiment/job.ts';
import { PLAYGROUND_CHANNELS, type PlaygroundMessage } from './store.ts';
import { formatCount } from '../../src/text/count.ts';

/** The playground has one local person and one workspace. */
export const PLAYGROUND_USER = { id: 'local-user', name: 'you' } as const;
export const PLAYGROUND_WORKSPACE = 'local';
/** Typing this in #general calls the bot, as a mention does on Slack or Discord. */
const MENTION = /@bot\b/i;
const MENTIONS = /@bot\b/gi;

/**
 * The most the composer may send at all, as Slack, which cuts a message's text at 40,000 characters.
 * Only a guard for the HTTP API: how much the bot takes is MAX_INPUT_CHARS, which the intake checks
 * and answers politely, as on every platform.
 */
export const MAX_COMPOSER_CHARS = 40_000;

/** What the page's composer sends; each message is shown to the person as it is. */
export const composerInput = z.object({
  channel: z.enum(PLAYGROUND_CHANNELS, 'Unknown channel: reload the page.'),
  threadId: z.string().regex(/^m\d+$/, 'Unknown thread: reload the page.').optional(),
  text: z
    .string()
    .trim()
    .min(1, 'Type a message first.')
    .max(MAX_COMPOSER_CHARS, `Not sent: a message can be at most ${formatCount(MAX_COMPOSER_CHARS)} characters.`),
});
export type ComposerInput = z.infer<typeof composerInput>;

/** The page's Stop button: the bot message whose answer should stop. */
export const stopInput = z.object({ messageId: z.string().regex(/^m\d+$/) });

export interface SlashCommand {
  /** Lowercased, without the slash. */
  name: string;
  argument: string;
}

/** `/name argument` typed in the composer; the gateway knows which names exist. */
export function parseSlashCommand(text: string): SlashCommand | undefined {
  const match = /^\/([a-z]+)\s*([\s\S]*)$/i.exec(text);
  if (!match) return undefined;
  return { name: (match[1] ?? '').toLowerCase(), argument: (match[2] ?? '').trim() };
}

export function mentionsBot(text: string): boolean {
  return MENTION.test(text);
}

/** A stored message of the person → a job when it is addressed to the bot (a mention, or any DM). */
export function chatJobFor(message: PlaygroundMessage): NewChatJob | undefined {
  const base = {
    v: CHAT_JOB_VERSION,
    id: `playground-${message.id}`,
    platform: 'playground',
    workspaceId: PLAYGROUND_WORKSPACE,
    channelId: message.channel,
    userId: PLAYGROUND_USER.id,
    userName: PLAYGROUND_USER.name,
    messageId: message.id,
    text: message.text.replace(MENTIONS, '').trim(),
    receivedAt: Date.now(),
  } as const;
  if (message.channel === 'dm') return { ...base, kind: 'dm', reply: { channelId: 'dm' } };
  if (!mentionsBot(message.text)) return undefined;
  const thread = message.threadId ?? message.id;
  return { ...base, kind: 'mention', threadId: thread, reply: { channelId: message.channel, threadId: thread }, fetchThreadContext: message.threadId !== undefined };
}

/** `/ask question` → a job answered as a new message in the channel, its own conversation. */
export function askJobFor(channel: ComposerInput['channel'], question: string, requestId: string): NewChatJob {
  return {
    v: CHAT_JOB_VERSION,
    id: `playground-ask-${requestId}`,
    platform: 'playground',
    kind: 'command',
    workspaceId: PLAYGROUND_WORKSPACE,
    channelId: channel,
    threadId: channel === 'dm' ? undefined : `ask-${requestId}`,
    userId: PLAYGROUND_USER.id,
    userName: PLAYGROUND_USER.name,
    text: question,
    receivedAt: Date.now(),
    reply: { channelId: channel },
  };
}

/** A message in a thread, not addressed to the bot: scored if the bot is part of the thread. */
export function sentimentObservationFor(message: PlaygroundMessage): NewSentimentJob | undefined {
  if (!message.threadId || message.channel !== 'general') return undefined;
  return {
    v: SENTIMENT_JOB_VERSION,
    id: `sentiment-playground-${message.id}`,
    platform: 'playground',
    workspaceId: PLAYGROUND_WORKSPACE,
    channelId: message.channel,
    conversation: conversationKey({ platform: 'playground', workspaceId: PLAYGROUND_WORKSPACE, channelId: message.channel, threadId: message.threadId }),
    tagMessageId: message.threadId,
    messageId: message.id,
    userId: PLAYGROUND_USER.id,
    text: message.text,
  };
}
