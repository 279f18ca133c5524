/** Discord renders Markdown itself; a message holds at most 2,000 characters. */
export const DISCORD_MAX_MESSAGE_CHARS = 2000;

/** Every message the bot sends pings nobody: not @everyone, @here, roles, users, or the replied-to author. */
export const NO_PINGS = { parse: [], replied_user: false } as const;

const BROADCAST = /@(everyone|here)\b/g;
const ZERO_WIDTH_SPACE = '\u200B';

/**
 * Defuses `@everyone` / `@here` in the text as well: `allowed_mentions` already stops the ping, and
 * this keeps the text from even rendering as a highlighted mention.
 */
export function neutralizeBroadcasts(text: string): string {
  return text.replace(BROADCAST, `@${ZERO_WIDTH_SPACE}$1`);
}

/** A user's message as plain text for the model, without the bot's own mention. */
export function fromDiscordText(content: string, botUserId: string): string {
  return content.replaceAll(new RegExp(`<@!?${botUserId}>`, 'g'), '').trim();
}
