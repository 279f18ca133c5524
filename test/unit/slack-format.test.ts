import { slackifyMarkdown } from 'slackify-markdown';
import { describe, expect, it } from 'vitest';
import { fromSlackText, neutralizeMentions, StreamingSlackText, toSlackText } from '../../adapters/slack/format.ts';

/** A small seeded generator, so a failing case is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Prose-like Markdown: words in several scripts, digits, emoji and punctuation, now and then a
 * character that does mean something to Markdown (so a prose check that let it through would show
 * here as a difference), one to three paragraphs, spaces where models leave them.
 */
function proseLikeMarkdown(next: () => number): string {
  const words = ['Hello', 'world', 'café', 'naïve', 'Ünïcödé', '東京', 'Привет', '2024', '1.', '42)', 'e.g.', 'www.x.io', 'x@y.co', '🙂', '👍🏽', '👨‍👩‍👧'];
  const punctuation = [',', '.', ';', ':', '?', '!', "'", '"', '(', ')', '%', '$', '+', '=', '’', '“', '”', '–', '—', '…', '-', '  '];
  const markdown = ['*', '_', '~', '`', '[', ']', '<', '>', '&', '#', '|', '\\', '/', '@', '&amp;', '**', '\n', '\n- ', '\n1. ', '\n===', '    ', '\t'];
  const pick = (list: string[]) => list[Math.floor(next() * list.length)]!;
  const paragraphs: string[] = [];
  for (let p = 0; p < 1 + Math.floor(next() * 3); p++) {
    let text = next() < 0.1 ? pick([' ', '- ', '1. ', '# ', '> ']) : '';
    for (let w = 0; w < 1 + Math.floor(next() * 12); w++) {
      const roll = next();
      text += roll < 0.05 ? pick(markdown) : roll < 0.35 ? pick(punctuation) : '';
      text += pick(words) + (next() < 0.8 ? ' ' : '');
    }
    paragraphs.push(text);
  }
  return paragraphs.join(next() < 0.8 ? '\n\n' : '\n \n\n');
}

describe('neutralizeMentions', () => {
  it.each([
    ['<!channel>', /<!channel/],
    ['<!here|here>', /<!here/],
    ['<!everyone>', /<!everyone/],
    ['<!subteam^S123|@oncall>', /<!subteam/],
    ['hey @here look', /(^|\s)@here/],
    ['@everyone', /(^|\s)@everyone/],
    ['@Channel', /(^|\s)@channel/i],
  ])('defuses %s', (input, forbidden) => {
    const output = neutralizeMentions(input);
    expect(output).not.toMatch(forbidden);
    expect(output.replaceAll('\u200B', '')).toMatch(/@(here|channel|everyone|oncall)/i);
  });

  it("leaves ordinary text, channel links and the asker's own mention alone", () => {
    const text = 'mail me at a@b.c, <@U123> said hi in <#C42|general>; 你好，世界！ＡＢＣ ﬁne';
    expect(neutralizeMentions(text, 'U123')).toBe(text);
  });

  /** Whether Slack, or a client that folds look-alikes, could read a notification into `text`. */
  const couldPing = (text: string, askerId?: string) => {
    const folded = text.normalize('NFKC').replaceAll(`<@${askerId}>`, '');
    return /<[!@]/.test(folded) || /(^|[^\u200B])@(here|channel|everyone)\b/i.test(folded.replaceAll('@\u200B', ''));
  };

  it.each([
    ['fullwidth ＠here', 'ping ＠here now', 'here'],
    ['small ﹫channel', '﹫channel: deploy', 'channel'],
    ['fullwidth letters too', '＠ｅｖｅｒｙｏｎｅ', 'everyone'],
    ['fullwidth markup', '＜！here＞', 'here'],
    ['a space before >', '<!channel >', 'channel'],
    ['a space after !', '<! everyone>', 'everyone'],
    ['a label', '<!here|x>', 'here'],
    ['upper case', '<!HERE>', 'here'],
    ['another user', '<@U999> look', 'U999'],
    ['an enterprise user with a label', '<@W999|bob>', 'bob'],
    ['a look-alike user mention', '＜@U999＞', 'U999'],
    ['a user group without a label', '<!subteam^S123>', 'group'],
    ['markup cut off', 'see <@U999', 'U999'],
    ['special markup cut off', 'see <!here', 'here'],
  ])('defuses %s', (_name, input, word) => {
    expect(couldPing(input, 'U123')).toBe(true);
    for (const output of [neutralizeMentions(input, 'U123'), toSlackText(input, 'U123')]) {
      expect(couldPing(output, 'U123'), output).toBe(false);
      expect(output.replaceAll('\u200B', '')).toContain(word);
    }
  });

  it("keeps only the asker's user mention", () => {
    expect(neutralizeMentions('<@U123> and <@U999>', 'U123')).toBe('<@U123> and @\u200BU999');
    expect(neutralizeMentions('<@U123>')).toBe('@\u200BU123');
  });

  it('shows other special markup literally', () => {
    expect(neutralizeMentions('<!date^1392734382^{date}|Feb 18>')).toBe('&lt;!date^1392734382^{date}|Feb 18&gt;');
  });
});

describe('toSlackText', () => {
  it('turns Markdown into mrkdwn', () => {
    const text = toSlackText('**bold** and [a link](https://example.com)\n\n# Title');
    expect(text).toContain('*bold*');
    expect(text).toContain('<https://example.com|a link>');
    expect(text).not.toContain('**');
  });

  it('never lets model output ping', () => {
    expect(toSlackText('Attention <!here> and @channel!')).not.toMatch(/<!here>|(^|\s)@channel/);
  });

  it('converts plain prose without the parser exactly as the parser would', () => {
    const next = random(17);
    for (let i = 0; i < 3_000; i++) {
      const markdown = proseLikeMarkdown(next);
      expect(toSlackText(markdown), JSON.stringify(markdown)).toBe(neutralizeMentions(slackifyMarkdown(markdown).trimEnd()));
    }
  });
});

describe('fromSlackText', () => {
  it('drops the bot mention and unescapes Slack markup', () => {
    expect(fromSlackText('<@UBOT> what is 1 &lt; 2 &amp;&amp; <https://x.dev|x>?', 'UBOT')).toBe('what is 1 < 2 && x (https://x.dev)?');
  });
});

describe('StreamingSlackText', () => {
  const answer = [
    '# Steps',
    'First **check** the [logs](https://example.com/logs).',
    '- one\n- two',
    '```sh\nkubectl get pods\n\nkubectl describe pod x\n```',
    'Then _retry_ @here.',
  ].join('\n\n');

  it('converts each growing prefix like the whole-text conversion, block by block', () => {
    const text = new StreamingSlackText();
    for (let end = 10; end <= answer.length; end += 7) {
      const prefix = answer.slice(0, end);
      // Block-wise and whole-text conversion agree for self-contained blocks; the final is exact.
      expect(text.convert(prefix, false).replace(/\s+/g, ' ')).toBe(toSlackText(prefix).replace(/\s+/g, ' '));
    }
    expect(text.convert(answer, true)).toBe(toSlackText(answer));
  });

  it('keeps a fenced block with blank lines in one piece', () => {
    const converted = new StreamingSlackText().convert(answer, false);
    expect(converted).toContain('```\nkubectl get pods\n\nkubectl describe pod x\n```');
    expect(converted).not.toMatch(/(^|\s)@here/);
  });
});
