export const sentimentLabels = ['positive', 'neutral', 'negative'] as const;
export type SentimentLabel = (typeof sentimentLabels)[number];

/** Scores run from -1 (negative) to +1 (positive); inside ±NEUTRAL_BAND a score reads as neutral. */
export const NEUTRAL_BAND = 0.25;
/**
 * A thread's running label leaves positive or negative only once its score is back inside this
 * narrower band: hysteresis, so a thread hovering at the edge is not re-tagged with every message.
 */
export const RETURN_BAND = 0.15;

export function labelOf(score: number): SentimentLabel {
  if (score > NEUTRAL_BAND) return 'positive';
  if (score < -NEUTRAL_BAND) return 'negative';
  return 'neutral';
}

/** POSITIVE/NEGATIVE (SST-2), negative/neutral/positive in any case, and LABEL_0/1/2 (= neg/neu/pos). */
const LABEL_NAMES: Record<string, SentimentLabel> = {
  positive: 'positive',
  pos: 'positive',
  label_2: 'positive',
  neutral: 'neutral',
  neu: 'neutral',
  label_1: 'neutral',
  negative: 'negative',
  neg: 'negative',
  label_0: 'negative',
};

export function mapLabel(label: string): SentimentLabel | undefined {
  return LABEL_NAMES[label.trim().toLowerCase()];
}

/** A classifier's label probabilities → one score: P(positive) − P(negative). */
export function scoreFromLabels(labels: ReadonlyArray<{ label: string; score: number }>): number | undefined {
  let positive = 0;
  let negative = 0;
  let known = 0;
  for (const { label, score } of labels) {
    const mapped = mapLabel(label);
    if (!mapped) continue;
    known += 1;
    if (mapped === 'positive') positive += score;
    if (mapped === 'negative') negative += score;
  }
  return known === 0 ? undefined : Math.max(-1, Math.min(1, positive - negative));
}
