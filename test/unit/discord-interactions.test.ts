import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { answerButtonId, answerButtons, parseAnswerButton } from '../../adapters/discord/components.ts';
import { publicKeyFromHex, validSignature } from '../../adapters/discord/http-interactions.ts';
import { regenerateJob } from '../../adapters/discord/interactions.ts';
import { normalizeMessage } from '../../adapters/discord/normalize.ts';
import { chatJobSchema } from '../../src/jobs/chat-job.ts';

const SNOWFLAKE = '1234567890123456789';
const BOT = '100000000000000001';

describe('answer buttons (Discord)', () => {
  it('round-trips the action, the job and the asker, within 100 characters for the longest ids', () => {
    const longest = { action: 'regen' as const, jobId: `discord-msg-${SNOWFLAKE}.r${SNOWFLAKE}`, askerId: SNOWFLAKE };
    const id = answerButtonId(longest);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(parseAnswerButton(id)).toEqual(longest);
    for (const bad of ['hfbot:delete:job:1', 'hfbot:stop:job', 'other:stop:job:1', 'hfbot:stop:job with space:1']) expect(parseAnswerButton(bad)).toBeUndefined();
  });

  it('shows Stop while streaming, Regenerate and 👍 / 👎 when final', () => {
    const ids = (state: 'streaming' | 'final') => answerButtons(state, 'job-1', SNOWFLAKE)[0]!.components.map((button) => ('custom_id' in button ? button.custom_id : ''));
    expect(ids('streaming')).toEqual([`hfbot:stop:job-1:${SNOWFLAKE}`]);
    expect(ids('final')).toEqual([`hfbot:regen:job-1:${SNOWFLAKE}`, `hfbot:up:job-1:${SNOWFLAKE}`, `hfbot:down:job-1:${SNOWFLAKE}`]);
  });
});

describe('regenerateJob', () => {
  const base = { v: 1, platform: 'discord', kind: 'command', workspaceId: 'G', channelId: 'C', userId: 'U', text: 'q?' } as const;
  const now = 1_000_000_000;

  it('renders a fresh interaction answer again with its own token, into its messages, replacing its turn', () => {
    const answered = chatJobSchema.parse({ ...base, id: 'discord-int-1', receivedAt: now - 60_000, reply: { channelId: 'C', via: { interactionToken: 'own' } }, progress: { messageIds: ['@original', '55'] } });
    const job = regenerateJob(answered, { id: '9', token: 'click' }, now);
    expect(job).toMatchObject({ id: 'discord-int-1.r9', replaces: 'discord-int-1', receivedAt: now, reply: { via: { interactionToken: 'own' } }, progress: { messageIds: ['@original', '55'] } });
  });

  it('uses the click’s own token once the answer’s token is near its 15 minutes, and names every regenerate by the first turn', () => {
    const answered = chatJobSchema.parse({ ...base, id: 'discord-int-1.r5', receivedAt: now - 20 * 60_000, reply: { channelId: 'C', via: { interactionToken: 'own' } }, progress: { messageIds: ['@original', '55'] } });
    const job = regenerateJob(answered, { id: '9', token: 'click' }, now);
    expect(job).toMatchObject({ id: 'discord-int-1.r9', replaces: 'discord-int-1.r5', reply: { via: { interactionToken: 'click' } }, progress: { messageIds: ['@original'] } });
  });

  it('keeps a channel answer’s messages, whatever its age', () => {
    const answered = chatJobSchema.parse({ ...base, kind: 'mention', id: 'discord-msg-1', receivedAt: 0, reply: { channelId: 'C', threadId: '1' }, progress: { messageIds: ['77'] } });
    expect(regenerateJob(answered, { id: '9', token: 'click' }, now)).toMatchObject({ reply: { channelId: 'C', threadId: '1' }, progress: { messageIds: ['77'] } });
  });
});

describe('HTTP interaction signatures', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const key = publicKeyFromHex(der.subarray(der.length - 32).toString('hex'));
  const body = Buffer.from('{"type":1}');
  const timestamp = '1700000000';
  const signature = sign(null, Buffer.concat([Buffer.from(timestamp), body]), privateKey).toString('hex');

  it('accepts Discord’s signature over the timestamp and the raw body', () => {
    expect(validSignature(key, signature, timestamp, body)).toBe(true);
  });

  it('refuses another key, another body or timestamp, and malformed or missing headers', () => {
    const forged = sign(null, Buffer.concat([Buffer.from(timestamp), body]), generateKeyPairSync('ed25519').privateKey).toString('hex');
    expect(validSignature(key, forged, timestamp, body)).toBe(false);
    expect(validSignature(key, signature, timestamp, Buffer.from('{"type":2}'))).toBe(false);
    expect(validSignature(key, signature, '1700000001', body)).toBe(false);
    expect(validSignature(key, 'zz', timestamp, body)).toBe(false);
    expect(validSignature(key, undefined, timestamp, body)).toBe(false);
    expect(validSignature(key, signature, undefined, body)).toBe(false);
  });
});

describe('normalizeMessage in a thread', () => {
  const message = {
    id: '500000000000000001',
    channelId: '600000000000000001',
    guildId: '200000000000000001',
    author: { id: '400000000000000001', username: 'alice', bot: false },
    content: `<@${BOT}> what next?`,
    system: false,
    webhookId: null,
    mentionsBot: true,
    referenceId: null,
    chainRootId: null,
    repliesToBot: false,
  };

  it('makes the thread the conversation, read back from the thread', () => {
    expect(normalizeMessage({ ...message, inThread: true }, BOT)).toMatchObject({
      threadId: '600000000000000001',
      reply: { channelId: '600000000000000001', threadId: '500000000000000001' },
      fetchThreadContext: true,
    });
  });

  it('keeps reply chains outside threads', () => {
    expect(normalizeMessage({ ...message, inThread: false }, BOT)).toMatchObject({ threadId: '500000000000000001', fetchThreadContext: false });
  });
});
