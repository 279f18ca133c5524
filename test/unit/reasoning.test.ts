import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChatOutput } from '../../src/llm/chat-output.ts';
import { createHfChatModel, type ChatPart } from '../../src/llm/hf-chat.ts';
import { composeReply, reasoningAppendix, stripReasoningAppendix, SUMMARY_CHARS, thinkingStatus } from '../../src/llm/reasoning-display.ts';
import { reasoningOfDelta, ThinkSplitter, type SplitPart, type ThinkSplitterOptions } from '../../src/llm/reasoning.ts';
import { splitMessage } from '../../src/text/split.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';

/** Feeds `chunks` through a splitter; returns the parts and the answer as it stood after each chunk. */
function run(chunks: string[], options: ThinkSplitterOptions = {}, end: { truncated?: boolean } = {}) {
  const splitter = new ThinkSplitter(options);
  const output = new ChatOutput();
  const parts: SplitPart[] = [];
  const answers: string[] = [];
  for (const chunk of chunks) {
    for (const part of splitter.push(chunk)) {
      parts.push(part);
      output.apply(part);
    }
    answers.push(output.answer);
  }
  for (const part of splitter.end(end)) {
    parts.push(part);
    output.apply(part);
  }
  return { parts, answers, answer: output.answer, reasoning: output.reasoning };
}

/** Every way of cutting `text` in two, then in three (all pairs of positions), then char by char. */
function everySplit(text: string): string[][] {
  const splits: string[][] = [[text], [...text]];
  for (let i = 0; i <= text.length; i += 1) {
    splits.push([text.slice(0, i), text.slice(i)]);
    for (let j = i; j <= text.length; j += 1) splits.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  }
  return splits;
}

describe('ThinkSplitter', () => {
  const cases: Array<{ name: string; text: string; options?: ThinkSplitterOptions; answer: string; reasoning: string }> = [
    { name: 'a leading think block', text: '<think>Plan: greet, then answer.</think>\n\nHello there.', answer: 'Hello there.', reasoning: 'Plan: greet, then answer.' },
    { name: 'whitespace before <think>', text: ' \n <think>\nweigh a < b </thi\n</think>\n\nIt is b.', answer: 'It is b.', reasoning: '\nweigh a < b </thi\n' },
    { name: 'no think block at all', text: 'Plain answer with < and </ and </think and <think> inside.', answer: 'Plain answer with < and </ and </think and <think> inside.', reasoning: '' },
    { name: 'an empty think block (Qwen3, thinking off)', text: '<think>\n\n</think>\n\nShort answer.', answer: 'Short answer.', reasoning: '\n\n' },
    { name: 'an unclosed block (stopped mid-thought)', text: '<think>still going and going', answer: '', reasoning: 'still going and going' },
    { name: 'a lone </think> on its own line (block opened in the prompt)', text: 'Reasoning first.\nMore of it.\n</think>\n\nThe answer.', answer: 'The answer.', reasoning: 'Reasoning first.\nMore of it.' },
    { name: 'a lone leading </think>', text: '</think>\n\nAnswer only.', answer: 'Answer only.', reasoning: '' },
    { name: 'openAtStart: reasoning up to </think>', text: 'Okay, so the user asks.\n</think>\n\nAnswer.', options: { openAtStart: true }, answer: 'Answer.', reasoning: 'Okay, so the user asks.\n' },
    { name: 'openAtStart with an explicit <think> too', text: '<think>\nHmm.</think>Answer.', options: { openAtStart: true }, answer: 'Answer.', reasoning: '\nHmm.' },
    { name: 'openAtStart, never closed, stopped normally: it was an answer', text: 'Just an answer.', options: { openAtStart: true }, answer: 'Just an answer.', reasoning: '' },
  ];

  for (const { name, text, options, answer, reasoning } of cases) {
    it(`splits ${name} the same at every chunk boundary`, () => {
      for (const chunks of everySplit(text)) {
        const result = run(chunks, options);
        expect({ chunks, answer: result.answer, reasoning: result.reasoning }).toEqual({ chunks, answer, reasoning });
        for (const part of result.parts) if (part.kind !== 'relabel') expect(part.text).not.toBe('');
      }
    });
  }

  it('never shows an announced block’s reasoning as answer, at any point of the stream', () => {
    const text = '<think>secret plan</think>\n\nThe answer.';
    for (const chunks of everySplit(text)) {
      for (const shown of run(chunks).answers) expect('The answer.'.startsWith(shown)).toBe(true);
    }
    for (const chunks of everySplit('secret plan\n</think>\n\nThe answer.')) {
      for (const shown of run(chunks, { openAtStart: true }).answers) expect('The answer.'.startsWith(shown)).toBe(true);
    }
  });

  it('streams: reasoning and answer come out as they arrive, holding back at most a tag', () => {
    const splitter = new ThinkSplitter();
    expect(splitter.push('<thi')).toEqual([]);
    expect(splitter.push('nk>first thoughts </')).toEqual([{ kind: 'reasoning', text: 'first thoughts ' }]);
    expect(splitter.push('think>Answer ')).toEqual([{ kind: 'answer', text: 'Answer ' }]);
    expect(splitter.push('goes on')).toEqual([{ kind: 'answer', text: 'goes on' }]);
    expect(splitter.end()).toEqual([]);
  });

  it('relabels an answer that turns out to have been reasoning (a lone </think>)', () => {
    const { parts } = run(['I should ', 'think.\n', '</think>\n', 'Done.']);
    expect(parts).toEqual([
      { kind: 'answer', text: 'I should ' },
      { kind: 'answer', text: 'think.' },
      { kind: 'relabel', as: 'reasoning' },
      { kind: 'answer', text: 'Done.' },
    ]);
  });

  it('keeps an open-at-start block that hit the token limit as reasoning', () => {
    expect(run(['thinking and ', 'thinking'], { openAtStart: true }, { truncated: true })).toMatchObject({ answer: '', reasoning: 'thinking and thinking' });
  });

  it('reads content as the answer once the provider sends reasoning in its own field', () => {
    const splitter = new ThinkSplitter({ openAtStart: true });
    splitter.reasoningDeliveredSeparately();
    expect([...splitter.push('The answer.'), ...splitter.end()]).toEqual([{ kind: 'answer', text: 'The answer.' }]);
  });
});

