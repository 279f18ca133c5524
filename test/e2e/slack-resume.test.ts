import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../fakes/hf-server.ts';
import { startSlackFake, type SlackFake } from '../fakes/slack-server.ts';
import { eventCallback, postSignedEvent } from '../fakes/slack-signing.ts';
import { eventually, secrets, settled, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';
import { spawnWorker } from '../support/worker-process.ts';

const CHANNEL = 'C0RESUME';

let hf: HfFake;
let slack: SlackFake;
let gateway: RunningTestService | undefined;
let rescuer: RunningTestService | undefined;

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: 'UBOT', botToken: secrets.slackBotToken });
});

afterAll(async () => {
  await rescuer?.stop();
  await gateway?.stop();
  await slack?.close();
  await hf?.close();
});

describe('a worker killed in the middle of an answer', () => {
  it('is resumed by another worker in the same Slack message: one reply, complete', async () => {
    const env = {
      QUEUE_PREFIX: uniquePrefix('slack-resume'),
      HF_TOKEN: secrets.hfToken,
      HF_BASE_URL: hf.baseUrl,
      SLACK_BOT_TOKEN: secrets.slackBotToken,
      SLACK_SIGNING_SECRET: secrets.slackSigningSecret,
      SLACK_API_URL: slack.apiUrl,
      SLACK_EDIT_INTERVAL_MS: '100',
      // A killed worker's job is taken over after about one lock period.
      WORKER_LOCK_MS: '1500',
    };
    gateway = await startTestService(env, ['gateway']);
    const doomed = spawnWorker(env);
    hf.enqueueChat({ kind: 'stream', text: 'This answer will be cut off by a kill -9 long before it ends, '.repeat(4), tokenDelayMs: 100 });

    const ts = '1700000100.000100';
    const event = { type: 'app_mention', user: 'U1', text: '<@UBOT> tell me something long', ts, channel: CHANNEL, event_ts: ts };
    const response = await postSignedEvent(`${gateway.baseUrl}/slack/events`, secrets.slackSigningSecret, eventCallback(event, { eventId: 'EvKILL' }));
    expect(response.status).toBe(200);

    // Kill the worker once the answer is visibly streaming.
    await eventually(() => slack.botReplies(CHANNEL, ts)[0]?.text.startsWith('This answer will'), 'the answer to start streaming', 20_000);
    doomed.kill('SIGKILL');
    await new Promise((resolve) => doomed.once('exit', resolve));
    const cutOff = slack.botReplies(CHANNEL, ts)[0]!.text;
    expect(cutOff.length).toBeLessThan(100);

    rescuer = await startTestService(env, ['worker']);
    expect(await settled(gateway.queue, 'slack-ev-EvKILL', 20_000)).toBe('completed');
    const replies = slack.botReplies(CHANNEL, ts);
    expect(replies.map((reply) => reply.text)).toEqual(['Echo: tell me something long']);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(hf.chatRequests).toHaveLength(2);
  }, 45_000);
});
