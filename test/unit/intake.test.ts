import { describe, expect, it } from 'vitest';
import type { Participation } from '../../src/conversation/participation.ts';
import { Intake, NotQueuedError, type IntakeDeps } from '../../src/intake.ts';
import type { NewChatJob } from '../../src/jobs/chat-job.ts';
import { UserRateLimiter } from '../../src/limits/user-rate.ts';
import { createLogger } from '../../src/logger.ts';
import { keyspace } from '../../src/queue/redis.ts';

const mention: NewChatJob = {
  v: 1,
  id: 'slack-ev-1',
  platform: 'slack',
  kind: 'mention',
  workspaceId: 'T1',
  channelId: 'C1',
  threadId: '1700000000.000100',
  userId: 'U1',
  messageId: '1700000000.000100',
  text: 'hello',
  receivedAt: 0,
  reply: { channelId: 'C1', threadId: '1700000000.000100' },
};

/**
 * In-memory deps whose queue add waits until the test lets it go, so the test sees what went out
 * beside it; `overrides` replace the policy, the limiter or the claim.
 */
function intakeWith(options: { addFails?: boolean; overrides?: Partial<Pick<IntakeDeps, 'policy' | 'limiter'>> & { claim?: IntakeDeps['queue']['claim'] } } = {}) {
  const { addFails = false, overrides = {} } = options;
  const sent: string[] = [];
  let letAddGo: () => void = () => undefined;
  const added = new Promise<void>((resolve) => (letAddGo = resolve));
  const deps: IntakeDeps = {
    policy: overrides.policy ?? { maxInputChars: 1000, allowedChannels: new Set() },
    queue: {
      claim: overrides.claim ?? (async () => ({ claim: 'new' })),
      refuse: async () => undefined,
      release: async (id) => void sent.push(`release ${id}`),
      enqueue: async (job) => {
        sent.push(`add ${job.id}`);
        await added;
        if (addFails) throw new Error('Redis went away');
      },
    },
    limiter: overrides.limiter,
    participation: { mark: async (conversation: string) => void sent.push(`mark ${conversation}`) } as unknown as Participation,
    sentiment: {
      fromChat: async (job) => void sent.push(`classify ${job.id}`),
      observe: async () => undefined,
    },
    logger: createLogger({ level: 'silent' }),
  };
  return { intake: new Intake(deps), sent, letAddGo };
}

describe('Intake', () => {
  it('sends the participation mark and the sentiment job beside the queue add, not after it', async () => {
    const { intake, sent, letAddGo } = intakeWith();
    const verdict = intake.submit(mention);
    await new Promise((resolve) => setImmediate(resolve));
    // The add has not come back, and the other two are already out.
    expect(sent).toEqual(['mark slack:T1:C1:1700000000.000100', 'classify slack-ev-1', 'add slack-ev-1']);
    letAddGo();
    await expect(verdict).resolves.toEqual({ status: 'queued' });
  });

  it('answers "not queued" and releases the claim when the add fails, whatever went out beside it', async () => {
    const { intake, sent, letAddGo } = intakeWith({ addFails: true });
    const verdict = intake.submit(mention);
    letAddGo();
    await expect(verdict).rejects.toBeInstanceOf(NotQueuedError);
    expect(sent).toContain('release slack-ev-1');
  });

  it('counts the message against its sender in the claim itself, and a refused one not at all', async () => {
    const counted: Array<string | undefined> = [];
    const { intake } = intakeWith({
      overrides: {
        policy: { maxInputChars: 10, allowedChannels: new Set() },
        limiter: new UserRateLimiter(keyspace('t'), { max: 2, windowSeconds: 60 }),
        claim: async (_id, counter) => {
          counted.push(counter?.key);
          return { claim: 'new', count: 3 };
        },
      },
    });
    // The third message in the window, counted by its claim: refused with the window's one notice.
    await expect(intake.submit(mention)).resolves.toMatchObject({ status: 'rejected', notice: { kind: 'user_rate_limited' } });
    // Too long for the policy: claimed without a count.
    await expect(intake.submit({ ...mention, id: 'slack-ev-2', text: 'far too long for ten' })).resolves.toMatchObject({ notice: { kind: 'input_too_long' } });
    expect(counted).toEqual([expect.stringMatching(/^t:rate:slack:U1:\d+$/), undefined]);
  });
});
