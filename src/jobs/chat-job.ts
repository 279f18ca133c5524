import { z } from 'zod';
import { attachmentSchema } from '../attachments/attachment.ts';

/**
 * The one normalized unit of work every inbound adapter produces. Plain JSON, versioned, so a
 * job written by an older gateway is still read (or rejected clearly) by a newer worker.
 */
export const CHAT_JOB_VERSION = 1;

export const chatKinds = ['mention', 'dm', 'command'] as const;
export type ChatKind = (typeof chatKinds)[number];

export interface ReplyTarget {
  /** Where the answer goes. */
  channelId: string;
  /** The thread, or the message to reply to; absent: top level. */
  threadId?: string | undefined;
  /**
   * How the platform lets any process answer this event (a webhook URL or token of a command):
   * opaque to the core, read and checked by the platform's adapter, redacted from logs.
   */
  via?: Record<string, string> | undefined;
}

const replyTargetSchema = z
  .looseObject({
    channelId: z.string().min(1),
    threadId: z.string().min(1).optional(),
    via: z.record(z.string(), z.string()).optional(),
  })
  // Jobs written before `via` existed kept these handles beside channelId: read them as `via`.
  .transform(({ channelId, threadId, via, ...legacy }): ReplyTarget => {
    const handles = { ...Object.fromEntries(Object.entries(legacy).filter((entry): entry is [string, string] => typeof entry[1] === 'string')), ...via };
    return { channelId, ...(threadId ? { threadId } : {}), ...(Object.keys(handles).length > 0 ? { via: handles } : {}) };
  });

/** What the worker has learned so far; kept in the job so a retried or resumed job continues. */
const progressSchema = z.object({
  /** Ids of the messages that carry the reply, in order. */
  messageIds: z.array(z.string()).default([]),
  /** Total time spent delayed by model cold starts, against HF_LOADING_MAX_WAIT_MS. */
  loadingWaitMs: z.number().nonnegative().default(0),
  /** Total time spent delayed by HF rate limits. */
  rateLimitWaitMs: z.number().nonnegative().default(0),
  /** The surface's own record of the reply (opaque to the core; absent in jobs written before it). */
  surface: z.record(z.string(), z.unknown()).optional(),
});
export type ChatProgress = z.infer<typeof progressSchema>;

export const chatJobSchema = z.object({
  v: z.literal(CHAT_JOB_VERSION),
  /** Stable id of the inbound event; also the BullMQ job id, so a redelivered event is one job. */
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  platform: z.string().min(1),
  kind: z.enum(chatKinds),
  workspaceId: z.string().min(1),
  channelId: z.string().min(1),
  /** The conversation's thread; absent for a DM or channel-level conversation. */
  threadId: z.string().min(1).optional(),
  userId: z.string().min(1),
  userName: z.string().optional(),
  /** The platform id of the user's message, when there is one. */
  messageId: z.string().min(1).optional(),
  /** The user's words with the bot's mention removed. */
  text: z.string(),
  receivedAt: z.number(),
  reply: replyTargetSchema,
  /** Seed the conversation's context from the platform (e.g. a mention late in a human thread). */
  fetchThreadContext: z.boolean().default(false),
  /** Files on the user's message, read by the worker (text inlined, images to vision models). */
  attachments: z.array(attachmentSchema).max(10).default([]),
  /** The job whose answer this one gives again (regenerate): its exchange in the history is replaced. */
  replaces: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  /** A short note for the model from the platform (e.g. the channel the person opened the chat from). */
  systemNote: z.string().max(500).optional(),
  progress: progressSchema.default({ messageIds: [], loadingWaitMs: 0, rateLimitWaitMs: 0 }),
});
export type ChatJob = z.infer<typeof chatJobSchema>;
export type NewChatJob = z.input<typeof chatJobSchema>;

/** The key one conversation's history and ordering hang on. */
export function conversationKey(job: { platform: string; workspaceId: string; channelId: string; threadId?: string | undefined }): string {
  return [job.platform, job.workspaceId, job.channelId, job.threadId ?? '-'].join(':');
}
