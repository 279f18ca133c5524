import { describe, expect, it } from 'vitest';
import type { ChannelRef, ChannelSettings, EffectiveSettings } from '../../src/channels/settings.ts';
import type { CommandInvocation, CommandServices } from '../../src/commands/command.ts';
import { COMMANDS, CommandRunner } from '../../src/commands/registry.ts';
import { conversationKey } from '../../src/jobs/chat-job.ts';
import type { SentimentSummary } from '../../src/sentiment/store.ts';
import { channelScope } from '../../src/sentiment/store.ts';

/** The core's stores, in memory: what the commands read and change is observable. */
function services(admins: Record<string, string[]> = {}) {
  const cleared: string[] = [];
  const summaries = new Map<string, SentimentSummary>();
  const stored = new Map<string, ChannelSettings>();
  const key = (ref: ChannelRef) => `${ref.platform}:${ref.workspaceId}:${ref.channelId}`;
  const resolve = async (ref: ChannelRef): Promise<EffectiveSettings> => {
    const settings = stored.get(key(ref)) ?? {};
    return {
      model: settings.model ?? 'org/default',
      systemPrompt: settings.systemPrompt ?? 'default prompt',
      answerWithoutMention: settings.answerWithoutMention ?? false,
      customModel: settings.model !== undefined,
      pinnedByFile: false,
    };
  };
  const deps: CommandServices = {
    history: { clear: async (conversation) => void cleared.push(conversation) },
    sentiment: { read: async (scope) => summaries.get(scope) },
    feedback: { recent: async (channel) => (channel.channelId === 'C1' ? { up: 2, down: 1 } : { up: 0, down: 0 }) },
    channelSettings: {
      resolve,
      update: async (ref, patch) => {
        stored.set(key(ref), { ...stored.get(key(ref)), ...patch });
        return resolve(ref);
      },
    },
    admins: new Map(Object.entries(admins).map(([platform, ids]) => [platform, new Set(ids)])),
  };
  return { deps, cleared, summaries, stored };
}

const summary = (label: SentimentSummary['label']): SentimentSummary => ({
  label,
  score: label === 'negative' ? -0.5 : 0.5,
  trend: 'steady',
  count: 2,
  counts: { positive: label === 'positive' ? 2 : 0, neutral: 0, negative: label === 'negative' ? 2 : 0 },
  lastClassifier: 'lexicon',
  records: [],
  updatedAt: 0,
});

function invocation(fields: Partial<CommandInvocation> = {}): CommandInvocation & { platformAsked: () => number } {
  let asked = 0;
  return {
    platform: 'chat',
    workspaceId: 'W1',
    channelId: 'C1',
    isDm: false,
    userId: 'U1',
    argument: '',
    isPlatformAdmin: async () => {
      asked += 1;
      return false;
    },
    sentimentTag: (label) => `[${label}]`,
    platformAsked: () => asked,
    ...fields,
  };
}

describe('the command layer', () => {
  it('has one file per command, and nothing else answers', async () => {
    expect(COMMANDS.map((command) => command.name).sort()).toEqual(['model', 'prompt', 'reset', 'sentiment']);
    await expect(new CommandRunner(services().deps).run('ask', invocation())).rejects.toThrow(/no command named ask/);
  });

  it('/reset forgets a direct conversation, and says what it did where it was run', async () => {
    const { deps, cleared } = services();
    const runner = new CommandRunner(deps);
    expect(await runner.run('reset', invocation({ channelId: 'D1', isDm: true }))).toMatch(/forgotten our conversation/);
    expect(cleared).toEqual([conversationKey({ platform: 'chat', workspaceId: 'W1', channelId: 'D1' })]);

    const inChannel = await runner.run('reset', invocation({ channelId: 'C1', threadId: 'T1' }));
    expect(inChannel).not.toMatch(/forgotten/);
    expect(inChannel).toMatch(/own conversation/);
    expect(cleared).toHaveLength(1);
  });

  it('/sentiment reports the thread it was typed in, else the DM, else the channel', async () => {
    const { deps, summaries } = services();
    summaries.set(conversationKey({ platform: 'chat', workspaceId: 'W1', channelId: 'C1', threadId: 'T1' }), summary('negative'));
    summaries.set(conversationKey({ platform: 'chat', workspaceId: 'W1', channelId: 'D1' }), summary('positive'));
    summaries.set(channelScope('chat', 'W1', 'C1'), summary('positive'));
    const runner = new CommandRunner(deps);
    expect(await runner.run('sentiment', invocation({ threadId: 'T1' }))).toMatch(/^\[negative\] \*\*negative\*\* in this thread/);
    expect(await runner.run('sentiment', invocation({ channelId: 'D1', isDm: true }))).toMatch(/^\[positive\] \*\*positive\*\* in our conversation/);
    expect(await runner.run('sentiment', invocation())).toMatch(/^\[positive\] \*\*positive\*\* in this channel/);
    expect(await runner.run('sentiment', invocation({ channelId: 'C2' }))).toBe(
      'No messages have been classified in this channel yet.\nNo feedback on my answers here in the last 7 days.',
    );
    expect(await runner.run('sentiment', invocation())).toMatch(/\nFeedback on my answers here, last 7 days: 👍 2 · 👎 1$/);
  });

  it('/model and /prompt show the settings to anyone and change them for admins only', async () => {
    const { deps, stored } = services({ chat: ['U-ADMIN'] });
    const runner = new CommandRunner(deps);
    const stranger = invocation({ argument: 'org/other' });
    expect(await runner.run('model', invocation())).toMatch(/Model: `org\/default` \(the default\)/);
    expect(await runner.run('model', stranger)).toMatch(/^Only workspace admins/);
    expect(stranger.platformAsked()).toBe(1);
    expect(stored.size).toBe(0);

    // ADMIN_USER_IDS is enough: the platform is not asked.
    const admin = invocation({ userId: 'U-ADMIN', argument: 'org/other' });
    expect(await runner.run('model', admin)).toMatch(/^This channel now uses `org\/other`/);
    expect(admin.platformAsked()).toBe(0);
    // A platform admin (workspace admin, Manage Server…) may too.
    const owner = invocation({ argument: 'Be brief.', isPlatformAdmin: async () => true });
    expect(await runner.run('prompt', owner)).toMatch(/^System prompt updated\.\nModel: `org\/other`\n/);
    expect(stored.get('chat:W1:C1')).toEqual({ model: 'org/other', systemPrompt: 'Be brief.' });
    expect(await runner.run('model', invocation({ userId: 'U-ADMIN', argument: 'not a model' }))).toMatch(/is not a model id/);
  });
});
