import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { conversationKey, type NewChatJob } from '../../src/jobs/chat-job.ts';
import type { Logger } from '../../src/logger.ts';
import type { GatewayContext } from '../../src/platform.ts';
import { AgentSessions } from './agent-sessions.ts';
import { parseFeedbackValue } from './feedback.ts';
import type { SlackSettings } from './settings.ts';

const threadStarted = z.object({
  assistant_thread: z.object({
    user_id: z.string().min(1),
    channel_id: z.string().min(1),
    thread_ts: z.string().min(1),
    context: z.object({ channel_id: z.string().min(1).optional(), team_id: z.string().optional() }).default({}),
  }),
});

const sessionStopped = z.object({
  channel: z.string().min(1),
  thread_ts: z.string().min(1),
  user: z.string().min(1),
  streaming_message_ts: z.array(z.string()).default([]),
});

const feedbackAction = z.object({ type: z.literal('feedback_buttons'), value: z.string() });

const RATING_WORDS = { up: '👍', down: '👎' } as const;

/**
 * Slack's agent surface on the gateway side: the agent view's threads (suggested prompts, the
 * channel the person opened it from, told to the model), the stop button of agent sessions, and
 * the feedback buttons under answers.
 */
export function agentView(deps: { context: GatewayContext; slack: SlackSettings; client: WebClient; logger: Logger }) {
  const { context, slack, client, logger } = deps;
  const { redis, keys, controls, channelSettings } = context;
  const sessions = new AgentSessions(client, logger);
  const contextKey = (channel: string, threadTs: string) => keys.platform('slack', `agent-context:${channel}:${threadTs}`);
  const ttlSeconds = context.config.context.ttlSeconds;

  const rememberContext = async (channel: string, threadTs: string, contextChannel: string | undefined) => {
    if (contextChannel && contextChannel !== channel) await redis.set(contextKey(channel, threadTs), contextChannel, 'EX', ttlSeconds);
    else await redis.del(contextKey(channel, threadTs));
  };

  return {
    /** Someone opened the agent view: its prompts (the channel's own, from the settings file, or the defaults), and where they came from. */
    async threadStarted(event: unknown, teamId: string | undefined): Promise<void> {
      const parsed = threadStarted.safeParse(event);
      if (!parsed.success) return;
      const thread = parsed.data.assistant_thread;
      const workspaceId = thread.context.team_id ?? teamId ?? '';
      await rememberContext(thread.channel_id, thread.thread_ts, thread.context.channel_id);
      const prompts =
        (thread.context.channel_id && channelSettings.suggestedPrompts({ platform: 'slack', workspaceId, channelId: thread.context.channel_id })) ||
        slack.suggestedPrompts;
      if (prompts.length === 0) return;
      // Not awaited: the event is acknowledged once its state is kept; a prompt Slack refuses is only logged.
      void client.assistant.threads
        .setSuggestedPrompts({ channel_id: thread.channel_id, thread_ts: thread.thread_ts, title: 'Try asking', prompts: prompts.slice(0, 4) })
        .catch((err: unknown) => logger.warn({ err }, 'could not set the suggested prompts'));
    },

    /** The person moved to another channel with the agent view open. */
    async contextChanged(event: unknown): Promise<void> {
      const parsed = threadStarted.safeParse(event);
      if (!parsed.success) return;
      const thread = parsed.data.assistant_thread;
      await rememberContext(thread.channel_id, thread.thread_ts, thread.context.channel_id);
    },

    /** A DM in an agent-view thread opened from a channel: the model is told which channel. */
    async withContextNote(job: NewChatJob): Promise<NewChatJob> {
      if (!job.threadId) return job;
      const contextChannel = await redis.get(contextKey(job.channelId, job.threadId));
      return contextChannel ? { ...job, systemNote: `The person opened this chat from the Slack channel <#${contextChannel}>.` } : job;
    },

    /**
     * The stop button of an agent session: whatever answers the thread is stopped (running in any
     * worker, or still waiting), and the session leaves `processing` at once.
     */
    async sessionStopped(event: unknown, teamId: string | undefined): Promise<void> {
      const parsed = sessionStopped.safeParse(event);
      if (!parsed.success || !teamId) return;
      const { channel, thread_ts: threadTs, user } = parsed.data;
      const jobId = await controls.stopConversation(conversationKey({ platform: 'slack', workspaceId: teamId, channelId: channel, threadId: threadTs }));
      logger.info({ jobId, user, channel }, 'agent session stopped by a person');
      void sessions.active(channel, threadTs);
    },

    /** A feedback click, already acked: recorded once per person and answer, and the person told. */
    async feedback(action: unknown, userId: string, respond: RespondFn): Promise<void> {
      const parsed = feedbackAction.safeParse(action);
      const vote = parsed.success ? parseFeedbackValue(parsed.data.value) : undefined;
      if (!vote) return;
      const outcome = await controls.rate({ answerId: vote.answerId, userId, rating: vote.rating });
      const text =
        outcome === 'recorded'
          ? `Thanks, your ${RATING_WORDS[vote.rating]} was recorded.`
          : outcome === 'already_recorded'
            ? 'You have already rated this answer.'
            : 'This answer is too old to rate.';
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    },
  };
}
