const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const CLOSING_RESERVE = 5; // "\n```" plus room for a longer fence

/** The fence that is still open at the end of `text`, e.g. "```ts", or undefined. */
function openFenceAtEnd(text: string): string | undefined {
  let open: { marker: string; line: string } | undefined;
  for (const line of text.split('\n')) {
    const match = FENCE_LINE.exec(line);
    if (!match?.[1]) continue;
    if (!open) open = { marker: match[1], line: line.trim() };
    else if (match[1].startsWith(open.marker) && (match[2] ?? '').trim() === '') open = undefined;
  }
  return open?.line;
}

/** Where to cut `window`: a paragraph, else a line, else a space; never inside a word if avoidable. */
function cutPoint(window: string): number {
  const min = Math.floor(window.length * 0.5);
  for (const separator of ['\n\n', '\n']) {
    const at = window.lastIndexOf(separator);
    if (at >= min) return at + separator.length;
  }
  const space = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\t'));
  if (space > 0) return space + 1;
  const newline = window.lastIndexOf('\n');
  if (newline > 0) return newline + 1;
  // One unbroken run longer than a message: cut it, but not between the halves of a surrogate pair.
  const last = window.charCodeAt(window.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? window.length - 1 : window.length;
}

/**
 * Splits text into chunks of at most `maxChars`, at paragraph, line or word boundaries. A fenced
 * code block cut in two is closed at the end of one chunk and reopened (same language) in the next.
 * Deterministic in the text's prefix: once text has outgrown a chunk, that chunk never changes as
 * more text is appended, so a streaming reply only ever edits its last message.
 */
export function splitMessage(text: string, maxChars: number): string[] {
  if (maxChars < 2 * CLOSING_RESERVE + 20) throw new RangeError(`maxChars too small: ${maxChars}`);
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars - CLOSING_RESERVE);
    const cut = cutPoint(window);
    let chunk = rest.slice(0, cut).trimEnd();
    rest = rest.slice(cut).replace(/^\n+/, '');
    const fence = openFenceAtEnd(chunk);
    if (fence) {
      chunk += '\n' + fence.replace(/[^`~].*$/, '');
      rest = `${fence}\n${rest}`;
    }
    if (chunk.trim()) chunks.push(chunk);
  }
  if (rest.trim() || chunks.length === 0) chunks.push(rest);
  return chunks;
}
