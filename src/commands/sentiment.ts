import { conversationKey } from '../jobs/chat-job.ts';
import { describeSentiment } from '../sentiment/report.ts';
import { channelScope } from '../sentiment/store.ts';
import type { Command } from './command.ts';

/** `/sentiment`: how the thread it was typed in, the DM, or the channel is going. */
export const sentimentCommand: Command = {
  name: 'sentiment',
  description: 'How the conversation here is going: label, score, trend and counts (only you see it)',
  async run({ services, platform, workspaceId, channelId, threadId, isDm, sentimentTag }) {
    const [scope, where] = threadId
      ? [conversationKey({ platform, workspaceId, channelId, threadId }), 'this thread']
      : isDm
        ? [conversationKey({ platform, workspaceId, channelId }), 'our conversation']
        : [channelScope(platform, workspaceId, channelId), 'this channel'];
    return describeSentiment(where, await services.sentiment.read(scope), sentimentTag);
  },
};
