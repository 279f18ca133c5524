/**
 * How a model's reasoning shows in a reply (REASONING_DISPLAY), and how it is kept out of the
 * conversation the model sees next.
 *
 * Shown reasoning always comes after the whole answer: the answer is split into messages exactly
 * as it would be alone, and the reasoning only adds text at the end (see composeReply).
 */
import type { ChatTurn } from './hf-chat.ts';

export const REASONING_DISPLAYS = ['hidden', 'summary', 'full'] as const;
export type ReasoningDisplay = (typeof REASONING_DISPLAYS)[number];

/** Characters of reasoning a summary quotes. */
export const SUMMARY_CHARS = 300;
/** Quoted lines are wrapped to this length, so a long reply splits between lines, never inside one. */
const QUOTE_LINE_CHARS = 200;

const LABELS = { summary: '_Model reasoning (excerpt):_', full: '_Model reasoning:_' } as const;

/** The live status while the model thinks and has not started the answer. */
export function thinkingStatus(elapsedMs: number): string {
  return `_Thinking… ${Math.floor(elapsedMs / 1000)} s_`;
}

/** Cuts `text` to at most `max` characters at a word boundary, marking the cut with `…`. */
function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Breaks a long line at a sentence end, else a space, so that no piece passes `max`. */
function wrapLine(line: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    const sentence = Math.max(window.lastIndexOf('. '), window.lastIndexOf('? '), window.lastIndexOf('! '));
    const space = window.lastIndexOf(' ');
    const at = sentence > max / 2 ? sentence + 1 : space > 0 ? space : max;
    pieces.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  pieces.push(rest);
  return pieces;
}

/**
 * A Markdown blockquote with no blank line in it: blank lines become `>`, so the only paragraph
 * break (the splitter's preferred cut) in the appendix is the one before it.
 */
function blockquote(text: string): string {
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line.trimEnd(), QUOTE_LINE_CHARS))
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
}

/** A code fence the answer leaves open (a truncated answer) would swallow the appendix: close it. */
function closeOpenFence(answer: string): string {
  const fences = answer.split('\n').filter((line) => /^ {0,3}(```|~~~)/.test(line)).length;
  return fences % 2 === 1 ? `${answer}\n\`\`\`` : answer;
}

/** The reasoning as it is appended after the answer, or '' when it is not shown. */
export function reasoningAppendix(reasoning: string, display: ReasoningDisplay): string {
  const text = reasoning.trim();
  if (text && display === 'summary') return `${LABELS.summary}\n${blockquote(excerpt(text.replace(/\s+/g, ' '), SUMMARY_CHARS))}`;
  if (text && display === 'full') return `${LABELS.full}\n${blockquote(text.replace(/\n{2,}/g, '\n\n'))}`;
  // 'hidden', and anything unexpected: reasoning stays out of the channel.
  return '';
}

/**
 * The final reply: the answer, then (when shown) the reasoning after a paragraph break. The answer
 * text is not changed, so splitting it into messages finds the same cuts as without reasoning
 * (the splitter is prefix-stable); the reasoning only adds trailing text and messages.
 */
export function composeReply(answer: string, reasoning: string, display: ReasoningDisplay): string {
  const appendix = reasoningAppendix(reasoning, display);
  if (!appendix) return answer;
  return `${closeOpenFence(answer.trimEnd())}\n\n${appendix}`;
}

const LABEL_LINE = /^[_*]*Model reasoning(?: \(excerpt\))?:[_*]*$/;
const isLabelLine = (line: string) => LABEL_LINE.test(line.replaceAll('\u200B', '').trim());
const isQuoteOnly = (content: string) =>
  content.split('\n').every((line) => !line.trim() || /^\s*(>|&gt;)/.test(line));

/**
 * Removes shown reasoning from the bot's earlier replies when the conversation is read back from
 * the platform (threads, reply chains): the model must never get its reasoning back as history.
 * A reply's appendix starts at its label; messages after it that hold only quote lines are the
 * appendix continued.
 */
export function stripReasoningAppendix(turns: ChatTurn[]): ChatTurn[] {
  const kept: ChatTurn[] = [];
  let inAppendix = false;
  for (const turn of turns) {
    if (turn.role !== 'assistant') {
      inAppendix = false;
      kept.push(turn);
      continue;
    }
    if (inAppendix && isQuoteOnly(turn.content)) continue;
    const lines = turn.content.split('\n');
    const label = lines.findIndex(isLabelLine);
    inAppendix = label >= 0;
    const content = label >= 0 ? lines.slice(0, label).join('\n').trimEnd() : turn.content;
    if (content.trim()) kept.push({ ...turn, content });
  }
  return kept;
}
