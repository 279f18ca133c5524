import { describe, expect, it } from 'vitest';
import { neutralizeMentions } from '../../adapters/discord/format.ts';

const ASKER = '111111111111111111';

/** Whether Discord, or a client that folds look-alikes, could read a mention into `text`. */
const couldPing = (text: string) => {
  const folded = text.normalize('NFKC').replaceAll(`<@${ASKER}>`, '').replaceAll(`<@!${ASKER}>`, '');
  return /<@[!&]?\d+>/.test(folded) || /@(everyone|here)\b/i.test(folded.replaceAll('@\u200B', ''));
};

describe('neutralizeMentions (Discord)', () => {
  it.each([
    ['@everyone', '@everyone look'],
    ['@here', 'hey @here'],
    ['fullwidth ＠everyone', '＠everyone'],
    ['small ﹫here', '﹫here'],
    ['fullwidth letters', '＠ｈｅｒｅ'],
    ['another user', '<@222222222222222222>'],
    ['another user, nickname form', '<@!222222222222222222>'],
    ['a role', '<@&333333333333333333>'],
    ['a look-alike user mention', '＜@222222222222222222＞'],
  ])('defuses %s', (_name, input) => {
    expect(couldPing(input)).toBe(true);
    const output = neutralizeMentions(input, ASKER);
    expect(couldPing(output), output).toBe(false);
  });

  it("keeps the asker's mention and channel links, and leaves other text alone", () => {
    const text = `<@${ASKER}> see <#444444444444444444>, mail a@b.c; 你好，世界！`;
    expect(neutralizeMentions(text, ASKER)).toBe(text);
    expect(neutralizeMentions(`<@!${ASKER}>`, ASKER)).toBe(`<@!${ASKER}>`);
  });

  it("never keeps a role, even one whose id is the asker's", () => {
    expect(neutralizeMentions(`<@&${ASKER}>`, ASKER)).toBe(`@\u200B&${ASKER}`);
  });
});
