import { describe, expect, it } from 'vitest';
import { normalizeAskCommand, normalizeDirectMessage, normalizeMention, parseSlashCommand } from '../../adapters/slack/normalize.ts';
import { chatJobSchema } from '../../src/jobs/chat-job.ts';

const envelope = { teamId: 'T1', eventId: 'Ev1', botUserId: 'UBOT' };

describe('normalizeMention', () => {
  it('answers a top-level mention in its own thread, without the bot mention', () => {
    const job = normalizeMention({ type: 'app_mention', user: 'U1', text: '<@UBOT> hello', ts: '10.1', channel: 'C1' }, envelope);
    expect(job).toMatchObject({ id: 'slack-ev-Ev1', kind: 'mention', text: 'hello', threadId: '10.1', reply: { channelId: 'C1', threadId: '10.1' }, fetchThreadContext: false });
    expect(chatJobSchema.safeParse(job).success).toBe(true);
  });

  it('uses the thread it was mentioned in, and reads it for context', () => {
    const job = normalizeMention({ type: 'app_mention', user: 'U1', text: '<@UBOT> and?', ts: '12.1', thread_ts: '10.1', channel: 'C1' }, envelope);
    expect(job).toMatchObject({ threadId: '10.1', messageId: '12.1', fetchThreadContext: true });
  });

  it('ignores bots, edits and malformed events', () => {
    expect(normalizeMention({ type: 'app_mention', user: 'U2', bot_id: 'B2', text: 'x', ts: '1', channel: 'C1' }, envelope)).toBeUndefined();
    expect(normalizeMention({ type: 'app_mention', user: 'U1', subtype: 'message_changed', text: 'x', ts: '1', channel: 'C1' }, envelope)).toBeUndefined();
    expect(normalizeMention({ type: 'app_mention', text: 42 }, envelope)).toBeUndefined();
  });
});

describe('normalizeDirectMessage', () => {
  it('answers a DM in the DM', () => {
    const job = normalizeDirectMessage({ type: 'message', channel_type: 'im', user: 'U1', text: 'hi', ts: '5.5', channel: 'D1' }, envelope);
    expect(job).toMatchObject({ kind: 'dm', channelId: 'D1', threadId: undefined, text: 'hi' });
  });

  it('ignores its own messages, other bots, edits, deletions and channel messages', () => {
    const base = { type: 'message', channel_type: 'im', text: 'x', ts: '1', channel: 'D1' };
    expect(normalizeDirectMessage({ ...base, user: 'UBOT' }, envelope)).toBeUndefined();
    expect(normalizeDirectMessage({ ...base, user: 'U2', bot_id: 'B2' }, envelope)).toBeUndefined();
    expect(normalizeDirectMessage({ ...base, user: 'U1', subtype: 'message_changed' }, envelope)).toBeUndefined();
    expect(normalizeDirectMessage({ ...base, subtype: 'message_deleted' }, envelope)).toBeUndefined();
    expect(normalizeDirectMessage({ ...base, user: 'U1', channel_type: 'channel' }, envelope)).toBeUndefined();
  });
});

describe('slash commands', () => {
  const payload = { command: '/ask', text: 'why?', user_id: 'U1', channel_id: 'C1', team_id: 'T1', trigger_id: '123.456', response_url: 'https://hooks.slack.com/commands/x' };

  it('turns /ask in a channel into a job with its own conversation', () => {
    const job = normalizeAskCommand(parseSlashCommand(payload)!);
    expect(job).toMatchObject({ id: 'slack-cmd-123.456', kind: 'command', threadId: '123.456', text: 'why?', reply: { channelId: 'C1', via: { responseUrl: payload.response_url } } });
  });

  it('continues the DM conversation when /ask is used in a DM', () => {
    expect(normalizeAskCommand(parseSlashCommand({ ...payload, channel_id: 'D9' })!).threadId).toBeUndefined();
  });

  it('rejects a payload without the fields Slack always sends', () => {
    expect(parseSlashCommand({ command: '/ask' })).toBeUndefined();
  });
});
