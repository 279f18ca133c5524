import { slackifyMarkdown } from 'slackify-markdown';

/** Broadcast mentions in Slack's markup (`<!here>`, `<!channel|channel>`, user groups) and as plain text. */
const SPECIAL_MENTION = /<!(here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/gi;
const PLAIN_BROADCAST = /@(here|channel|everyone)\b/gi;
const ZERO_WIDTH_SPACE = '\u200B';

/**
 * Makes text unable to ping a channel, a workspace or a user group: markup mentions become plain
 * words and plain `@here` gets a zero-width space so no client or `link_names` turns it into one.
 */
export function neutralizeBroadcasts(text: string): string {
  return text
    .replace(SPECIAL_MENTION, (_match, word: string | undefined, label: string | undefined) =>
      `@${ZERO_WIDTH_SPACE}${(word ?? label ?? 'group').replace(/^@/, '')}`,
    )
    .replace(PLAIN_BROADCAST, (_match, word: string) => `@${ZERO_WIDTH_SPACE}${word}`);
}

/** Model Markdown to Slack mrkdwn, safe to post. */
export function toSlackText(markdown: string): string {
  return neutralizeBroadcasts(slackifyMarkdown(markdown).trimEnd());
}

/** A user's Slack-formatted message as plain text for the model, without the bot's own mention. */
export function fromSlackText(text: string, botUserId: string | undefined): string {
  const withoutBot = botUserId ? text.replaceAll(new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g'), '') : text;
  return withoutBot
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
    .trim();
}
