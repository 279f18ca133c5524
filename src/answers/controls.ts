import type { ConversationOrder } from '../conversation/order.ts';
import type { StopRequests } from '../control/stop-requests.ts';
import type { AnswerRecord, AnswerRecords } from './answer-records.ts';
import type { FeedbackOutcome, FeedbackStore, Rating } from './feedback.ts';

/**
 * What a person can do to an answer from a platform's buttons, whichever process streams it: stop
 * it (by the conversation it answers, or by its job), and rate it. Adapters parse the click and
 * say who may; the core carries it out.
 */
export class AnswerControls {
  readonly #stops: StopRequests;
  readonly #order: Pick<ConversationOrder, 'current'>;
  readonly #answers: Pick<AnswerRecords, 'get'>;
  readonly #feedback: Pick<FeedbackStore, 'record'>;

  constructor(deps: { stops: StopRequests; order: Pick<ConversationOrder, 'current'>; answers: Pick<AnswerRecords, 'get'>; feedback: Pick<FeedbackStore, 'record'> }) {
    this.#stops = deps.stops;
    this.#order = deps.order;
    this.#answers = deps.answers;
    this.#feedback = deps.feedback;
  }

  /** Stops the answer the conversation is getting (or is about to, delayed by a cold start); the job's id, or none. */
  async stopConversation(conversation: string): Promise<string | undefined> {
    const jobId = await this.#order.current(conversation);
    if (jobId) await this.#stops.request(jobId);
    return jobId;
  }

  /** Stops one answer by its job's id (running, waiting or delayed). */
  stopAnswer(jobId: string): Promise<void> {
    return this.#stops.request(jobId);
  }

  rate(vote: { answerId: string; userId: string; rating: Rating }): Promise<FeedbackOutcome> {
    return this.#feedback.record(vote);
  }

  /** A finished answer (who asked, which model, where), or undefined once it has expired. */
  answer(jobId: string): Promise<AnswerRecord | undefined> {
    return this.#answers.get(jobId);
  }
}
