import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { eventCallback } from '../../fakes/slack/signing.ts';
import { hfEnv, secrets, settled, slackSocketEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const CHANNEL = 'C0SOCKET';

let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botUserId: 'UBOT', botToken: secrets.slackBotToken, appToken: secrets.slackAppToken });
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('slack-socket'),
    ...hfEnv(hf),
    ...slackSocketEnv(slack),
    SLACK_ASK_COMMAND: '/hf-ask',
  });
  await slack.socketConnected();
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await hf?.close();
});

describe('Slack over Socket Mode', () => {
  it('answers a mention delivered over the socket, acked and streamed into the thread', async () => {
    const ts = '1700000200.000100';
    const envelope = eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> hi over the socket', ts, channel: CHANNEL, event_ts: ts }, { eventId: 'EvSOCK1' });
    const ack = await slack.sendEnvelope('events_api', envelope);
    expect(ack.envelope_id).toBeTruthy();
    expect(await settled(bot.queue, 'slack-ev-EvSOCK1')).toBe('completed');
    expect(slack.botReplies(CHANNEL, ts).map((reply) => reply.text)).toEqual(['Echo: hi over the socket']);
  });

  it('answers a redelivered envelope only once', async () => {
    const ts = '1700000201.000100';
    const envelope = eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> once please', ts, channel: CHANNEL, event_ts: ts }, { eventId: 'EvSOCK2' });
    await slack.sendEnvelope('events_api', envelope);
    await slack.sendEnvelope('events_api', envelope, { retryAttempt: 1, retryReason: 'timeout' });
    await settled(bot.queue, 'slack-ev-EvSOCK2');
    expect(slack.botReplies(CHANNEL, ts)).toHaveLength(1);
  });

  it('acks a renamed slash command and posts the answer in the channel', async () => {
    const payload = {
      command: '/hf-ask',
      text: 'what is a socket?',
      user_id: 'U2',
      user_name: 'grace',
      channel_id: CHANNEL,
      channel_name: 'general',
      team_id: 'T1',
      trigger_id: '777.888',
      response_url: slack.responseUrl('socket-ask'),
      api_app_id: 'A1',
    };
    const ack = await slack.sendEnvelope('slash_commands', payload);
    expect(ack.envelope_id).toBeTruthy();
    expect(await settled(bot.queue, 'slack-cmd-777.888')).toBe('completed');
    expect(slack.messages(CHANNEL).some((message) => message.text.endsWith('Echo: what is a socket?'))).toBe(true);
  });

  it('keeps answering after Slack asks the client to reconnect', async () => {
    await slack.disconnectClients();
    await slack.socketConnected();
    const ts = '1700000202.000100';
    await slack.sendEnvelope('events_api', eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> still there?', ts, channel: CHANNEL, event_ts: ts }, { eventId: 'EvSOCK3' }));
    await settled(bot.queue, 'slack-ev-EvSOCK3');
    expect(slack.botReplies(CHANNEL, ts).map((reply) => reply.text)).toEqual(['Echo: still there?']);
  });
});
