import { describe, expect, it } from 'vitest';
import type { Participation } from '../../src/conversation/participation.ts';
import { Intake, NotQueuedError, type IntakeDeps } from '../../src/intake.ts';
import type { NewChatJob } from '../../src/jobs/chat-job.ts';
import { createLogger } from '../../src/logger.ts';

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

/** In-memory deps whose queue add waits until the test lets it go, so the test sees what went out beside it. */
function intakeWith(addFails = false) {
  const sent: string[] = [];
  let letAddGo: () => void = () => undefined;
  const added = new Promise<void>((resolve) => (letAddGo = resolve));
  const deps: IntakeDeps = {
    policy: { maxInputChars: 1000, allowedChannels: new Set() },
    queue: {
      claim: async () => 'new',
      refuse: async () => undefined,
      release: async (id) => void sent.push(`release ${id}`),
      enqueue: async (job) => {
        sent.push(`add ${job.id}`);
        await added;
        if (addFails) throw new Error('Redis went away');
      },
    },
    limiter: undefined,
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
    const { intake, sent, letAddGo } = intakeWith(true);
    const verdict = intake.submit(mention);
    letAddGo();
    await expect(verdict).rejects.toBeInstanceOf(NotQueuedError);
    expect(sent).toContain('release slack-ev-1');
  });
});
