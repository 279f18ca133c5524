import { slackifyMarkdown } from 'slackify-markdown';
import { foldMentionLookAlikes } from '../../src/text/look-alikes.ts';

/** A Slack control sequence that can notify someone (`<!here>`, `<@U123|name>`), or one cut off before its `>`. */
const CONTROL_SEQUENCE = /<([!@])([^<>\n]*)(>?)/g;
const PLAIN_BROADCAST = /@(here|channel|everyone)\b/gi;
const BROADCASTS = new Set(['here', 'channel', 'everyone']);
const ZERO_WIDTH_SPACE = '\u200B';

/** `<!subteam^S1|@oncall>` → `@​oncall`; a name for what a special mention would have paged. */
function defuseControl(whole: string, sigil: string, inner: string, closed: string, askerId: string | undefined): string {
  // Cut off (no closing `>`): escaped, so it shows as typed and Slack never parses it as markup.
  if (!closed) return `&lt;${sigil}${inner}`;
  const bar = inner.indexOf('|');
  const head = (bar === -1 ? inner : inner.slice(0, bar)).trim();
  const label = bar === -1 ? '' : inner.slice(bar + 1).trim().replace(/^@/, '');
  if (sigil === '@') return head === askerId ? whole : `@${ZERO_WIDTH_SPACE}${label || head}`;
  const word = head.split('^')[0]?.toLowerCase() ?? '';
  if (BROADCASTS.has(word)) return `@${ZERO_WIDTH_SPACE}${word}`;
  if (word === 'subteam') return `@${ZERO_WIDTH_SPACE}${label || 'group'}`;
  // Any other special (`<!date^…>`, future ones): shown literally rather than trusted.
  return `&lt;!${inner}&gt;`;
}

function defuseAscii(text: string, askerId: string | undefined): string {
  return text
    .replace(CONTROL_SEQUENCE, (whole, sigil: string, inner: string, closed: string) => defuseControl(whole, sigil, inner, closed, askerId))
    .replace(PLAIN_BROADCAST, (_match, word: string) => `@${ZERO_WIDTH_SPACE}${word}`);
}

/**
 * Makes text unable to notify anyone but the person who asked: `<!here>`, `<!channel >`,
 * `<!everyone|x>`, user-group mentions and user mentions (`<@U…>`, `<@W…>`) other than the
 * asker's become plain words, and plain `@here` gets a zero-width space so no client or
 * `link_names` turns it into one. Look-alikes (`＠here`, `﹫channel`, `＜!here＞`) are folded
 * with NFKC first. Channel links (`<#C…>`) are kept: a link to a channel notifies nobody.
 */
export function neutralizeMentions(text: string, askerId?: string): string {
  return defuseAscii(foldMentionLookAlikes(text, (word) => defuseAscii(word, askerId)), askerId);
}

/**
 * One line of plain prose: it starts with a letter and holds only letters, digits, spaces, emoji
 * and punctuation that Markdown gives no meaning to there (no `*_~\`[]<>&#|\\/@`, nor `www.`).
 * Markdown turns such a paragraph into itself, so it needs no parser; most blocks of a chat answer
 * are such paragraphs, and the parser is the costliest step of an edit (it builds its syntax tables
 * again on every call). `test/unit/slack-format.test.ts` checks the two agree.
 */
const PLAIN_PROSE = /^\p{L}[\p{L}\p{M}\p{N}\p{Extended_Pictographic}\u200D .,;:?!'"()%$+=’‘“”–—…-]*$/u;

function isPlainProse(block: string): boolean {
  return PLAIN_PROSE.test(block) && !/www\./i.test(block);
}

/** Short texts that come back on every reply (the placeholder, notices): each is parsed once. */
const recurring = new Map<string, string>();
const RECURRING_MAX_CHARS = 160;
const RECURRING_MAX_ENTRIES = 256;

function slackifyParsed(markdown: string): string {
  if (markdown.length > RECURRING_MAX_CHARS) return slackifyMarkdown(markdown).trimEnd();
  let converted = recurring.get(markdown);
  if (converted === undefined) {
    converted = slackifyMarkdown(markdown).trimEnd();
    if (recurring.size >= RECURRING_MAX_ENTRIES) recurring.clear();
    recurring.set(markdown, converted);
  }
  return converted;
}

/** One block of `markdownBlocks` to Slack mrkdwn (before mentions are defused). */
function slackifyBlock(block: string): string {
  return isPlainProse(block) ? block.trimEnd() : slackifyParsed(block);
}

/** Model Markdown to Slack mrkdwn (before mentions are defused). */
function slackify(markdown: string): string {
  const blocks = markdownBlocks(markdown);
  if (blocks.every(isPlainProse)) return blocks.map((block) => block.trimEnd()).join('\n\n');
  return slackifyParsed(markdown);
}

/** Model Markdown to Slack mrkdwn, safe to post: only `askerId` may be mentioned. */
export function toSlackText(markdown: string, askerId?: string): string {
  return neutralizeMentions(slackify(markdown), askerId);
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
  readonly #askerId: string | undefined;

  /** `askerId`: the one user the text may mention (the person who asked). */
  constructor(askerId?: string) {
    this.#askerId = askerId;
  }

  convert(markdown: string, final: boolean): string {
    if (final) return toSlackText(markdown, this.#askerId);
    const converted = markdownBlocks(markdown).map((block) => {
      let text = this.#blocks.get(block);
      if (text === undefined) {
        text = neutralizeMentions(slackifyBlock(block), this.#askerId);
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
