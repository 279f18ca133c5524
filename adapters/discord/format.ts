import { foldMentionLookAlikes } from '../../src/text/look-alikes.ts';

/** Discord renders Markdown itself; a message holds at most 2,000 characters. */
export const DISCORD_MAX_MESSAGE_CHARS = 2000;

/** Every message the bot sends pings nobody: not @everyone, @here, roles, users, or the replied-to author. */
export const NO_PINGS = { parse: [], replied_user: false } as const;

const BROADCAST = /@(everyone|here)\b/gi;
/** `<@id>`, `<@!id>` (users) and `<@&id>` (roles; `<@&guild id>` is @everyone). */
const USER_OR_ROLE = /<@([!&]?)(\d+)>/g;
const ZERO_WIDTH_SPACE = '\u200B';

function defuseAscii(text: string, askerId: string | undefined): string {
  return text
    .replace(USER_OR_ROLE, (whole, kind: string, id: string) => (kind !== '&' && id === askerId ? whole : `@${ZERO_WIDTH_SPACE}${kind === '&' ? '&' : ''}${id}`))
    .replace(BROADCAST, (_match, word: string) => `@${ZERO_WIDTH_SPACE}${word}`);
}

/**
 * Defuses mentions in the text as well, though `allowed_mentions` (NO_PINGS) already stops every
 * ping: `@everyone` / `@here`, role mentions and user mentions other than the asker's become plain
 * text, look-alikes (`＠everyone`) folded with NFKC first. Why both: a mention left in the text
 * still renders as a highlighted pill that reads like a page, and any message sent without
 * `allowed_mentions` (a future code path, a proxy that drops the field) would ping for real.
 * Channel links (`<#id>`) are kept: they notify nobody.
 */
export function neutralizeMentions(text: string, askerId?: string): string {
  return defuseAscii(foldMentionLookAlikes(text, (word) => defuseAscii(word, askerId)), askerId);
}

/** A user's message as plain text for the model, without the bot's own mention. */
export function fromDiscordText(content: string, botUserId: string): string {
  return content.replaceAll(new RegExp(`<@!?${botUserId}>`, 'g'), '').trim();
}
