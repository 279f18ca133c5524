import { describe, expect, it } from 'vitest';
import { formatCount } from '../../src/text/count.ts';

describe('formatCount', () => {
  it('groups digits as English does', () => {
    for (const count of [0, 7, 999, 1000, 4000, 40_000, 123_456, 1_000_000, 98_765_432_1]) {
      expect(formatCount(count)).toBe(count.toLocaleString('en'));
    }
  });
});
