import type { ConversationHistory } from '../conversation/history.ts';
import type { ChatJob } from '../jobs/chat-job.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { AnswerOutcome } from './stream-answer.ts';

export interface ChatResult {
  outcome: 'answered' | 'failed' | 'stopped';
  chars: number;
  edits: number;
  maxVisibleLagMs: number;
  /** An answer's steps (ms since the epoch), kept with the finished job: where its time went. */
  timings?: AnswerTimings;
}

/**
 * With the job's own stamps (the gateway's `receivedAt`, BullMQ's `timestamp` when it was queued
 * and `processedOn` when a worker took it), the path from a message to its first visible text.
 */
export interface AnswerTimings {
  /** The processor began this attempt (BullMQ started the job). */
  startedAt: number;
  modelRequestedAt: number;
  firstTokenAt: number | undefined;
  /** The first render carrying model text completed. */
  firstVisibleAt: number | undefined;
}

type Answer = Extract<AnswerOutcome, { done: true }>;

export interface RecordSinks {
  history: Pick<ConversationHistory, 'appendOnce'>;
  metrics: Pick<Metrics, 'answered'>;
  log: Logger;
}

/** Keeps the exchange in the conversation's history, once, and reports how the answer went. */
export async function recordAnswer(
  job: ChatJob,
  conversation: string,
  answer: Answer,
  progress: { apiCalls: number; startedAt: number },
  sinks: RecordSinks,
): Promise<ChatResult> {
  // Only the answer is history: never the reasoning, the status, or the files' contents.
  const attached = job.attachments.length > 0 ? `\n[attached: ${job.attachments.map((file) => file.name).join(', ')}]` : '';
  await sinks.history.appendOnce(conversation, job.id, [
    { role: 'user', content: job.text + attached },
    { role: 'assistant', content: answer.text },
  ], job.replaces);
  const { edits, firstVisibleAt, maxVisibleLagMs } = answer.pacer;
  sinks.metrics.answered({
    platform: job.platform,
    firstTextSeconds: firstVisibleAt === undefined ? undefined : (firstVisibleAt - job.receivedAt) / 1000,
    finalSeconds: (Date.now() - job.receivedAt) / 1000,
    timeToFirstTokenSeconds: answer.firstTokenAt === undefined ? undefined : (answer.firstTokenAt - answer.modelRequestedAt) / 1000,
    edits,
    apiCalls: progress.apiCalls,
  });
  const { usage } = answer;
  sinks.log.info(
    {
      chars: answer.text.length,
      reasoningChars: answer.reasoningChars,
      shownChars: answer.shown.length,
      ...(usage ? { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, reasoningTokens: usage.reasoningTokens } : {}),
      edits,
      latencyMs: Date.now() - job.receivedAt,
    },
    'answered',
  );
  const timings = { startedAt: progress.startedAt, modelRequestedAt: answer.modelRequestedAt, firstTokenAt: answer.firstTokenAt, firstVisibleAt };
  return { outcome: 'answered', chars: answer.text.length, edits, maxVisibleLagMs, timings };
}
