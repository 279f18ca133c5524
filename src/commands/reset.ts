import { conversationKey } from '../jobs/chat-job.ts';
import type { Command } from './command.ts';

/** `/reset`: forgets the stored history of a direct conversation; elsewhere says what to do instead. */
export const resetCommand: Command = {
  name: 'reset',
  description: 'Forget our DM conversation',
  async run({ services, platform, workspaceId, channelId, isDm }) {
    if (!isDm) {
      // Threads and reply chains are read from the platform: each is its own conversation already.
      return 'Here each thread or reply chain is its own conversation: mention me to start a new one. /reset forgets our DM.';
    }
    await services.history.clear(conversationKey({ platform, workspaceId, channelId }));
    return 'Done: I’ve forgotten our conversation. The next message starts afresh.';
  },
};
