import { z } from 'zod';
import type { Role } from '../../src/config.ts';
import { optionalString, positiveInt, sentimentEmoji, url, type SentimentEmoji } from '../../src/env.ts';

const slashCommand = (fallback: string) =>
  z
    .string()
    .regex(/^\/[a-z0-9_-]{1,31}$/, 'must look like /name (lowercase letters, digits, - or _)')
    .default(fallback);

export interface SuggestedPrompt {
  title: string;
  message: string;
}

/** `Title|message` pairs separated by `;`: at most four, as Slack shows. */
const suggestedPrompts = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(';')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry) => {
          const bar = entry.indexOf('|');
          return bar === -1 ? { title: entry, message: entry } : { title: entry.slice(0, bar).trim(), message: entry.slice(bar + 1).trim() };
        }),
    )
    .refine((prompts) => prompts.length <= 4 && prompts.every((prompt) => prompt.title && prompt.message), 'at most four `Title|message` entries separated by ;');

/** Every variable the Slack adapter reads (public names: `.env.example` documents each). */
export const slackEnv = z.object({
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: url('https://slack.com/api/'),
  SLACK_EDIT_INTERVAL_MS: positiveInt(1000),
  SLACK_MAX_MESSAGE_CHARS: z.coerce.number().int().min(500).max(12_000).default(3900),
  SLACK_ASK_COMMAND: slashCommand('/ask'),
  SLACK_RESET_COMMAND: slashCommand('/reset'),
  SLACK_SENTIMENT_COMMAND: slashCommand('/sentiment'),
  SLACK_MODEL_COMMAND: slashCommand('/model'),
  SLACK_PROMPT_COMMAND: slashCommand('/prompt'),
  SLACK_SENTIMENT_EMOJI: sentimentEmoji('large_green_circle,white_circle,red_circle'),
  SLACK_STREAMING: z.enum(['native', 'update']).default('native'),
  SLACK_SUGGESTED_PROMPTS: suggestedPrompts(
    'Explain something|Explain how transformers work, in plain words.;Write code|Write a Python function that removes duplicates from a list, keeping the order.;Summarize|Summarize the text I paste next in three bullet points.',
  ),
});
export type SlackEnv = z.output<typeof slackEnv>;

export interface SlackSettings {
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  apiUrl: string;
  editIntervalMs: number;
  maxMessageChars: number;
  /** The slash command names as registered in the Slack app: `ask`, and each core command by its name. */
  commands: { ask: string } & Record<string, string>;
  sentimentEmoji: SentimentEmoji;
  /** Native streams (chat.startStream) where Slack allows them, or placeholder and chat.update edits everywhere. */
  streaming: 'native' | 'update';
  /** Shown when someone opens the bot in Slack's agent view (a channel file entry may set its own). */
  suggestedPrompts: SuggestedPrompt[];
}

/** Slack's checks across its variables; Slack is on when SLACK_BOT_TOKEN is set. */
export function slackSettings(e: SlackEnv, roles: ReadonlySet<Role>): { settings: SlackSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  if (e.SLACK_BOT_TOKEN && roles.has('gateway') && !e.SLACK_SIGNING_SECRET && !e.SLACK_APP_TOKEN) {
    problems.push('SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: one is required with SLACK_BOT_TOKEN (HTTP Events API or Socket Mode)');
  }
  if (!e.SLACK_BOT_TOKEN && (e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN)) {
    problems.push('SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
  }
  if (e.SLACK_APP_TOKEN && !e.SLACK_APP_TOKEN.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN: must be an app-level token starting with xapp-');
  }
  const settings = e.SLACK_BOT_TOKEN
    ? {
        botToken: e.SLACK_BOT_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        appToken: e.SLACK_APP_TOKEN,
        apiUrl: e.SLACK_API_URL,
        editIntervalMs: e.SLACK_EDIT_INTERVAL_MS,
        maxMessageChars: e.SLACK_MAX_MESSAGE_CHARS,
        commands: {
          ask: e.SLACK_ASK_COMMAND,
          reset: e.SLACK_RESET_COMMAND,
          sentiment: e.SLACK_SENTIMENT_COMMAND,
          model: e.SLACK_MODEL_COMMAND,
          prompt: e.SLACK_PROMPT_COMMAND,
        },
        sentimentEmoji: e.SLACK_SENTIMENT_EMOJI,
        streaming: e.SLACK_STREAMING,
        suggestedPrompts: e.SLACK_SUGGESTED_PROMPTS,
      }
    : undefined;
  return { settings, problems };
}

/** How a job's `reply.via` carries a slash command's response_url (private notices, when the bot cannot post). */
export const slackVia = z.object({ responseUrl: z.url().optional() });
export function responseUrlOf(via: Record<string, string> | undefined): string | undefined {
  const parsed = slackVia.safeParse(via ?? {});
  return parsed.success ? parsed.data.responseUrl : undefined;
}
