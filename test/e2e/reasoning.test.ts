/**
 * Reasoning models end to end, over Slack's HTTP Events API: one service per REASONING_DISPLAY,
 * one fake HF router sending reasoning in each wire shape.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { slackUser } from '../support/slack-user.ts';
import { hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const CHANNEL = 'C0REASON';
const BOT = 'UBOT';
const MAX_CHARS = 500;
type Display = 'hidden' | 'summary' | 'full';

let hf: HfFake;
let slack: SlackFake;
const bots = {} as Record<Display, RunningTestService>;

const REASONING =
  'The user asks about tides. Tides come from the Moon’s gravity pulling the oceans; the Sun adds a smaller pull. ' +
  'I should mention spring and neap tides, and keep it short. Secret-word: zanzibar.';
const ANSWER = 'Tides are caused mainly by the Moon’s gravity, with a smaller pull from the Sun.';

/** Every text the bot ever put in the channel: posts, edits and the final messages. */
const everythingShown = () =>
  [...slack.callsTo('chat.postMessage'), ...slack.callsTo('chat.update')].map((call) => String(call.args.text)).join('\n');

/** Slack wraps emphasis in zero-width spaces; compare without them. */
const plain = (text: string) => text.replaceAll('\u200B', '');

/** A person talking to the bot of each display; their timestamps never meet in the shared channel. */
const users = {
  hidden: slackUser({ baseUrl: () => bots.hidden.baseUrl, channel: CHANNEL, botUserId: BOT, eventPrefix: 'EvRH', firstTsSec: 1_700_100_000 }),
  summary: slackUser({ baseUrl: () => bots.summary.baseUrl, channel: CHANNEL, botUserId: BOT, eventPrefix: 'EvRS', firstTsSec: 1_700_200_000 }),
  full: slackUser({ baseUrl: () => bots.full.baseUrl, channel: CHANNEL, botUserId: BOT, eventPrefix: 'EvRF', firstTsSec: 1_700_300_000 }),
};

/** The 'answered' log line of a job, parsed. */
function answeredLog(display: Display, jobId: string): Record<string, unknown> {
  const line = bots[display].logs.find((entry) => entry.includes(`"jobId":"${jobId}"`) && entry.includes('"msg":"answered"'));
  expect(line, `answered log line of ${jobId}`).toBeDefined();
  return JSON.parse(line!) as Record<string, unknown>;
}

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: BOT, botToken: secrets.slackBotToken });
  for (const display of ['hidden', 'summary', 'full'] as const) {
    bots[display] = await startTestService({
      QUEUE_PREFIX: uniquePrefix(`reasoning-${display}`),
      ...hfEnv(hf),
      ...slackEnv(slack),
      SLACK_MAX_MESSAGE_CHARS: String(MAX_CHARS),
      USER_RATE_LIMIT: '50',
      // Needs REASONING_DISPLAY wired from the config into the worker's `reasoningDisplay`.
      REASONING_DISPLAY: display,
    });
  }
});

afterAll(async () => {
  for (const bot of Object.values(bots)) await bot.stop();
  await slack?.close();
  await hf?.close();
});

beforeEach(() => {
  hf.reset();
  slack.reset();
});

