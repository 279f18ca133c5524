import type { EffectiveSettings } from '../channels/settings.ts';
import type { Notice } from './policy.ts';

/** What the chat worker shows in a reply besides the answer itself. */
export const notices = {
  failed: '⚠️ Sorry, something went wrong talking to the model. Please try again.',
  empty: '_The model returned an empty answer._',
  thoughtOnly: '_The model used its whole answer on thinking and gave no answer. Try asking for something shorter._',
  /** What was written stays; the mark says why it ends there. */
  stopped: (partial: string) => `${partial.trim() ? `${partial.trimEnd()}\n\n` : ''}_⏹ Stopped._`,
};

/** Words a failure's notice; `partial` is the answer so far, kept above a "retrying" line. */
export function noticeText(notice: Notice, partial: string): string {
  switch (notice.kind) {
    case 'warming':
      return `⏳ _The model is warming up. Your answer will appear here in about ${notice.seconds} s._`;
    case 'busy':
      return `⏳ _The model is busy right now. Trying again in about ${notice.seconds} s._`;
    case 'retrying':
      return `${partial ? `${partial}\n\n` : ''}_The connection to the model dropped. Retrying…_`;
    case 'gave_up_warming':
      return `⚠️ The model did not finish warming up within ${notice.minutes} min. Please try again in a little while.`;
    case 'failed':
      return notices.failed;
    case 'fatal':
      return `⚠️ ${notice.message}`;
  }
}

/** The answer, then what the user should know about it: files left out, and a channel's own model. */
export function withFooter(answer: string, notes: readonly string[], settings: EffectiveSettings): string {
  const lines = [...notes, ...(settings.customModel ? [`Answered by \`${settings.model}\`.`] : [])];
  return lines.length === 0 ? answer : `${answer}\n\n${lines.map((line) => `_${line}_`).join('\n')}`;
}
