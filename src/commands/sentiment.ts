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
    const [summary, votes] = await Promise.all([services.sentiment.read(scope), services.feedback.recent({ platform, workspaceId, channelId })]);
    const feedback = votes.up + votes.down > 0 ? `Feedback on my answers here, last 7 days: 👍 ${votes.up} · 👎 ${votes.down}` : 'No feedback on my answers here in the last 7 days.';
    return `${describeSentiment(where, summary, sentimentTag)}\n${feedback}`;
  },
};
