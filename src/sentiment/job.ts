import { z } from 'zod';

export const SENTIMENT_JOB_VERSION = 1;

/** One user message to classify and fold into its conversation's sentiment. */
export const sentimentJobSchema = z.object({
  v: z.literal(SENTIMENT_JOB_VERSION),
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  platform: z.string().min(1),
  workspaceId: z.string().min(1),
  channelId: z.string().min(1),
  /** The conversation (see conversationKey): the thread whose sentiment this message moves. */
  conversation: z.string().min(1),
  /** The message that carries the thread's tag (a thread's root, a reply chain's first message); none for DMs. */
  tagMessageId: z.string().min(1).optional(),
  messageId: z.string().min(1),
  userId: z.string().min(1),
  text: z.string(),
  /** Kept once classified, so a retry (a failed tag call) does not classify again. */
  result: z.object({ score: z.number().min(-1).max(1), classifier: z.string() }).optional(),
  /** Time spent delayed by the model's cold starts and rate limits. */
  waitedMs: z.number().nonnegative().default(0),
});
export type SentimentJob = z.infer<typeof sentimentJobSchema>;
export type NewSentimentJob = z.input<typeof sentimentJobSchema>;