describe('reasoning models', () => {
  it('hidden: shows a live thinking status, then the answer; reasoning never reaches the channel or the history', async () => {
    // About 1.5 s of reasoning in 3-character chunks, tags cut across chunks.
    hf.enqueueChat({ kind: 'stream', reasoning: REASONING, reasoningShape: 'tags', text: ANSWER, tokenDelayMs: 25 });
    const dm = 'D0REASON1';
    const first = await users.hidden.directMessage('why are there tides?', dm);
    expect(await settled(bots.hidden.queue, first.jobId)).toBe('completed');

    const [reply, ...others] = slack.botReplies(dm);
    expect(others).toHaveLength(0);
    expect(reply!.text).toBe(ANSWER);
    const history = reply!.history.map(plain);
    const statuses = history.map((text, i) => ({ text, i })).filter(({ text }) => /^_Thinking… \d+ s_$/.test(text));
    expect(statuses.map(({ text }) => text)).toContain('_Thinking… 1 s_');
    const firstAnswer = history.findIndex((text) => text.startsWith('Tides'));
    expect(statuses.every(({ i }) => i < firstAnswer)).toBe(true);
    const shown = everythingShown();
    expect(shown).not.toContain('zanzibar');
    expect(shown).not.toMatch(/think>/);

    // The next turn's prompt carries the answer, never the reasoning.
    const second = await users.hidden.directMessage('and what about the Sun?', dm);
    expect(await settled(bots.hidden.queue, second.jobId)).toBe('completed');
    const prompt = JSON.stringify(hf.chatRequests[1]?.messages);
    expect(prompt).toContain(ANSWER);
    expect(prompt).not.toContain('zanzibar');
    expect(prompt).not.toContain('Thinking…');
  });

  it('splits a <think> tag anywhere across chunks without leaking it', async () => {
    hf.enqueueChat({ kind: 'stream', tokens: ['  <thi', 'nk>A haiku, zanzibar', ' style.</', 'thi', 'nk>\n\nAn old ', 'silent pond'] });
    const { jobId, thread } = await users.hidden.mention('write a haiku');
    expect(await settled(bots.hidden.queue, jobId)).toBe('completed');
    expect(slack.botReplies(CHANNEL, thread).map((reply) => reply.text)).toEqual(['An old silent pond']);
    expect(everythingShown()).not.toMatch(/zanzibar|think>|<thi/);
  });

  it('summary: a short quoted excerpt after the answer (reasoning_content deltas), kept out of the thread context', async () => {
    const longReasoning = `${REASONING} ${'Then I double-check every step once more. '.repeat(20)}`;
    hf.enqueueChat({ kind: 'stream', reasoning: longReasoning, reasoningShape: 'reasoning_content', reasoningChunkChars: 40, text: ANSWER });
    const root = slack.seedMessage({ channel: CHANNEL, user: 'U7', text: `<@${BOT}> why are there tides?` });
    const first = await users.summary.mention('why are there tides?', { ts: root });
    expect(await settled(bots.summary.queue, first.jobId)).toBe('completed');
    const [reply, ...others] = slack.botReplies(CHANNEL, root);
    expect(others).toHaveLength(0);
    const [answer, label, ...quote] = plain(reply!.text).split(/\n+/);
    expect(answer).toBe(ANSWER);
    expect(label).toBe('_Model reasoning (excerpt):_');
    expect(quote.length).toBeGreaterThan(0);
    expect(quote.every((line) => line.startsWith('> ') || line.startsWith('&gt; '))).toBe(true);
    const excerpt = quote.map((line) => line.replace(/^(>|&gt;) /, '')).join(' ');
    expect(excerpt.startsWith('The user asks about tides.')).toBe(true);
    expect(excerpt.length).toBeLessThanOrEqual(310);
    expect(excerpt.endsWith('…')).toBe(true);
    expect(reply!.history.map(plain).some((text) => /^_Thinking… \d+ s_$/.test(text))).toBe(true);

    // A follow-up in the thread reads the thread back from Slack: the answer, not its reasoning.
    const followUp = slack.seedMessage({ channel: CHANNEL, user: 'U7', text: `<@${BOT}> and the Sun?`, thread_ts: root });
    const second = await users.summary.mention('and the Sun?', { ts: followUp, threadTs: root });
    expect(await settled(bots.summary.queue, second.jobId)).toBe('completed');
    const prompt = JSON.stringify(hf.chatRequests[1]?.messages);
    expect(prompt).toContain(ANSWER);
    expect(prompt).not.toContain('The user asks about tides');
    expect(prompt).not.toContain('Model reasoning');
  });

  it('full: the whole reasoning after the answer (reasoning deltas); the answer’s messages are those of hidden mode', async () => {
    const paragraphs = Array.from({ length: 4 }, (_, i) => `Paragraph ${i}: ${'the tide rises and falls twice a day '.repeat(9).trim()}.`);
    const longAnswer = paragraphs.join('\n\n');
    const longReasoning = Array.from({ length: 12 }, (_, i) => `Step ${i}: I weigh the Moon against the Sun, zanzibar.`).join('\n');
    const step = { kind: 'stream', reasoning: longReasoning, reasoningShape: 'reasoning', reasoningChunkChars: 20, text: longAnswer, tokenDelayMs: 1 } as const;

    hf.enqueueChat(step);
    const hidden = await users.hidden.mention('explain tides at length');
    expect(await settled(bots.hidden.queue, hidden.jobId)).toBe('completed');
    hf.enqueueChat(step);
    const full = await users.full.mention('explain tides at length');
    expect(await settled(bots.full.queue, full.jobId)).toBe('completed');

    const hiddenTexts = slack.botReplies(CHANNEL, hidden.thread).map((reply) => reply.text);
    const fullTexts = slack.botReplies(CHANNEL, full.thread).map((reply) => reply.text);
    expect(hiddenTexts.length).toBeGreaterThan(2);
    expect(hiddenTexts.join('\n\n')).toBe(longAnswer);
    expect(fullTexts.slice(0, hiddenTexts.length)).toEqual(hiddenTexts);
    const appendix = fullTexts.slice(hiddenTexts.length).map(plain);
    expect(appendix.length).toBeGreaterThan(0);
    expect(appendix[0]!.startsWith('_Model reasoning:_')).toBe(true);
    for (const text of fullTexts) expect(text.length).toBeLessThanOrEqual(MAX_CHARS);
    const quoted = appendix.join('\n').split('\n').filter((line) => /^(>|&gt;) /.test(line)).map((line) => line.replace(/^(>|&gt;) /, ''));
    expect(quoted).toEqual(longReasoning.split('\n'));

    // Both replies generated the same tokens; showing the reasoning costs only platform characters.
    const hiddenLog = answeredLog('hidden', hidden.jobId);
    const fullLog = answeredLog('full', full.jobId);
    for (const log of [hiddenLog, fullLog]) {
      expect(log).toMatchObject({ promptTokens: expect.any(Number), completionTokens: expect.any(Number), reasoningTokens: expect.any(Number) });
      expect(log.completionTokens as number).toBeGreaterThan(log.reasoningTokens as number);
    }
    for (const field of ['promptTokens', 'completionTokens', 'reasoningTokens', 'chars', 'reasoningChars']) expect(fullLog[field]).toBe(hiddenLog[field]);
    expect(fullLog.shownChars as number).toBeGreaterThan(hiddenLog.shownChars as number);
    const pick = ({ promptTokens, completionTokens, reasoningTokens, chars, reasoningChars, shownChars }: Record<string, unknown>) => ({
      promptTokens,
      completionTokens,
      reasoningTokens,
      chars,
      reasoningChars,
      shownChars,
    });
    console.info(`reasoning cost: ${JSON.stringify({ hidden: pick(hiddenLog), full: pick(fullLog) })}`);
  });

  it('logs the tokens of every reply, reasoning tokens included', async () => {
    hf.enqueueChat({ kind: 'stream', reasoning: REASONING, reasoningShape: 'reasoning_content', text: ANSWER, tokenDelayMs: 0 });
    const { jobId } = await users.summary.mention('tides?');
    expect(await settled(bots.summary.queue, jobId)).toBe('completed');
    expect(answeredLog('summary', jobId)).toMatchObject({
      promptTokens: expect.any(Number),
      completionTokens: Math.ceil((REASONING.length + ANSWER.length) / 4),
      reasoningTokens: Math.ceil(REASONING.length / 4),
    });
  });
});
