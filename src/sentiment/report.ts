import type { SentimentLabel } from './labels.ts';
import type { SentimentSummary } from './store.ts';

/** Classifiers that are not a model by name (`hf:<model>` is shown as it is). */
const CLASSIFIER_NAMES: Record<string, string> = { lexicon: 'the built-in word list (lexicon), not a model' };
const TREND_WORDS = { improving: 'improving', worsening: 'getting worse', steady: 'steady' } as const;

/** `/sentiment`'s answer, in Markdown; `emoji` renders a label as the platform shows its tag. */
export function describeSentiment(
  where: string,
  summary: SentimentSummary | undefined,
  emoji: (label: SentimentLabel) => string,
): string {
  if (!summary) return `No messages have been classified in ${where} yet.`;
  const { label, score, trend, count, counts } = summary;
  return [
    `${emoji(label)} **${label}** in ${where}: score ${score.toFixed(2)} (−1…+1), ${TREND_WORDS[trend]}.`,
    `${count} message${count === 1 ? '' : 's'}: ${counts.positive} positive, ${counts.neutral} neutral, ${counts.negative} negative.`,
    summary.lastClassifier ? `Latest scored by ${CLASSIFIER_NAMES[summary.lastClassifier] ?? summary.lastClassifier}.` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
