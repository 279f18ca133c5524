/** Text classification (`POST /hf-inference/models/<org>/<model>`), answering `[[{label,score}]]`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRecord, readJson, sendJson } from '../http.ts';
import { loadingMessage, requireBearer, sendBadJson, sendStatus } from './responses.ts';
import type { ClassifyLabel, ClassifyRequestRecord, ClassifyStep } from './types.ts';

const NEGATIVE_WORDS = /\b(hate|hated|awful|angry|broken|terrible|worst|bad|useless|annoyed|annoying|furious|sucks?)\b/gi;
const POSITIVE_WORDS = /\b(love|loved|great|thanks|thank|awesome|excellent|amazing|perfect|nice|good|happy)\b/gi;

/** A crude stand-in for cardiffnlp/twitter-roberta-base-sentiment-latest, sorted by score desc. */
export function keywordSentiment(text: string): ClassifyLabel[] {
  const negative = text.match(NEGATIVE_WORDS)?.length ?? 0;
  const positive = text.match(POSITIVE_WORDS)?.length ?? 0;
  const raw = {
    negative: 0.05 + negative,
    neutral: negative === 0 && positive === 0 ? 0.9 : 0.3,
    positive: 0.05 + positive,
  };
  const total = raw.negative + raw.neutral + raw.positive;
  return Object.entries(raw)
    .map(([label, value]) => ({ label, score: Math.round((value / total) * 10_000) / 10_000 }))
    .sort((a, b) => b.score - a.score);
}

/** What a classification request reads from the fake's state. */
export interface ClassifyContext {
  record(request: ClassifyRequestRecord): void;
  /** The next queued step, consumed, if any. */
  nextStep(): ClassifyStep | undefined;
  defaultClassify(text: string, model: string): ClassifyLabel[];
}

export async function handleClassify(req: IncomingMessage, res: ServerResponse, model: string, context: ClassifyContext): Promise<void> {
  const body = await readJson(req);
  if (body === undefined) return sendBadJson(res);
  const inputs = isRecord(body) ? body.inputs : undefined;
  context.record({
    model,
    inputs,
    ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
  });
  if (!requireBearer(req.headers.authorization, res)) return;
  const texts = typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) ? inputs.map(String) : undefined;
  if (!texts) {
    return sendJson(res, 400, { error: 'Input should be a valid string' });
  }
  const step = context.nextStep();
  if (step?.kind === 'loading') {
    return sendJson(res, 503, { error: loadingMessage(model), estimated_time: step.estimatedTime ?? 20.0 });
  }
  if (step?.kind === 'status') return sendStatus(res, step);
  // One label list per input, always nested: a single string input gives [[...]].
  const result = texts.map((text) => (step?.kind === 'labels' ? step.labels : context.defaultClassify(text, model)));
  sendJson(res, 200, result);
}
