/** A run of non-space characters with at least one outside ASCII: where a look-alike can hide. */
const WORD_WITH_NON_ASCII = /\S*[^\x00-\x7F]\S*/gu;

/**
 * Folds look-alikes of the characters mentions are written with (fullwidth ＠ U+FF20, small ﹫
 * U+FE6B, fullwidth and small ＜ ＞ ！ ｜, fullwidth letters…) to ASCII with NFKC, so that
 * `neutralize` sees `＠here` as the `@here` a client or a server that folds would see.
 *
 * Only words that `neutralize` would change once folded are folded: NFKC applied to everything
 * would also rewrite text that is fine as it is (fullwidth punctuation in Chinese and Japanese,
 * ligatures, superscripts).
 */
export function foldMentionLookAlikes(text: string, neutralize: (text: string) => string): string {
  return text.replace(WORD_WITH_NON_ASCII, (word) => {
    const folded = word.normalize('NFKC');
    return folded !== word && neutralize(folded) !== folded ? folded : word;
  });
}