describe('reasoningOfDelta', () => {
  it('reads reasoning_content or reasoning, one of them when both come', () => {
    expect(reasoningOfDelta({ reasoning_content: 'a' })).toBe('a');
    expect(reasoningOfDelta({ reasoning: 'b', content: null })).toBe('b');
    expect(reasoningOfDelta({ reasoning_content: 'c', reasoning: 'c' })).toBe('c');
    expect(reasoningOfDelta({ content: 'x', reasoning_content: null })).toBeUndefined();
    expect(reasoningOfDelta(undefined)).toBeUndefined();
  });
});

describe('reasoning display', () => {
  const reasoning = Array.from({ length: 30 }, (_, i) => `Thought ${i} about the question.`).join(' ') + '\n\n\nA last paragraph.';

  it('shows a live status with whole elapsed seconds', () => {
    expect(thinkingStatus(0)).toBe('_Thinking… 0 s_');
    expect(thinkingStatus(4_999)).toBe('_Thinking… 4 s_');
  });

  it('hidden: the answer alone', () => {
    expect(composeReply('The answer.', reasoning, 'hidden')).toBe('The answer.');
    expect(composeReply('The answer.', '', 'full')).toBe('The answer.');
  });

  it('summary: a short quoted excerpt after the answer', () => {
    const reply = composeReply('The answer.', reasoning, 'summary');
    const [answer, appendix] = reply.split('\n\n');
    expect(answer).toBe('The answer.');
    const [label, ...quote] = appendix!.split('\n');
    expect(label).toBe('_Model reasoning (excerpt):_');
    expect(quote.every((line) => line.startsWith('> '))).toBe(true);
    const quoted = quote.map((line) => line.slice(2)).join(' ');
    expect(quoted.length).toBeLessThanOrEqual(SUMMARY_CHARS + 1);
    expect(quoted.startsWith('Thought 0 about the question. Thought 1')).toBe(true);
    expect(quoted.endsWith('…')).toBe(true);
  });

  it('full: the whole reasoning quoted after the answer, as one blockquote in lines of at most 200', () => {
    const reply = composeReply('The answer.', reasoning, 'full');
    expect(reply.startsWith('The answer.\n\n_Model reasoning:_\n> Thought 0')).toBe(true);
    const appendix = reply.slice('The answer.\n\n'.length);
    expect(appendix).not.toContain('\n\n');
    const quote = appendix.split('\n').slice(1);
    expect(quote.every((line) => line === '>' || (line.startsWith('> ') && line.length <= 202))).toBe(true);
    expect(quote.map((line) => line.slice(2)).join(' ').replace(/\s+/g, ' ')).toBe(reasoning.replace(/\s+/g, ' '));
  });

  it('closes a code block the answer left open before appending', () => {
    expect(reasoningAppendix('x', 'summary')).toBe('_Model reasoning (excerpt):_\n> x');
    expect(composeReply('```js\nlet a', 'x', 'summary')).toBe('```js\nlet a\n```\n\n_Model reasoning (excerpt):_\n> x');
  });

  it('never moves the answer’s split points: answer messages stay, reasoning only adds after them', () => {
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu'.split(' ');
    const exceptions = new Set<number>();
    for (const max of [500, 2000]) {
      for (let length = 1; length < 3 * max; length += 7) {
        let answer = '';
        for (let i = 0; answer.length < length; i += 1) answer += (i % 9 === 8 ? '\n\n' : ' ') + words[i % 12];
        answer = answer.slice(0, length).trim();
        const alone = splitMessage(answer, max);
        for (const display of ['summary', 'full'] as const) {
          const shown = splitMessage(composeReply(answer, reasoning, display), max);
          const kept = alone.slice(0, -1).every((chunk, i) => shown[i] === chunk) && shown[alone.length - 1]!.startsWith(alone.at(-1)!);
          if (!kept) exceptions.add(max - alone.at(-1)!.length);
        }
      }
    }
    // The one exception: an answer whose last message is within 6 characters of the limit has no
    // room for the paragraph break before the reasoning, so its last words move to the next message.
    expect([...exceptions].every((gap) => gap <= 6)).toBe(true);
  });

  it('strips shown reasoning from replies read back from the platform', () => {
    const turns = stripReasoningAppendix([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'Answer one.\n\n\u200B_Model reasoning (excerpt):_\u200B\n\n> secret' },
      { role: 'assistant', content: '&gt; more secret\n&gt; and more' },
      { role: 'user', content: 'q2' },
      { role: 'assistant', content: 'Answer two, part one.' },
      { role: 'assistant', content: '> a quote that is part of the answer' },
      { role: 'assistant', content: '_Model reasoning:_\n> secret' },
      { role: 'assistant', content: '> secret continued' },
    ]);
    expect(turns).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'Answer one.' },
      { role: 'user', content: 'q2' },
      { role: 'assistant', content: 'Answer two, part one.' },
      { role: 'assistant', content: '> a quote that is part of the answer' },
    ]);
  });
});

