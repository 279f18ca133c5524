import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chatJobSchema, CHAT_JOB_VERSION } from '../../src/jobs/chat-job.ts';
import { createLogger } from '../../src/logger.ts';

const base = { v: CHAT_JOB_VERSION, id: 'chat-1', platform: 'chat', kind: 'command', workspaceId: 'W1', channelId: 'C1', userId: 'U1', text: 'hi', receivedAt: 1 } as const;

describe('a job’s reply target', () => {
  it('carries the platform’s reply handle opaquely, as `via`', () => {
    const job = chatJobSchema.parse({ ...base, reply: { channelId: 'C1', via: { responseUrl: 'https://hooks.example/r/1' } } });
    expect(job.reply).toEqual({ channelId: 'C1', via: { responseUrl: 'https://hooks.example/r/1' } });
    expect(chatJobSchema.parse({ ...base, reply: { channelId: 'C1', threadId: 'T1' } }).reply).toEqual({ channelId: 'C1', threadId: 'T1' });
  });

  it('reads a job written before `via`, with the handle beside channelId, the same way', () => {
    const job = chatJobSchema.parse({ ...base, reply: { channelId: 'C1', interactionToken: 'tok-123' } });
    expect(job.reply).toEqual({ channelId: 'C1', via: { interactionToken: 'tok-123' } });
  });

  it('is redacted from logs', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) });
    const job = chatJobSchema.parse({ ...base, reply: { channelId: 'C1', via: { interactionToken: 'tok-secret-456' } } });
    createLogger({ level: 'info' }, sink).info({ job }, 'took a job');
    expect(lines.join('')).not.toContain('tok-secret-456');
    expect(lines.join('')).toContain('"channelId":"C1"');
  });
});

describe('a job’s progress', () => {
  it('keeps the surface’s own record of the reply, and reads jobs written before it', () => {
    const surface = { stream: { ts: '1.000100', acked: 12, hash: 'h' } };
    const job = chatJobSchema.parse({ ...base, reply: { channelId: 'C1' }, progress: { messageIds: ['1.000100'], surface } });
    expect(job.progress.surface).toEqual(surface);
    const older = chatJobSchema.parse({ ...base, reply: { channelId: 'C1' }, progress: { messageIds: ['1.000100'], loadingWaitMs: 0, rateLimitWaitMs: 0 } });
    expect(older.progress).toEqual({ messageIds: ['1.000100'], loadingWaitMs: 0, rateLimitWaitMs: 0 });
  });
});
