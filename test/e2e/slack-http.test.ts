import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent, slashCommandForm } from '../../fakes/slack/signing.ts';
import { slackUser } from '../support/slack-user.ts';
import { eventually, hfEnv, secrets, settled, slackEnv, sleep, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const CHANNEL = 'C0GENERAL';
const BOT = 'UBOT';

let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;
let eventsUrl: string;
const { mention, directMessage } = slackUser({ baseUrl: () => bot.baseUrl, channel: CHANNEL, botUserId: BOT });

const lastUserMessage = (index: number) => {
  const messages = hf.chatRequests[index]?.messages ?? [];
  return messages.at(-1)?.content;
};

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: BOT, botToken: secrets.slackBotToken });
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('slack-http'),
    ...hfEnv(hf),
    HF_STREAM_IDLE_TIMEOUT_MS: '2000',
    ...slackEnv(slack),
    // The placeholder-and-edits path (test/e2e/slack-agent.test.ts covers native streams).
    SLACK_STREAMING: 'update',
    SLACK_MAX_MESSAGE_CHARS: '500',
    USER_RATE_LIMIT: '5',
  });
  eventsUrl = `${bot.baseUrl}/slack/events`;
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await hf?.close();
});

beforeEach(() => {
  hf.reset();
});

describe('Slack over the HTTP Events API', () => {
  it('answers a mention in its thread with the streamed answer, edited in place at Slack’s pace', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Deep learning is a branch of machine learning built on neural networks with many layers.', tokenDelayMs: 20 });
    const sent = Date.now();
    const { response, thread, jobId } = await mention('what is deep learning?');
    expect(response.status).toBe(200);
    expect(Date.now() - sent).toBeLessThan(3000);

    expect(await settled(bot.queue, jobId)).toBe('completed');
    const replies = slack.botReplies(CHANNEL, thread);
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(reply.text).toBe('Deep learning is a branch of machine learning built on neural networks with many layers.');
    // A placeholder first, then growing text, never more often than the edit interval allows.
    expect(reply.history.length).toBeGreaterThan(2);
    expect(reply.history.some((text) => text.startsWith('Deep') && text.length < reply.text.length)).toBe(true);
    expect(reply.edits).toBeLessThan(15);
    const updates = slack.callsTo('chat.update').map((call) => call.at);
    for (let i = 1; i < updates.length - 1; i += 1) expect(updates[i]! - updates[i - 1]!).toBeGreaterThanOrEqual(80);

    const request = hf.chatRequests[0]!;
    expect(request.stream).toBe(true);
    expect(request.authorization).toBe(`Bearer ${secrets.hfToken}`);
    expect(request.messages[0]?.role).toBe('system');
    expect(lastUserMessage(0)).toBe('what is deep learning?');
  });

  it('answers a Slack retry of the same event only once', async () => {
    const first = await mention('hello once');
    const retry = await mention('hello once', { eventId: first.eventId, ts: first.ts, retryNum: 1 });
    expect(retry.response.status).toBe(200);
    await settled(bot.queue, first.jobId);
    await sleep(300);
    expect(hf.chatRequests).toHaveLength(1);
    expect(slack.botReplies(CHANNEL, first.thread)).toHaveLength(1);
  });

  it('rejects forged and stale requests with 401 and never answers them', async () => {
    const repliesBefore = slack.botReplies().length;
    const event = { type: 'app_mention', user: 'U1', text: `<@${BOT}> forged`, ts: '1699999999.000001', channel: CHANNEL };
    const forged = await postSignedEvent(eventsUrl, secrets.slackSigningSecret, eventCallback(event), { badSignature: true });
    const stale = await postSignedEvent(eventsUrl, secrets.slackSigningSecret, eventCallback(event), { timestampSec: Math.floor(Date.now() / 1000) - 600 });
    const wrongSecret = await postSignedEvent(eventsUrl, 'not-the-secret', eventCallback(event));
    expect([forged.status, stale.status, wrongSecret.status]).toEqual([401, 401, 401]);
    await sleep(300);
    expect(hf.chatRequests).toHaveLength(0);
    expect(slack.botReplies()).toHaveLength(repliesBefore);
  });

  it('survives malformed and oversized payloads without answering or crashing', async () => {
    const garbage = await postSignedEvent(eventsUrl, secrets.slackSigningSecret, '{"type":"event_callback","event":', { contentType: 'application/json' });
    expect(garbage.status).toBeGreaterThanOrEqual(400);
    const huge = await postSignedEvent(eventsUrl, secrets.slackSigningSecret, eventCallback({ type: 'app_mention', user: 'U1', text: 'x'.repeat(400_000), ts: '1.1', channel: CHANNEL }));
    expect(huge.status).toBe(413);
    const { jobId } = await mention('still alive?');
    expect(await settled(bot.queue, jobId)).toBe('completed');
  });

  it('reads the thread so far when mentioned inside an existing thread', async () => {
    const root = slack.seedMessage({ channel: CHANNEL, user: 'U3', text: 'Our deploy failed with exit code 137' });
    slack.seedMessage({ channel: CHANNEL, user: 'U4', text: 'Probably memory, the pod has 512Mi', thread_ts: root });
    const { jobId } = await mention('what do you think?', { threadTs: root, user: 'U3' });
    await settled(bot.queue, jobId);
    const prompt = JSON.stringify(hf.chatRequests[0]?.messages);
    expect(prompt).toContain('exit code 137');
    expect(prompt).toContain('512Mi');
    expect(lastUserMessage(0)).toBe('what do you think?');
    expect(slack.botReplies(CHANNEL, root)).toHaveLength(1);
  });

  it('carries a DM conversation forward, and /reset forgets it', async () => {
    const dm = 'D0DM1';
    const first = await directMessage('my name is Ada', dm, 'U2');
    await settled(bot.queue, first.jobId);
    const second = await directMessage('what is my name?', dm, 'U2');
    await settled(bot.queue, second.jobId);
    expect(JSON.stringify(hf.chatRequests[1]?.messages)).toContain('my name is Ada');
    expect(JSON.stringify(hf.chatRequests[1]?.messages)).toContain('Echo: my name is Ada');
    // DM answers go in the DM itself, not in a thread.
    expect(slack.botReplies(dm).every((message) => message.thread_ts === undefined)).toBe(true);

    const form = slashCommandForm({ command: '/reset', text: '', user_id: 'U2', channel_id: dm, response_url: slack.responseUrl('reset') });
    const reset = await postSignedEvent(eventsUrl, secrets.slackSigningSecret, form, { contentType: 'application/x-www-form-urlencoded' });
    expect(reset.status).toBe(200);
    expect(JSON.stringify(await reset.json())).toMatch(/forgotten/);

    const third = await directMessage('what is my name now?', dm, 'U2');
    await settled(bot.queue, third.jobId);
    expect(JSON.stringify(hf.chatRequests[2]?.messages)).not.toContain('Ada');
  });

  it('acks /ask at once and streams the answer into the channel', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Because the sky scatters blue light the most.', firstTokenDelayMs: 500, tokenDelayMs: 20 });
    const form = slashCommandForm({ command: '/ask', text: 'why is the sky blue?', user_id: 'U5', channel_id: CHANNEL, trigger_id: '555.666', response_url: slack.responseUrl('ask') });
    const started = Date.now();
    const ack = await postSignedEvent(eventsUrl, secrets.slackSigningSecret, form, { contentType: 'application/x-www-form-urlencoded' });
    expect(ack.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    await settled(bot.queue, 'slack-cmd-555.666');
    const answer = slack.messages(CHANNEL).find((message) => message.text.includes('sky scatters'));
    expect(answer?.thread_ts).toBeUndefined();
    expect(answer?.text.replaceAll('\u200B', '')).toContain('<@U5> asked: _why is the sky blue?_');
    expect(answer?.text).toContain('Because the sky scatters blue light the most.');
  });

  it('absorbs a cold start: tells the user, waits without spending an attempt, answers in the same message', async () => {
    hf.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 1 }, { kind: 'loading', shape: 'nested', estimatedTime: 1 });
    const { jobId, thread } = await mention('are you awake?');
    await eventually(() => slack.botReplies(CHANNEL, thread)[0]?.text.includes('warming up'), 'warming-up notice');
    // The notice shows just before the job moves to delayed.
    await eventually(async () => (await bot.queue.getJobState(jobId)) === 'delayed', 'the job to be delayed');
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(0);
    expect(await settled(bot.queue, jobId, 30_000)).toBe('completed');
    // Only the attempt that answered counts: the two cold-start waits spent none.
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(1);
    const replies = slack.botReplies(CHANNEL, thread);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toBe('Echo: are you awake?');
    expect(hf.chatRequests).toHaveLength(3);
  }, 40_000);

  it('waits out a 429 with Retry-After and answers once', async () => {
    hf.enqueueChat({ kind: 'status', status: 429, body: { error: 'Model is overloaded', error_type: 'overloaded' }, headers: { 'retry-after': '1' } });
    const { jobId, thread } = await mention('busy?');
    await eventually(() => slack.botReplies(CHANNEL, thread)[0]?.text.includes('busy'), 'busy notice');
    expect(await settled(bot.queue, jobId)).toBe('completed');
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(1);
    const gap = hf.chatRequests[1]!.receivedAt - hf.chatRequests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(1000);
    expect(slack.botReplies(CHANNEL, thread).map((reply) => reply.text)).toEqual(['Echo: busy?']);
  });

  it('backs the whole queue off on a 429: a job enqueued during the wait does not call the model until it ends', async () => {
    hf.enqueueChat({ kind: 'status', status: 429, body: { error: 'Model is overloaded' }, headers: { 'retry-after': '2' } });
    const first = await mention('first in line');
    await eventually(() => slack.botReplies(CHANNEL, first.thread)[0]?.text.includes('busy'), 'busy notice');
    // Asked with the highest max: only a queue-level pause counts, not the workers' own job counter.
    await eventually(async () => (await bot.queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER)) > 0, 'the queue to be rate limited');
    const second = await mention('second in line');
    // Seen while the queue's wait was still running: the new job was not taken, the model not called.
    const state = await eventually(async () => {
      const current = await bot.queue.getJobState(second.jobId);
      return current === 'unknown' ? undefined : current;
    }, 'the second job to be queued');
    const requests = hf.chatRequests.length;
    expect(await bot.queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER)).toBeGreaterThan(0);
    expect(state).toBe('waiting');
    expect(requests).toBe(1);

    expect(await settled(bot.queue, first.jobId)).toBe('completed');
    expect(await settled(bot.queue, second.jobId)).toBe('completed');
    // Neither job called the model again before the Retry-After was over; the wait spent no attempt.
    for (const request of hf.chatRequests.slice(1)) expect(request.receivedAt - hf.chatRequests[0]!.receivedAt).toBeGreaterThanOrEqual(2000);
    expect((await bot.queue.getJob(first.jobId))?.attemptsMade).toBe(1);
    expect((await bot.queue.getJob(first.jobId))?.data.progress.rateLimitWaitMs).toBeGreaterThanOrEqual(2000);
    expect(slack.botReplies(CHANNEL, first.thread).map((reply) => reply.text)).toEqual(['Echo: first in line']);
    expect(slack.botReplies(CHANNEL, second.thread).map((reply) => reply.text)).toEqual(['Echo: second in line']);
  });

  it('posts a fixed explanation and the status for a rejected request, never the error body', async () => {
    const echoed = 'hf_EchoedByAProxy0123456789';
    hf.enqueueChat({ kind: 'status', status: 400, body: { error: `Bad request. Headers received: Authorization: Bearer ${echoed}` } });
    const { jobId, thread } = await mention('something the model rejects');
    expect(await settled(bot.queue, jobId)).toBe('failed');
    const [reply] = slack.botReplies(CHANNEL, thread);
    expect(reply?.text).toContain('The model rejected the request');
    expect(reply?.text).toContain('HTTP 400');
    for (const text of reply?.history ?? []) {
      expect(text).not.toContain('Authorization');
      expect(text).not.toContain(echoed);
    }
    // The body is for the operator: in the log, with the token scrubbed.
    const logged = bot.logs.filter((line) => line.includes('Headers received'));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).not.toContain(echoed);
    expect((await bot.queue.getJob(jobId))?.failedReason).not.toContain(echoed);
  });

  it('removes the bot’s own token from a model answer before posting it', async () => {
    hf.enqueueChat({ kind: 'stream', text: `Your config says HF_TOKEN=${secrets.hfToken} and that is all.`, tokenDelayMs: 1 });
    const { jobId, thread } = await mention('what is in my config?');
    expect(await settled(bot.queue, jobId)).toBe('completed');
    const [reply] = slack.botReplies(CHANNEL, thread);
    expect(reply?.text).toBe('Your config says HF_TOKEN=[REDACTED] and that is all.');
    for (const call of [...slack.callsTo('chat.update'), ...slack.callsTo('chat.postMessage')]) {
      expect(String(call.args.text)).not.toContain(secrets.hfToken);
    }
  });

  it('leaves exactly one complete reply when the stream breaks half way', async () => {
    hf.enqueueChat({ kind: 'midStreamError', text: 'The first half of an answer', error: 'tgi' }, { kind: 'abort', text: 'The first half again' });
    const { jobId, thread } = await mention('tell me a story');
    expect(await settled(bot.queue, jobId, 20_000)).toBe('completed');
    const replies = slack.botReplies(CHANNEL, thread);
    expect(replies.map((reply) => reply.text)).toEqual(['Echo: tell me a story']);
    expect(replies[0]?.history.some((text) => text.includes('Retrying'))).toBe(true);
    expect(hf.chatRequests).toHaveLength(3);
    // Unlike cold starts, broken streams spend attempts: two failed, the third answered.
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(3);
  }, 25_000);

  it('treats a stream that goes silent as broken, never as a finished answer', async () => {
    hf.enqueueChat({ kind: 'stream', tokens: ['This answer ', 'stalls ', 'here'], firstTokenDelayMs: 0, tokenDelayMs: 3000 });
    const { jobId, thread } = await mention('will you stall?');
    expect(await settled(bot.queue, jobId, 20_000)).toBe('completed');
    expect(slack.botReplies(CHANNEL, thread).map((reply) => reply.text)).toEqual(['Echo: will you stall?']);
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(2);
  }, 25_000);

  it('stops at once, without retries, when Slack refuses the reply', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    const { jobId, thread } = await mention('can you post here?');
    expect(await settled(bot.queue, jobId)).toBe('failed');
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(1);
    expect(slack.botReplies(CHANNEL, thread)).toHaveLength(0);
    expect(hf.chatRequests.length).toBeLessThanOrEqual(1);
  });

  it('tells the user at once, without retrying, when the model refuses the token', async () => {
    hf.enqueueChat({ kind: 'status', status: 401, body: { error: 'Invalid username or password.' } });
    const { jobId, thread } = await mention('hello?');
    expect(await settled(bot.queue, jobId)).toBe('failed');
    expect(hf.chatRequests).toHaveLength(1);
    expect(slack.botReplies(CHANNEL, thread)[0]?.text).toMatch(/token was rejected/);
  });

  it('neutralises broadcast mentions in model output', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Sure! <!channel> <!here|here> <!everyone> @here and @everyone, look!' });
    const { jobId, thread } = await mention('ping everyone');
    await settled(bot.queue, jobId);
    const text = slack.botReplies(CHANNEL, thread)[0]!.text;
    expect(text).not.toMatch(/<!(channel|here|everyone)/);
    expect(text).not.toMatch(/(^|[^\u200B])@(here|everyone)\b/);
    for (const call of [...slack.callsTo('chat.update'), ...slack.callsTo('chat.postMessage')]) {
      expect(String(call.args.text)).not.toMatch(/<!(channel|here|everyone)/);
    }
  });

  it("neutralises look-alike broadcasts and other people's mentions, keeping the asker's", async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Paging ＠here and ﹫channel <!channel > for <@U0ASKER>, not <@U0OTHER>.' });
    const { jobId, thread } = await mention('page them', { user: 'U0ASKER' });
    expect(await settled(bot.queue, jobId)).toBe('completed');
    const text = slack.botReplies(CHANNEL, thread)[0]!.text;
    expect(text).toBe('Paging @\u200Bhere and @\u200Bchannel @\u200Bchannel for <@U0ASKER>, not @\u200BU0OTHER.');
    for (const call of [...slack.callsTo('chat.update'), ...slack.callsTo('chat.postMessage')]) {
      expect(String(call.args.text)).not.toMatch(/[＠﹫]|<!|<@U0OTHER/);
    }
  });

  it('continues a long answer in further messages in the thread, in order', async () => {
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(25).trim()}.`);
    hf.enqueueChat({ kind: 'stream', text: paragraphs.join('\n\n'), tokenDelayMs: 1 });
    const { jobId, thread } = await mention('write a lot');
    await settled(bot.queue, jobId);
    const replies = slack.botReplies(CHANNEL, thread);
    expect(replies.length).toBeGreaterThan(2);
    for (const reply of replies) expect(reply.text.length).toBeLessThanOrEqual(500);
    expect(replies.map((reply) => reply.text).join('\n\n')).toBe(paragraphs.join('\n\n'));
  });

  it('answers two messages of one conversation in the order they were sent', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'first answer, slowly', tokenDelayMs: 150 }, { kind: 'stream', text: 'second answer' });
    const dm = 'D0ORDER';
    const first = await directMessage('first question', dm, 'U6');
    const second = await directMessage('second question', dm, 'U6');
    await settled(bot.queue, second.jobId);
    await settled(bot.queue, first.jobId);
    expect(hf.chatRequests.map((_, i) => lastUserMessage(i))).toEqual(['first question', 'second question']);
    // The second saw the first exchange as context.
    expect(JSON.stringify(hf.chatRequests[1]?.messages)).toContain('first answer, slowly');
    const [a, b] = slack.botReplies(dm);
    expect(a?.text).toBe('first answer, slowly');
    expect(b?.text).toBe('second answer');
  });

  it('stops one user flooding the model, with a private notice', async () => {
    const jobs = [];
    for (let i = 0; i < 6; i += 1) jobs.push(await mention(`question ${i}`, { user: 'UFLOOD' }));
    await eventually(() => slack.ephemerals.find((notice) => notice.user === 'UFLOOD'), 'rate-limit notice');
    expect(slack.ephemerals.find((notice) => notice.user === 'UFLOOD')?.text).toMatch(/faster than I can answer/);
    for (const job of jobs.slice(0, 5)) expect(await settled(bot.queue, job.jobId)).toBe('completed');
    expect(await bot.queue.getJobState(jobs[5]!.jobId)).toBe('unknown');
  });

  it('never writes a secret to the logs, and tags lines with job ids', () => {
    const output = bot.logs.join('\n');
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [secrets.hfToken, secrets.slackBotToken, secrets.slackSigningSecret]) expect(output).not.toContain(secret);
    expect(bot.logs.some((line) => /"jobId":"slack-ev-/.test(line) && /answered/.test(line))).toBe(true);
    for (const line of bot.logs) expect(() => JSON.parse(line)).not.toThrow();
  });
});