describe('the HF chat model with reasoning', () => {
  let hf: HfFake;
  const collect = async (model: string) => {
    const chat = createHfChatModel({ baseUrl: hf.baseUrl, token: 'hf_test', model, maxTokens: 256, timeoutMs: 5_000, streamIdleTimeoutMs: 2_000 });
    const parts: ChatPart[] = [];
    const output = new ChatOutput();
    for await (const part of chat.stream([{ role: 'user', content: 'why?' }])) {
      parts.push(part);
      output.apply(part);
    }
    return { parts, output };
  };

  beforeAll(async () => {
    hf = await startHfFake({ defaultTokenDelayMs: 0 });
  });
  afterAll(async () => {
    await hf.close();
  });
  beforeEach(() => hf.reset());

  for (const shape of ['tags', 'reasoning_content', 'reasoning'] as const) {
    it(`separates reasoning sent as ${shape}, and reports usage with reasoning tokens`, async () => {
      hf.enqueueChat({ kind: 'stream', reasoning: 'The sky scatters short wavelengths.', reasoningShape: shape, text: 'Rayleigh scattering.' });
      const { parts, output } = await collect('Qwen/Qwen3-8B');
      expect(output.answer).toBe('Rayleigh scattering.');
      expect(output.reasoning.trim()).toBe('The sky scatters short wavelengths.');
      expect(parts.findIndex((part) => part.kind === 'answer')).toBeGreaterThan(parts.findLastIndex((part) => part.kind === 'reasoning'));
      const usage = parts.at(-1);
      expect(usage).toMatchObject({ kind: 'usage', reasoningTokens: 9 });
      if (usage?.kind === 'usage') expect(usage.completionTokens).toBeGreaterThan(usage.reasoningTokens ?? 0);
      expect(hf.chatRequests[0]?.body).toMatchObject({ stream_options: { include_usage: true } });
    });
  }

  it('reads a DeepSeek-R1 style stream (only </think>) as reasoning from the start', async () => {
    hf.enqueueChat({ kind: 'stream', reasoning: 'Okay, the user wants a reason.', reasoningShape: 'close-tag', text: 'Here it is.' });
    const { parts, output } = await collect('deepseek-ai/DeepSeek-R1');
    expect(output).toMatchObject({ answer: 'Here it is.', reasoning: 'Okay, the user wants a reason.\n' });
    expect(parts.some((part) => part.kind === 'relabel')).toBe(false);
  });

  it('reports usage without reasoning tokens for a model that does not reason', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Plain.' });
    const { parts } = await collect('meta-llama/Llama-3.1-8B-Instruct');
    expect(parts).toEqual([
      { kind: 'answer', text: 'Plain.' },
      { kind: 'usage', promptTokens: 1, completionTokens: 2 },
    ]);
  });
});
