import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClassifiedError } from '../../src/errors/index.ts';
import { ChunkedReply, type ReplyMessages } from '../../src/stream/chunked-reply.ts';
import { EarlyReply } from '../../src/worker/open-reply.ts';

/** A platform in memory: every call in order, and a refusal to post when told to. */
function platform(options: { refusePosts?: Error } = {}) {
  const calls: string[] = [];
  let next = 0;
  const messages: ReplyMessages = {
    post: async (text) => {
      if (options.refusePosts) throw options.refusePosts;
      calls.push(`post ${text}`);
      return `m${++next}`;
    },
    edit: async (id, text) => void calls.push(`edit ${id} ${text}`),
    remove: async (id) => void calls.push(`remove ${id}`),
  };
  return { calls, messages };
}

function reply(messages: ReplyMessages, ids: string[] = []): EarlyReply {
  const chunked = new ChunkedReply(messages, (markdown) => [markdown], ids, async () => undefined, { placeholder: 'Thinking…' });
  return new EarlyReply(Promise.resolve(chunked), 500);
}

describe('a reply opened before the answer begins', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('posts a quick answer as itself: no placeholder, no edit', async () => {
    const { calls, messages } = platform();
    const early = reply(messages);
    await vi.advanceTimersByTimeAsync(499);
    await early.render('The answer.', true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toEqual(['post The answer.']);
    expect(early.apiCalls).toBe(1);
  });

  it('shows the placeholder once the answer is slow to begin, then edits it into the answer', async () => {
    const { calls, messages } = platform();
    const early = reply(messages);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toEqual(['post Thinking…']);
    await early.render('The ans', false);
    await early.render('The answer.', true);
    expect(calls).toEqual(['post Thinking…', 'edit m1 The ans', 'edit m1 The answer.']);
  });

  it('lets a render that comes while the placeholder is being posted edit it, never post twice', async () => {
    const { calls, messages } = platform();
    const slowPost = messages.post;
    messages.post = async (text, index, end) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return slowPost(text, index, end);
    };
    const early = reply(messages);
    await vi.advanceTimersByTimeAsync(550);
    const rendering = early.render('The answer.', true);
    await vi.advanceTimersByTimeAsync(100);
    await rendering;
    expect(calls).toEqual(['post Thinking…', 'edit m1 The answer.']);
  });

  it('shows no placeholder after the run is closed, nor for a reply that already has its messages', async () => {
    const closed = platform();
    reply(closed.messages).close();
    const resumed = platform();
    reply(resumed.messages, ['m7']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(closed.calls).toEqual([]);
    expect(resumed.calls).toEqual([]);
  });

  it('fails as an opening does when the platform refuses the placeholder: the model is stopped, renders throw', async () => {
    const refusal = new Error('channel_not_found');
    const { messages } = platform({ refusePosts: refusal });
    const early = reply(messages);
    await vi.advanceTimersByTimeAsync(500);
    expect(early.failed.aborted).toBe(true);
    expect(early.error).toBe(refusal);
    await expect(early.render('The answer.', true)).rejects.toBe(refusal);
  });

  it('stops the model when the platform refuses a render for good, and only then', async () => {
    const { messages } = platform();
    const early = reply(messages);
    const edit = messages.edit;
    let refusal: Error = new Error('socket hang up');
    messages.edit = async () => {
      throw refusal;
    };
    await early.render('The ans', false);
    await expect(early.render('The answer', false)).rejects.toBe(refusal);
    expect(early.failed.aborted).toBe(false);
    refusal = new ClassifiedError({ kind: 'fatal', userMessage: 'gone', detail: 'slack message_not_found' });
    await expect(early.render('The answer.', false)).rejects.toBe(refusal);
    expect(early.failed.aborted).toBe(true);
    messages.edit = edit;
    await expect(early.render('The answer.', true)).rejects.toBe(refusal);
  });
});
