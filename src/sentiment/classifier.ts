import { createRequire } from 'node:module';
import type Sentiment from 'sentiment';
import { z } from 'zod';
import { ClassifiedError } from '../errors/index.ts';
import { classifyHfStatus, parseHfErrorBody } from '../llm/hf-errors.ts';
import { scoreFromLabels } from './labels.ts';

export interface Classification {
  score: number;
  /** Which classifier produced the score: `hf:<model>` or `lexicon`. */
  classifier: string;
}

/** Classification answers `[[{label, score}, …]]` (one list per input) or, from some servers, a flat list. */
const labelList = z.array(z.object({ label: z.string(), score: z.number() }));
const classificationBody = z.union([z.array(labelList).min(1).transform((lists) => lists[0] ?? []), labelList]);

/** Inputs past this are cut: sentiment is clear long before, and models cap at 512 tokens. */
const MAX_INPUT_CHARS = 1500;

export interface HfClassifierOptions {
  inferenceUrl: string;
  model: string;
  token: string;
  timeoutMs: number;
}

/**
 * Hugging Face text classification at `<HF_INFERENCE_URL>/models/<model>`. Errors are classified
 * like chat errors (503 loading, 429, transient, fatal) so the sentiment worker can treat them alike.
 */
export function createHfClassifier(options: HfClassifierOptions): (text: string) => Promise<Classification> {
  const url = `${options.inferenceUrl.replace(/\/+$/, '')}/models/${options.model}`;
  return async (text) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: text.slice(0, MAX_INPUT_CHARS) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw new ClassifiedError({ kind: 'transient', detail: `classification request failed: ${(err as Error).message}` }, { cause: err });
    }
    const body = await response.text();
    if (!response.ok) {
      throw new ClassifiedError(classifyHfStatus(response.status, parseHfErrorBody(body, response.headers), response.headers), {
        status: response.status,
      });
    }
    const parsed = classificationBody.safeParse(parseJson(body));
    const score = parsed.success ? scoreFromLabels(parsed.data) : undefined;
    if (score === undefined) {
      throw new ClassifiedError({
        kind: 'fatal',
        userMessage: 'The sentiment model answered with labels it does not know.',
        detail: `unexpected classification body: ${body.slice(0, 200)}`,
      });
    }
    return { score, classifier: `hf:${options.model}` };
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let lexicon: Sentiment | undefined;

/**
 * The local fallback: AFINN-165 word scores (the `sentiment` package), squashed into -1…+1. Used
 * without an HF token, and when the model stays down past its retry budget. Its word list (~2.5 MB
 * in memory) is loaded the first time it is needed.
 */
export function classifyWithLexicon(text: string): Classification {
  lexicon ??= new (createRequire(import.meta.url)('sentiment') as typeof Sentiment)();
  return { score: Math.tanh(lexicon.analyze(text).score / 3), classifier: 'lexicon' };
}
