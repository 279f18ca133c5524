import { describe, expect, it } from 'vitest';
import { EditPacer } from '../../src/stream/pacer.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder(delayMs = 0) {
  const renders: Array<{ text: string; final: boolean; at: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const render = async (text: string, final: boolean) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(delayMs);
    renders.push({ text, final, at: Date.now() });
    inFlight -= 1;
  };
  return { renders, render, maxInFlight: () => maxInFlight };
}

describe('EditPacer', () => {
  it('shows the first text at once, then at most one edit per interval, ending with the full text', async () => {
    const { renders, render, maxInFlight } = recorder(5);
    const pacer = new EditPacer({ render, intervalMs: 100 });
    let text = '';
    for (let i = 0; i < 60; i += 1) {
      text += `t${i} `;
      pacer.push(text);
      await sleep(5);
    }
    await pacer.finish(text);
    expect(renders[0]?.text).toBe('t0 ');
    expect(renders.at(-1)).toMatchObject({ text, final: true });
    expect(maxInFlight()).toBe(1);
    // ~300 ms of tokens at one edit per 100 ms (+5 ms each to render): a handful of edits, not sixty.
    expect(renders.length).toBeLessThanOrEqual(5);
    // Spaced from one render's completion to the next one's, the final render included.
    for (let i = 1; i < renders.length; i += 1) {
      expect(renders[i]!.at - renders[i - 1]!.at).toBeGreaterThanOrEqual(100);
    }
    expect(pacer.stats.edits).toBe(renders.length);
  });

  it('skips a failed intermediate render and carries the text in the next one', async () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    let fail = true;
    const pacer = new EditPacer({
      intervalMs: 20,
      render: async (text) => {
        if (fail) {
          fail = false;
          throw new Error('platform hiccup');
        }
        seen.push(text);
      },
      onRenderError: (err) => errors.push(err),
    });
    pacer.push('a');
    await sleep(30);
    pacer.push('ab');
    await pacer.finish('abc');
    expect(errors).toHaveLength(1);
    expect(seen.at(-1)).toBe('abc');
  });

  it('does nothing after cancel', async () => {
    const { renders, render } = recorder();
    const pacer = new EditPacer({ render, intervalMs: 50 });
    pacer.push('one');
    await sleep(5);
    pacer.cancel();
    pacer.push('two');
    await sleep(80);
    expect(renders.map((r) => r.text)).toEqual(['one']);
  });

  it('rejects finish when the final render fails', async () => {
    const pacer = new EditPacer({ intervalMs: 10, render: async () => Promise.reject(new Error('gone')) });
    await expect(pacer.finish('x')).rejects.toThrow('gone');
  });
});
