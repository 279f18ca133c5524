/**
 * The soak's scripted Hugging Face: what the fake router answers in each phase of the run.
 *
 * - normal: the answer (`Echo: <question>`) streamed token by token;
 * - loading: 503 "currently loading" with an estimate, for every request;
 * - rate_limited: 429 with Retry-After, for every request;
 * - stream_errors: each question's first request in the phase breaks inside the stream (an error
 *   frame, or the connection dropped after some tokens); its retry streams normally. Every
 *   question can therefore still be answered within the retry budget, so any loss is the service's.
 */
import type { ChatRequestRecord, ChatStep, HfFake } from '../../fakes/hf/server.ts';

export type HfPhase = 'normal' | 'loading' | 'rate_limited' | 'stream_errors';

export interface SoakModelTiming {
  ttftMs: number;
  tokenDelayMs: number;
}

export interface SoakModel {
  phase: HfPhase;
  /** Requests answered with each kind of failure so far. */
  readonly injected: Record<Exclude<HfPhase, 'normal'>, number>;
}

export function expectedAnswer(question: string): string {
  return `Echo: ${question}`;
}

/** A question with this word gets an answer that tries to ping: look-alike, spaced and markup mentions. */
export const PING_MARKER = 'pingcheck';
export const PING_ATTEMPTS = ' ＠here ﹫channel <!channel > <!everyone> <@U0BYSTANDER> @here';

function lastUserText(request: ChatRequestRecord): string {
  const last = request.messages.findLast((message) => message.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

export function scriptModel(hf: HfFake, timing: SoakModelTiming): SoakModel {
  const broken = new Set<string>();
  const model: SoakModel = { phase: 'normal', injected: { loading: 0, rate_limited: 0, stream_errors: 0 } };
  const answer = (question: string): ChatStep => ({
    kind: 'stream',
    text: `${expectedAnswer(question)}${question.includes(PING_MARKER) ? PING_ATTEMPTS : ''}`,
    firstTokenDelayMs: timing.ttftMs,
    tokenDelayMs: timing.tokenDelayMs,
  });

  hf.setDefaultChat((request) => {
    const question = lastUserText(request);
    switch (model.phase) {
      case 'normal':
        return answer(question);
      case 'loading':
        model.injected.loading += 1;
        return { kind: 'loading', shape: 'legacy', estimatedTime: 2 };
      case 'rate_limited':
        model.injected.rate_limited += 1;
        return { kind: 'status', status: 429, body: { error: 'Rate limit reached' }, headers: { 'Retry-After': '1' } };
      case 'stream_errors': {
        if (broken.has(question)) return answer(question);
        broken.add(question);
        model.injected.stream_errors += 1;
        const partial = expectedAnswer(question).split(' ').slice(0, 3).map((word) => `${word} `);
        return model.injected.stream_errors % 2 === 0
          ? { kind: 'midStreamError', tokens: partial, tokenDelayMs: timing.tokenDelayMs }
          : { kind: 'abort', tokens: partial, tokenDelayMs: timing.tokenDelayMs };
      }
    }
  });
  return model;
}
