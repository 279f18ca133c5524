import { describe, expect, it } from 'vitest';
import { fromSlackText, neutralizeBroadcasts, StreamingSlackText, toSlackText } from '../../adapters/slack/format.ts';

describe('neutralizeBroadcasts', () => {
  it.each([
    ['<!channel>', /<!channel/],
    ['<!here|here>', /<!here/],
    ['<!everyone>', /<!everyone/],
    ['<!subteam^S123|@oncall>', /<!subteam/],
    ['hey @here look', /(^|\s)@here/],
    ['@everyone', /(^|\s)@everyone/],
    ['@Channel', /(^|\s)@channel/i],
  ])('defuses %s', (input, forbidden) => {
    const output = neutralizeBroadcasts(input);
    expect(output).not.toMatch(forbidden);
    expect(output.replaceAll('\u200B', '')).toMatch(/@(here|channel|everyone|oncall)/i);
  });

  it('leaves ordinary text and user mentions alone', () => {
    expect(neutralizeBroadcasts('mail me at a@b.c, <@U123> said hi')).toBe('mail me at a@b.c, <@U123> said hi');
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
