import { z } from 'zod';
import { optionalString, positiveInt, sentimentEmoji, type SentimentEmoji } from '../../src/env.ts';

/** Every variable the Discord adapter reads (public names: `.env.example` documents each). */
export const discordEnv = z.object({
  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString,
  DISCORD_API_URL: z.url().optional(),
  DISCORD_EDIT_INTERVAL_MS: positiveInt(1000),
  DISCORD_SENTIMENT_EMOJI: sentimentEmoji('🟢,⚪,🔴'),
  /** The application's public key (hex): turns on `POST /discord/interactions` (HTTP interactions). */
  DISCORD_PUBLIC_KEY: z
    .string()
    .trim()
    .regex(/^([0-9a-fA-F]{64})?$/, 'must be the 64 hex digits of the application public key')
    .optional()
    .transform((value) => value || undefined),
  /** Forum tag names for positive, neutral, negative: a forum post's tags show its sentiment. */
  DISCORD_FORUM_TAGS: z
    .string()
    .default('positive,neutral,negative')
    .transform((value) => value.split(',').map((item) => item.trim()))
    .refine((items) => items.length === 3 && items.every(Boolean), 'must be three comma-separated tag names: positive,neutral,negative')
    .transform(([positive = '', neutral = '', negative = '']) => ({ positive, neutral, negative })),
});
export type DiscordEnv = z.output<typeof discordEnv>;

export interface DiscordSettings {
  token: string;
  applicationId: string;
  /** REST base (`https://discord.com/api` when unset); the gateway URL is discovered through it. */
  apiUrl: string | undefined;
  editIntervalMs: number;
  sentimentEmoji: SentimentEmoji;
  /** Ed25519 public key (hex); HTTP interactions are on when set. */
  publicKey: string | undefined;
  /** Forum tag names per label (compared case-insensitively). */
  forumTags: SentimentEmoji;
}

/** Discord is on when DISCORD_TOKEN or DISCORD_APPLICATION_ID is set, and needs both. */
export function discordSettings(e: DiscordEnv): { settings: DiscordSettings | undefined; problems: string[]; on: boolean } {
  const problems: string[] = [];
  if (Boolean(e.DISCORD_TOKEN) !== Boolean(e.DISCORD_APPLICATION_ID)) {
    problems.push('DISCORD_TOKEN and DISCORD_APPLICATION_ID: set both or neither');
  }
  const settings =
    e.DISCORD_TOKEN && e.DISCORD_APPLICATION_ID
      ? {
          token: e.DISCORD_TOKEN,
          applicationId: e.DISCORD_APPLICATION_ID,
          apiUrl: e.DISCORD_API_URL,
          editIntervalMs: e.DISCORD_EDIT_INTERVAL_MS,
          sentimentEmoji: e.DISCORD_SENTIMENT_EMOJI,
          publicKey: e.DISCORD_PUBLIC_KEY,
          forumTags: e.DISCORD_FORUM_TAGS,
        }
      : undefined;
  return { settings, problems, on: Boolean(e.DISCORD_TOKEN) };
}

/** How a job's `reply.via` carries an interaction's token, which lets any process edit its response. */
const discordVia = z.object({ interactionToken: z.string().min(1).optional() });
export function interactionTokenOf(via: Record<string, string> | undefined): string | undefined {
  const parsed = discordVia.safeParse(via ?? {});
  return parsed.success ? parsed.data.interactionToken : undefined;
}
