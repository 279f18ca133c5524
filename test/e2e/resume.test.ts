import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback, postSignedEvent } from '../../fakes/slack/signing.ts';
import { discordEnv, eventually, hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';
import { spawnWorker } from '../support/worker-process.ts';

const CHANNEL = 'C0RESUME';

let hf: HfFake;
let slack: SlackFake;
let discord: DiscordFake;
let gateway: RunningTestService | undefined;
let rescuer: RunningTestService | undefined;

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: 'UBOT', botToken: secrets.slackBotToken });
  discord = await startDiscordFake();
});

afterAll(async () => {
  await rescuer?.stop();
  await gateway?.stop();
  await slack?.close();
  await discord?.close();
  await hf?.close();
});

describe('a worker killed in the middle of answers', () => {
  it('is taken over by another worker: each answer completed once, in the same Slack message and Discord interaction response', async () => {
    const env = {
      QUEUE_PREFIX: uniquePrefix('resume'),
      ...hfEnv(hf),
      ...slackEnv(slack),
      // The placeholder-and-edits path; test/e2e/slack-agent.test.ts resumes a native stream.
      SLACK_STREAMING: 'update',
      ...discordEnv(discord),
      // A killed worker's job is taken over after about one lock period.
      WORKER_LOCK_MS: '1500',
    };
    gateway = await startTestService(env, ['gateway']);
    await discord.ready();
    const doomed = spawnWorker(env);
    const longAnswer = { kind: 'stream', text: 'This answer will be cut off by a kill -9 long before it ends, '.repeat(4), tokenDelayMs: 100 } as const;
    hf.enqueueChat(longAnswer, longAnswer);

    const ts = '1700000100.000100';
    const event = { type: 'app_mention', user: 'U1', text: '<@UBOT> tell me something long', ts, channel: CHANNEL, event_ts: ts };
    const response = await postSignedEvent(`${gateway.baseUrl}/slack/events`, secrets.slackSigningSecret, eventCallback(event, { eventId: 'EvKILL' }));
    expect(response.status).toBe(200);
    const ask = discord.interactionCreate({
      name: 'ask',
      options: [{ name: 'prompt', type: 3, value: 'tell me something long too' }],
      channelId: '300000000000000001',
      userId: '400000000000000099',
    });

    // Kill the worker once both answers are visibly streaming.
    await eventually(
      () =>
        slack.botReplies(CHANNEL, ts)[0]?.text.startsWith('This answer will') &&
        discord.interactionResponses.get(ask.token)?.content?.startsWith('This answer will'),
      'both answers to start streaming',
      20_000,
    );
    doomed.kill('SIGKILL');
    await new Promise((resolve) => doomed.once('exit', resolve));
    expect(slack.botReplies(CHANNEL, ts)[0]!.text.length).toBeLessThan(100);

    rescuer = await startTestService(env, ['worker']);
    expect(await settled(gateway.queue, 'slack-ev-EvKILL', 20_000)).toBe('completed');
    expect(await settled(gateway.queue, `discord-int-${ask.id}`, 20_000)).toBe('completed');
    expect(slack.botReplies(CHANNEL, ts).map((reply) => reply.text)).toEqual(['Echo: tell me something long']);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    const interaction = discord.interactionResponses.get(ask.token)!;
    expect(interaction.content).toBe('Echo: tell me something long too');
    expect(interaction.followups).toHaveLength(0);
    expect(hf.chatRequests).toHaveLength(4);
  }, 45_000);
});
