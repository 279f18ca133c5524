import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../src/text/split.ts';

const words = (count: number) => Array.from({ length: count }, (_, i) => `word${i}`).join(' ');

describe('splitMessage', () => {
  it('keeps short text in one chunk', () => {
    expect(splitMessage('hello there', 100)).toEqual(['hello there']);
  });

  it('never exceeds the limit and never cuts inside a word', () => {
    const text = words(2000);
    const chunks = splitMessage(text, 500);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(500);
      expect(chunk).toMatch(/^word\d+.*word\d+$/s);
    }
    expect(chunks.join(' ')).toBe(text);
  });

  it('prefers paragraph boundaries', () => {
    const paragraph = 'x'.repeat(300);
    const chunks = splitMessage(`${paragraph}\n\n${paragraph}\n\n${paragraph}`, 700);
    expect(chunks).toEqual([`${paragraph}\n\n${paragraph}`, paragraph]);
  });

  it('closes a fenced code block at a cut and reopens it with its language', () => {
    const code = Array.from({ length: 80 }, (_, i) => `const value${i} = ${i};`).join('\n');
    const chunks = splitMessage(`Here:\n\n\`\`\`ts\n${code}\n\`\`\`\nDone.`, 600);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(600);
      const fences = chunk.split('\n').filter((line) => line.startsWith('```'));
      expect(fences.length % 2).toBe(0);
    }
    expect(chunks[1]?.startsWith('```ts\n')).toBe(true);
    expect(chunks.at(-1)).toMatch(/Done\.$/);
  });

  it('is stable in the prefix: appending text only changes the last chunk', () => {
    const text = words(1500);
    const before = splitMessage(text.slice(0, 5000), 800);
    const after = splitMessage(text, 800);
    expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
  });

  it('cuts an unbroken run without splitting a surrogate pair', () => {
    const chunks = splitMessage('😀'.repeat(400), 101);
    for (const chunk of chunks) expect(chunk).not.toMatch(/[\uD800-\uDBFF]$/);
    expect(chunks.join('')).toBe('😀'.repeat(400));
  });
});
