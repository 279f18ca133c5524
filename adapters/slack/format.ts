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

/** Splits Markdown at blank lines outside fenced code: blocks that convert on their own. */
function markdownBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (!fence || marker.startsWith(fence))) fence = fence ? undefined : marker;
    if (!fence && line.trim() === '' && current.length > 0) {
      blocks.push(current.join('\n'));
      current = [];
    } else if (fence || line.trim() !== '') current.push(line);
  }
  if (current.length > 0) blocks.push(current.join('\n'));
  return blocks;
}

/**
 * Converts a streaming answer for its intermediate edits: block by block, remembering blocks
 * already converted, so each edit parses only what changed (the growing last paragraph) instead of
 * the whole answer again. The final text is converted whole, so anything that spans blocks (a
 * loose list, a reference link) comes out exactly right in the end.
 */
export class StreamingSlackText {
  readonly #blocks = new Map<string, string>();

  convert(markdown: string, final: boolean): string {
    if (final) return toSlackText(markdown);
    const converted = markdownBlocks(markdown).map((block) => {
      let text = this.#blocks.get(block);
      if (text === undefined) {
        text = toSlackText(block);
        this.#blocks.set(block, text);
      }
      return text;
    });
    // Only the newest blocks can still change: forget the rest of what was cached.
    if (this.#blocks.size > converted.length + 8) this.#blocks.clear();
    return converted.join('\n\n');
  }
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
