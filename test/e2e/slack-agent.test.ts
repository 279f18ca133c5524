import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type FakeMessage, type SlackFake } from '../../fakes/slack/server.ts';
import { feedbackClickPayload, interactionForm, postSignedEvent, slashCommandForm } from '../../fakes/slack/signing.ts';
import { slackUser } from '../support/slack-user.ts';
import { spawnWorker } from '../support/worker-process.ts';
import { eventually, hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

/**
 * Slack as an agent, over the HTTP Events API with the real Bolt and WebClient: answers in threads
 * stream natively inside agent sessions (processing → active), the session's stop button stops the
 * answer, a stream Slack no longer takes is finished in the same message with chat.update, a refused
 * stream falls back to edits, the agent view gets its prompts, and feedback buttons are counted once.
 */
const CHANNEL = 'C0AGENT';
const PROMPTS_CHANNEL = 'C0PROMPTS';
const BOT = 'UBOTAGENT';

let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;
const user = slackUser({ baseUrl: () => bot.baseUrl, channel: CHANNEL, botUserId: BOT, eventPrefix: 'EvAgent' });
/** Another workspace, for the one whose streams Slack refuses (remembered per workspace). */
const otherTeam = slackUser({ baseUrl: () => bot.baseUrl, channel: CHANNEL, botUserId: BOT, eventPrefix: 'EvOther', teamId: 'T0REFUSES', firstTsSec: 1_700_500_000 });
let eventSequence = 0;

const eventsUrl = () => `${bot.baseUrl}/slack/events`;
const callsIn = (method: string, thread: string) =>
  slack.callsTo(method).filter((call) => call.args.thread_ts === thread || slack.botReplies(undefined, thread).some((m) => m.ts === call.args.ts));
const deliver = (event: Record<string, unknown>) => user.send(event, `EvAgentRaw${Date.now()}${(eventSequence += 1)}`);
const metric = async (line: RegExp) => {
  const text = await (await fetch(`${bot.baseUrl}/metrics`)).text();
  return Number(text.split('\n').find((entry) => line.test(entry))?.split(' ').at(-1) ?? 0);
};
const feedbackValue = (message: FakeMessage | undefined, rating: 'positive' | 'negative') => {
  const block = (message?.blocks ?? []).find((candidate) => (candidate as { type?: string }).type === 'context_actions') as
    | { elements: Array<{ type: string; action_id: string; positive_button: { value: string }; negative_button: { value: string } }> }
    | undefined;
  const element = block?.elements.find((candidate) => candidate.type === 'feedback_buttons');
  return element ? { actionId: element.action_id, value: element[`${rating}_button`].value } : undefined;
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hfbot-agent-'));
  const channelFile = join(dir, 'channels.yaml');
  writeFileSync(
    channelFile,
    ['channels:', `  - platform: slack`, `    channel: ${PROMPTS_CHANNEL}`, '    suggestedPrompts:', '      - title: Deploys', '        message: How do I deploy this service?'].join('\n'),
  );
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: BOT, botToken: secrets.slackBotToken });
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('slack-agent'),
    ...hfEnv(hf),
    ...slackEnv(slack),
    SLACK_MAX_MESSAGE_CHARS: '600',
    CHANNEL_CONFIG_FILE: channelFile,
    USER_RATE_LIMIT: '0',
  });
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await hf?.close();
});

beforeEach(() => {
  hf.reset();
  slack.reset();
});

