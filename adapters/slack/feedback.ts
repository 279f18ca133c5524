import type { ContextActionsBlock, KnownBlock, SectionBlock } from '@slack/web-api';
import { z } from 'zod';
import type { Rating } from '../../src/answers/feedback.ts';
import { splitMessage } from '../../src/text/split.ts';

/** The `action_id` of the 👍 / 👎 buttons under a finished answer. */
export const FEEDBACK_ACTION_ID = 'answer_feedback';
/** A section block's text limit. */
const SECTION_CHARS = 3_000;

/** Slack's own feedback buttons, under a final answer; each button's value names the rating and the answer. */
export function feedbackBlock(answerId: string): ContextActionsBlock {
  return {
    type: 'context_actions',
    block_id: 'feedback',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION_ID,
        positive_button: { text: { type: 'plain_text', text: 'Good answer' }, accessibility_label: 'Mark this answer as good', value: `up:${answerId}` },
        negative_button: { text: { type: 'plain_text', text: 'Bad answer' }, accessibility_label: 'Mark this answer as bad', value: `down:${answerId}` },
      },
    ],
  };
}

/**
 * A message's mrkdwn as blocks with the buttons under it: a message with blocks shows its blocks,
 * not its `text`, so the text goes into sections (each at most 3,000 chars).
 */
export function blocksWithFeedback(mrkdwn: string, answerId: string): KnownBlock[] {
  const sections = splitMessage(mrkdwn, SECTION_CHARS).map((text): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  return [...sections, feedbackBlock(answerId)];
}

const clickValue = z.string().regex(/^(up|down):[A-Za-z0-9_.-]+$/);

/** A button's value back into the rating and the answer it is about; undefined for anything else. */
export function parseFeedbackValue(value: unknown): { rating: Rating; answerId: string } | undefined {
  const parsed = clickValue.safeParse(value);
  if (!parsed.success) return undefined;
  const colon = parsed.data.indexOf(':');
  return { rating: parsed.data.slice(0, colon) as Rating, answerId: parsed.data.slice(colon + 1) };
}
