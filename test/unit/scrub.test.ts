import { describe, expect, it } from 'vitest';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { TOKEN_PATTERNS } from '../../src/logger.ts';
import { secretScrubber } from '../../src/text/scrub.ts';

describe('secretScrubber', () => {
  // The core's token shapes and a platform's, as the service combines them for everything it posts.
  const scrub = secretScrubber(['s3cret-value.x', 'short'], [...TOKEN_PATTERNS, ...(slackAdapter.logRedaction.patterns ?? [])]);

  it('removes configured secrets literally, regex characters and all', () => {
    expect(scrub('the password is s3cret-value.x, twice: s3cret-value.x')).toBe('the password is [REDACTED], twice: [REDACTED]');
    expect(scrub('s3cret-valueXx is not it')).toBe('s3cret-valueXx is not it');
  });

  it('leaves secrets too short to tell from words alone', () => {
    expect(scrub('a short answer')).toBe('a short answer');
  });

  it('removes token-shaped strings nobody configured', () => {
    expect(scrub('Authorization: Bearer hf_AbCdEfGh12345678 and xoxb-1-2-abc')).toBe('Authorization: Bearer [REDACTED] and [REDACTED]');
  });

  it('makes a pattern global even when it was given without the flag', () => {
    const once = secretScrubber([], [/tok_[a-z]+/]);
    expect(once('tok_one tok_two')).toBe('[REDACTED] [REDACTED]');
  });
});