describe('Slack answers as an agent', () => {
  it('streams a mention’s answer natively inside an agent session, ending with feedback buttons', async () => {
    const answer = 'Native streams show the answer as it is written, word by word, in one message.';
    hf.enqueueChat({ kind: 'stream', text: answer, tokenDelayMs: 15 });
    const { jobId, thread, response } = await user.mention('how do native streams look?', { user: 'U0ASKER' });
    expect(response.status).toBe(200);
    expect(await settled(bot.queue, jobId)).toBe('completed');

    const replies = slack.botReplies(CHANNEL, thread);
    expect(replies).toHaveLength(1);
    const [reply] = replies;
    expect(reply?.text).toBe(answer);
    expect(reply?.stream).toBe('stopped');
    // It grew in place: appended in pieces, never rewritten.
    expect(reply?.history.some((text) => text.length > 0 && text.length < answer.length)).toBe(true);
    const [start] = slack.callsTo('chat.startStream');
    expect(start?.args).toMatchObject({ channel: CHANNEL, thread_ts: thread, recipient_user_id: 'U0ASKER', recipient_team_id: 'T0FAKE' });
    expect(slack.callsTo('chat.appendStream').length).toBeGreaterThan(0);
    expect(slack.callsTo('chat.update')).toHaveLength(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(feedbackValue(reply, 'positive')?.value).toBe(`up:${jobId}`);

    const session = slack.agentSession(CHANNEL, thread);
    expect(session?.title).toBe('how do native streams look?');
    expect(session?.history).toEqual(['processing', 'active']);
  });

  it('never streams a ping or the bot’s own token, and continues a long answer in further messages', async () => {
    hf.enqueueChat({ kind: 'stream', text: `Hey <!channel> and @here, ask <@U0OTHER>; my key is ${secrets.hfToken} ok.`, tokenDelayMs: 5 });
    const first = await user.mention('ping them', { user: 'U0ASKER' });
    expect(await settled(bot.queue, first.jobId)).toBe('completed');
    const streamed = [...slack.callsTo('chat.startStream'), ...slack.callsTo('chat.appendStream'), ...slack.callsTo('chat.stopStream')];
    expect(streamed.length).toBeGreaterThan(1);
    for (const call of streamed) {
      expect(String(call.args.markdown_text ?? '')).not.toMatch(/<!channel>|(^|[^\u200B])@here|<@U0OTHER>/);
      expect(String(call.args.markdown_text ?? '')).not.toContain(secrets.hfToken);
    }
    expect(slack.botReplies(CHANNEL, first.thread)[0]?.text).toContain('[REDACTED]');

    const paragraphs = Array.from({ length: 5 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(20).trim()}.`);
    hf.enqueueChat({ kind: 'stream', text: paragraphs.join('\n\n'), tokenDelayMs: 1 });
    const long = await user.mention('write a lot');
    expect(await settled(bot.queue, long.jobId)).toBe('completed');
    const replies = slack.botReplies(CHANNEL, long.thread);
    expect(replies.length).toBeGreaterThan(1);
    for (const reply of replies) expect(reply.text.length).toBeLessThanOrEqual(600);
    expect(replies.map((reply) => reply.text).join('\n\n')).toBe(paragraphs.join('\n\n'));
    expect(slack.callsTo('chat.startStream').filter((call) => call.args.thread_ts === long.thread)).toHaveLength(1);
  });

  it('stops an answer mid-stream from the session’s stop button: the model request ends, the text stays with a mark, the next message is answered', async () => {
    const endless = 'This answer goes on and on and would take a long while to finish. '.repeat(30);
    hf.enqueueChat({ kind: 'stream', text: endless, tokenDelayMs: 40 });
    const { jobId, thread } = await user.mention('talk for a long time', { user: 'U0STOPPER' });
    await eventually(() => (slack.botReplies(CHANNEL, thread)[0]?.text.length ?? 0) > 40, 'the answer to stream');
    const stopsBefore = await metric(/^hfbot_jobs_total\{queue="chat",outcome="stopped"\}/);

    const stopped = slack.stopAgentSession(CHANNEL, thread, 'U0STOPPER');
    expect((await deliver(stopped)).status).toBe(200);
    expect(await settled(bot.queue, jobId)).toBe('completed');
    expect((await bot.queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'stopped' });
    // The model's stream was cut, long before it would have ended by itself.
    await eventually(() => hf.activeStreams === 0, 'the model request to be closed', 2_000);

    const [reply] = slack.botReplies(CHANNEL, thread);
    // mrkdwn's italics carry zero-width spaces around them.
    expect(reply?.text.replaceAll('\u200B', '')).toMatch(/_⏹ Stopped\._$/);
    expect(reply?.text.length).toBeLessThan(endless.length);
    expect(reply?.text.startsWith('This answer goes on')).toBe(true);
    expect(slack.agentSession(CHANNEL, thread)?.status).toBe('active');
    expect(await metric(/^hfbot_jobs_total\{queue="chat",outcome="stopped"\}/)).toBe(stopsBefore + 1);

    const next = await user.mention('and now a short one', { threadTs: thread, user: 'U0STOPPER' });
    expect(await settled(bot.queue, next.jobId)).toBe('completed');
    expect(slack.botReplies(CHANNEL, thread).map((message) => message.text).at(-1)).toBe('Echo: and now a short one');
    expect(slack.agentSession(CHANNEL, thread)?.status).toBe('active');
  });

  it('never starts an answer stopped while it waited for a cold model', async () => {
    hf.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 2 });
    const { jobId, thread } = await user.mention('are you warm yet?', { user: 'U0WAITER' });
    await eventually(() => slack.botReplies(CHANNEL, thread)[0]?.text.includes('warming up'), 'the warming-up notice');
    await eventually(async () => (await bot.queue.getJobState(jobId)) === 'delayed', 'the job to wait');
    expect(slack.agentSession(CHANNEL, thread)?.status).toBe('processing');

    expect((await deliver(slack.stopAgentSession(CHANNEL, thread, 'U0WAITER'))).status).toBe(200);
    await eventually(() => slack.agentSession(CHANNEL, thread)?.status === 'active', 'the session to leave processing');
    expect(await settled(bot.queue, jobId)).toBe('completed');
    expect((await bot.queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'stopped' });
    expect(hf.chatRequests).toHaveLength(1);
    expect(slack.botReplies(CHANNEL, thread).map((message) => message.text.replaceAll('\u200B', ''))).toEqual(['_⏹ Stopped._']);
  });

  it('finishes the same message with chat.update when the stream expired during a cold-start wait', async () => {
    slack.streamIdleTimeoutMs = 200;
    hf.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 1 });
    const { jobId, thread } = await user.mention('slow to start?');
    expect(await settled(bot.queue, jobId, 20_000)).toBe('completed');
    const replies = slack.botReplies(CHANNEL, thread);
    expect(replies.map((message) => message.text)).toEqual(['Echo: slow to start?']);
    expect(replies[0]?.history.some((text) => text.includes('warming up'))).toBe(true);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(slack.callsTo('chat.update').every((call) => call.args.ts === replies[0]?.ts)).toBe(true);
    expect(feedbackValue(replies[0], 'positive')?.value).toBe(`up:${jobId}`);
    expect(slack.agentSession(CHANNEL, thread)?.history.at(-1)).toBe('active');
  });

  it('answers with edits where Slack refuses streams, and remembers that for the workspace', async () => {
    slack.streamRefusal = 'feature_not_enabled';
    const first = await otherTeam.mention('can you stream here?');
    expect(await settled(bot.queue, first.jobId)).toBe('completed');
    expect(slack.botReplies(CHANNEL, first.thread).map((message) => message.text)).toEqual(['Echo: can you stream here?']);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);

    slack.streamRefusal = undefined;
    const second = await otherTeam.mention('and now?');
    expect(await settled(bot.queue, second.jobId)).toBe('completed');
    expect(slack.botReplies(CHANNEL, second.thread).map((message) => message.text)).toEqual(['Echo: and now?']);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    // The other workspace still streams.
    const elsewhere = await user.mention('and in the first workspace?');
    expect(await settled(bot.queue, elsewhere.jobId)).toBe('completed');
    expect(slack.callsTo('chat.startStream')).toHaveLength(2);
  });

  it('stops at once, without retries, when Slack refuses the reply altogether', async () => {
    slack.failNext('chat.startStream', { error: 'channel_not_found' });
    // As Slack does for a channel that is gone: every call refused.
    slack.failNext('chat.postMessage', { error: 'channel_not_found' }, 10);
    const { jobId, thread } = await user.mention('can you post here at all?');
    expect(await settled(bot.queue, jobId)).toBe('failed');
    expect((await bot.queue.getJob(jobId))?.attemptsMade).toBe(1);
    expect(slack.botReplies(CHANNEL, thread)).toHaveLength(0);
  });

  it('answers /ask outside a thread with edits, and the answer still carries feedback buttons', async () => {
    const form = slashCommandForm({ command: '/ask', text: 'what is a stream?', user_id: 'U0CMD', channel_id: CHANNEL, trigger_id: '777.888', response_url: slack.responseUrl('ask') });
    expect((await postSignedEvent(eventsUrl(), secrets.slackSigningSecret, form)).status).toBe(200);
    expect(await settled(bot.queue, 'slack-cmd-777.888')).toBe('completed');
    const answer = slack.messages(CHANNEL).find((message) => message.text.includes('Echo: what is a stream?'));
    expect(answer?.thread_ts).toBeUndefined();
    expect(slack.callsTo('chat.startStream')).toHaveLength(0);
    expect(feedbackValue(answer, 'negative')?.value).toBe('down:slack-cmd-777.888');
  });
});

describe('the agent view', () => {
  it('offers suggested prompts, tells the model the channel it was opened from, and answers in the thread', async () => {
    const dm = 'D0AGENTVIEW';
    const threadTs = '1700600000.000100';
    const started = { type: 'assistant_thread_started', assistant_thread: { user_id: 'U0VIEWER', channel_id: dm, thread_ts: threadTs, context: { channel_id: 'C0FROM', team_id: 'T0FAKE' } }, event_ts: threadTs };
    expect((await deliver(started)).status).toBe(200);
    await eventually(() => slack.suggestedPrompts.length === 1, 'the suggested prompts');
    const [prompts] = slack.suggestedPrompts;
    expect(prompts).toMatchObject({ channel: dm, thread_ts: threadTs });
    expect(prompts?.prompts.length).toBeGreaterThan(0);
    expect(prompts?.prompts.length).toBeLessThanOrEqual(4);

    const ts = '1700600001.000100';
    const message = { type: 'message', channel_type: 'im', user: 'U0VIEWER', text: 'what was discussed there?', ts, channel: dm, thread_ts: threadTs, event_ts: ts };
    const jobId = `slack-ev-EvView${Date.now()}`;
    expect((await user.send(message, jobId.replace('slack-ev-', ''))).status).toBe(200);
    expect(await settled(bot.queue, jobId)).toBe('completed');
    expect(JSON.stringify(hf.chatRequests[0]?.messages[0])).toContain('<#C0FROM>');
    expect(slack.botReplies(dm, threadTs).map((reply) => reply.text)).toEqual(['Echo: what was discussed there?']);
    // A DM needs no recipient for its stream.
    expect(slack.callsTo('chat.startStream')[0]?.args.recipient_user_id).toBeUndefined();
    expect(slack.agentSession(dm, threadTs)).toMatchObject({ title: 'what was discussed there?', status: 'active' });
  });

  it('uses a channel’s own prompts from the settings file', async () => {
    const started = { type: 'assistant_thread_started', assistant_thread: { user_id: 'U0VIEWER', channel_id: 'D0PROMPTS', thread_ts: '1700600100.000100', context: { channel_id: PROMPTS_CHANNEL } } };
    expect((await deliver(started)).status).toBe(200);
    await eventually(() => slack.suggestedPrompts.length === 1, 'the suggested prompts');
    expect(slack.suggestedPrompts[0]?.prompts).toEqual([{ title: 'Deploys', message: 'How do I deploy this service?' }]);
  });
});

describe('feedback buttons', () => {
  it('records a click once per person and answer, acked at once, and /sentiment reports it', async () => {
    const { jobId, thread } = await user.mention('rate me', { user: 'U0RATED' });
    expect(await settled(bot.queue, jobId)).toBe('completed');
    const [reply] = slack.botReplies(CHANNEL, thread);
    const button = feedbackValue(reply, 'positive');
    expect(button).toBeDefined();
    const before = await metric(/^hfbot_feedback_total\{platform="slack",rating="up"\}/);

    const click = () =>
      postSignedEvent(
        eventsUrl(),
        secrets.slackSigningSecret,
        interactionForm(feedbackClickPayload({ user: 'U0RATER', channel: CHANNEL, messageTs: reply!.ts, threadTs: thread, actionId: button!.actionId, value: button!.value, responseUrl: slack.responseUrl() })),
      );
    expect((await click()).status).toBe(200);
    await eventually(() => slack.responseUrlPosts.length === 1, 'the first confirmation');
    expect((await click()).status).toBe(200);
    await eventually(() => slack.responseUrlPosts.length === 2, 'the second confirmation');
    expect(slack.responseUrlPosts.map((post) => post.body.text)).toEqual(['Thanks, your 👍 was recorded.', 'You have already rated this answer.']);
    expect(await metric(/^hfbot_feedback_total\{platform="slack",rating="up"\}/)).toBe(before + 1);

    const sentiment = await postSignedEvent(
      eventsUrl(),
      secrets.slackSigningSecret,
      slashCommandForm({ command: '/sentiment', text: '', user_id: 'U0RATER', channel_id: CHANNEL, response_url: slack.responseUrl() }),
    );
    expect(JSON.stringify(await sentiment.json())).toContain('👍 1 · 👎 0');
  });
});

describe('native streams answered by worker processes of their own', () => {
  it('is taken over: the next worker continues the same message, nothing written twice', async () => {
    const env = { QUEUE_PREFIX: uniquePrefix('agent-kill'), ...hfEnv(hf), ...slackEnv(slack), WORKER_LOCK_MS: '1500' };
    const gateway = await startTestService(env, ['gateway']);
    const doomed = spawnWorker(env);
    let rescuer: RunningTestService | undefined;
    try {
      // The same answer both times (a deterministic model): the rescuer appends what is missing.
      const longAnswer = { kind: 'stream', text: 'This native answer is cut off by a kill -9 long before it ends. '.repeat(4).trim(), tokenDelayMs: 80 } as const;
      hf.enqueueChat(longAnswer, longAnswer);
      const killer = slackUser({ baseUrl: () => gateway.baseUrl, channel: 'C0KILL', botUserId: BOT, eventPrefix: 'EvKill', firstTsSec: 1_700_700_000 });
      const { jobId, thread } = await killer.mention('tell me something long');
      await eventually(() => (slack.botReplies('C0KILL', thread)[0]?.text.length ?? 0) > 30, 'the answer to stream', 20_000);
      doomed.kill('SIGKILL');
      await new Promise((resolve) => doomed.once('exit', resolve));
      const shownAtKill = slack.botReplies('C0KILL', thread)[0]!.text;
      expect(shownAtKill.length).toBeLessThan(longAnswer.text.length);

      rescuer = await startTestService(env, ['worker']);
      expect(await settled(gateway.queue, jobId, 20_000)).toBe('completed');
      const replies = slack.botReplies('C0KILL', thread);
      expect(replies.map((reply) => reply.text)).toEqual([longAnswer.text]);
      // Continued, not rewritten: what was shown at the kill is where the message went on from.
      expect(replies[0]!.history.every((text) => text.startsWith(shownAtKill) || shownAtKill.startsWith(text))).toBe(true);
      expect(slack.callsTo('chat.startStream')).toHaveLength(1);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
      expect(hf.chatRequests).toHaveLength(2);
      expect(slack.agentSession('C0KILL', thread)?.status).toBe('active');
    } finally {
      doomed.kill('SIGKILL');
      await rescuer?.stop();
      await gateway.stop();
    }
  }, 45_000);

  it('stops, from the gateway’s stop event, an answer streaming in a worker of another process', async () => {
    const env = { QUEUE_PREFIX: uniquePrefix('agent-stop-remote'), ...hfEnv(hf), ...slackEnv(slack) };
    const gateway = await startTestService(env, ['gateway']);
    const remote = spawnWorker(env);
    try {
      const endless = 'An answer streamed by a worker in another process, going on and on. '.repeat(40);
      hf.enqueueChat({ kind: 'stream', text: endless, tokenDelayMs: 40 });
      const asker = slackUser({ baseUrl: () => gateway.baseUrl, channel: 'C0REMOTE', botUserId: BOT, eventPrefix: 'EvRemote', firstTsSec: 1_700_900_000 });
      const { jobId, thread } = await asker.mention('go on in another process', { user: 'U0REMOTE' });
      await eventually(() => (slack.botReplies('C0REMOTE', thread)[0]?.text.length ?? 0) > 40, 'the answer to stream', 20_000);
      expect((await asker.send(slack.stopAgentSession('C0REMOTE', thread, 'U0REMOTE'), `EvRemoteStop${Date.now()}`)).status).toBe(200);
      expect(await settled(gateway.queue, jobId, 20_000)).toBe('completed');
      expect((await gateway.queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'stopped' });
      await eventually(() => hf.activeStreams === 0, 'the model request to be closed', 2_000);
      const [reply] = slack.botReplies('C0REMOTE', thread);
      expect(reply?.text.replaceAll('\u200B', '')).toMatch(/_⏹ Stopped\._$/);
      expect(reply?.text.length).toBeLessThan(endless.length);
      expect(slack.agentSession('C0REMOTE', thread)?.status).toBe('active');
    } finally {
      remote.kill('SIGKILL');
      await gateway.stop();
    }
  }, 45_000);

  it('rewrites the message whole with chat.update when the resumed answer comes out differently', async () => {
    const env = { QUEUE_PREFIX: uniquePrefix('agent-kill2'), ...hfEnv(hf), ...slackEnv(slack), WORKER_LOCK_MS: '1500' };
    const gateway = await startTestService(env, ['gateway']);
    const doomed = spawnWorker(env);
    let rescuer: RunningTestService | undefined;
    try {
      hf.enqueueChat({ kind: 'stream', text: 'A first try that will never be finished, because its worker dies. '.repeat(4), tokenDelayMs: 80 });
      const killer = slackUser({ baseUrl: () => gateway.baseUrl, channel: 'C0KILL2', botUserId: BOT, eventPrefix: 'EvKill2', firstTsSec: 1_700_800_000 });
      const { jobId, thread } = await killer.mention('tell me anything');
      await eventually(() => (slack.botReplies('C0KILL2', thread)[0]?.text.length ?? 0) > 30, 'the answer to stream', 20_000);
      doomed.kill('SIGKILL');
      await new Promise((resolve) => doomed.once('exit', resolve));

      rescuer = await startTestService(env, ['worker']);
      expect(await settled(gateway.queue, jobId, 20_000)).toBe('completed');
      const replies = slack.botReplies('C0KILL2', thread);
      expect(replies.map((reply) => reply.text)).toEqual(['Echo: tell me anything']);
      expect(slack.callsTo('chat.update').every((call) => call.args.ts === replies[0]!.ts)).toBe(true);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    } finally {
      doomed.kill('SIGKILL');
      await rescuer?.stop();
      await gateway.stop();
    }
  }, 45_000);
});
