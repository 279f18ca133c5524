import { describe, expect, it } from 'vitest';
import { classifyWithLexicon } from '../../src/sentiment/classifier.ts';
import { labelOf, mapLabel, scoreFromLabels } from '../../src/sentiment/labels.ts';
import { describeSentiment } from '../../src/sentiment/report.ts';
import type { SentimentSummary } from '../../src/sentiment/store.ts';

describe('sentiment labels', () => {
  it.each([
    ['POSITIVE', 'positive'],
    ['Negative', 'negative'],
    ['neutral', 'neutral'],
    ['LABEL_0', 'negative'],
    ['label_1', 'neutral'],
    ['LABEL_2', 'positive'],
  ])('maps %s to %s', (label, expected) => {
    expect(mapLabel(label)).toBe(expected);
  });

  it('scores P(positive) − P(negative) for three- and two-class models', () => {
    expect(scoreFromLabels([{ label: 'negative', score: 0.7 }, { label: 'neutral', score: 0.2 }, { label: 'positive', score: 0.1 }])).toBeCloseTo(-0.6);
    expect(scoreFromLabels([{ label: 'POSITIVE', score: 0.9998 }, { label: 'NEGATIVE', score: 0.0002 }])).toBeCloseTo(0.9996);
    expect(scoreFromLabels([{ label: 'LABEL_1', score: 0.8 }, { label: 'LABEL_2', score: 0.15 }, { label: 'LABEL_0', score: 0.05 }])).toBeCloseTo(0.1);
    expect(scoreFromLabels([{ label: 'joy', score: 1 }])).toBeUndefined();
  });

  it('reads a score into a label with a neutral band', () => {
    expect([labelOf(0.8), labelOf(0.1), labelOf(-0.1), labelOf(-0.5)]).toEqual(['positive', 'neutral', 'neutral', 'negative']);
  });
});

describe('lexicon fallback', () => {
  it('scores plain words and says it was the lexicon', () => {
    expect(labelOf(classifyWithLexicon('This is awful, I hate it, nothing works').score)).toBe('negative');
    expect(labelOf(classifyWithLexicon('Thanks, that is great!').score)).toBe('positive');
    expect(labelOf(classifyWithLexicon('What time is the deploy?').score)).toBe('neutral');
    expect(classifyWithLexicon('ok').classifier).toBe('lexicon');
  });
});

describe('describeSentiment', () => {
  it('reports label, score, trend and counts, or that nothing was classified', () => {
    const text = describeSentiment(
      'this channel',
      {
        label: 'negative',
        score: -0.62,
        trend: 'worsening',
        count: 4,
        counts: { positive: 1, neutral: 0, negative: 3 },
        lastClassifier: 'hf:m',
        records: [],
        updatedAt: 0,
      },
      (label) => `[${label}]`,
    );
    expect(text).toContain('[negative] **negative** in this channel: score -0.62');
    expect(text).toContain('getting worse');
    expect(text).toContain('4 messages: 1 positive, 0 neutral, 3 negative');
    expect(text).toContain('hf:m');
    expect(describeSentiment('here', undefined, String)).toMatch(/No messages/);
  });

  it('says when the built-in word list, not a model, scored the latest message', () => {
    const summary: SentimentSummary = { label: 'neutral', score: 0, trend: 'steady', count: 1, counts: { positive: 0, neutral: 1, negative: 0 }, lastClassifier: undefined, records: [], updatedAt: 0 };
    expect(describeSentiment('here', { ...summary, lastClassifier: 'lexicon' }, String)).toContain('Latest scored by the built-in word list (lexicon), not a model.');
    expect(describeSentiment('here', { ...summary, lastClassifier: 'hf:org/model' }, String)).toContain('Latest scored by hf:org/model.');
  });
});
