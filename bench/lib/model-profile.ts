/**
 * What the fake model answers in the bench: a deterministic stream whose first token is the
 * question itself (a unique marker), so the fake platform can tell which reply every edit belongs
 * to and when its text is final.
 */
export interface ModelProfile {
  name: string;
  /** Time to first token. */
  ttftMs: number;
  /** Delay between tokens (1000 / tokens per second); 0 for an instant model. */
  tokenDelayMs: number;
  /** Tokens in each answer. */
  tokens: number;
}

/** The answer's tokens for a question: the question first, then filler words. */
export function answerTokens(question: string, profile: ModelProfile): string[] {
  const filler = Array.from({ length: Math.max(0, profile.tokens - 1) }, (_, i) => `${FILLER[i % FILLER.length]} `);
  return [`${question} `, ...filler];
}

/** The text the platform shows once the answer is complete (Slack formatting trims the end). */
export function finalText(question: string, profile: ModelProfile): string {
  return answerTokens(question, profile).join('').trimEnd();
}

const FILLER = ['the', 'queue', 'streams', 'tokens', 'into', 'paced', 'edits', 'while', 'workers', 'share', 'redis'];
