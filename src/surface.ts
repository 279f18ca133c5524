import type { Attachment } from './attachments/attachment.ts';
import type { ChatJob } from './jobs/chat-job.ts';
import type { ChatTurn } from './llm/hf-chat.ts';
import type { SentimentLabel } from './sentiment/labels.ts';
import type { SentimentSummary } from './sentiment/store.ts';

/**
 * One reply on a platform: one or more messages that together show `text`. Markdown in, the
 * platform's format out; long text split, broadcast mentions neutralized. Rendering the same text
 * twice is harmless, which is what lets a resumed job simply render again.
 */
export interface ReplyHandle {
  /** `end` says what the render is: the final answer (a surface may add rating buttons to it), a notice, a status. */
  render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void>;
  /** Platform API calls this reply has made so far (posts, edits, deletes). */
  readonly apiCalls: number;
  /**
   * What to show while the answer has not begun, for a reply that has no message yet and no sign
   * of its own meanwhile (Discord's typing, a native stream's status). The worker renders it as a
   * status only if the answer is slow to begin, so a quick answer is posted as itself.
   */
  readonly placeholder?: string | undefined;
}

/**
 * What a render shows. Final: the finished answer, or a notice (failed, stopped) in its place.
 * Intermediate: `status` for a passing status (thinking, warming up, retrying) rather than the
 * beginning of the answer; unset for the answer so far.
 */
export type ReplyEnd = 'answer' | 'notice' | 'status';

/** Messages to a user that are not part of an answer (shown privately where the platform allows). */
export type NoticeKind = 'user_rate_limited' | 'input_too_long' | 'empty_input' | 'channel_not_allowed';

export interface NoticeTarget {
  workspaceId: string;
  channelId: string;
  userId: string;
  threadId?: string | undefined;
  /** The platform's handle for answering the event privately (as in a job's `reply.via`). */
  via?: Record<string, string> | undefined;
}

/** A message on a platform, e.g. the root of a thread that carries its sentiment tag. */
export interface MessageRef {
  workspaceId: string;
  channelId: string;
  messageId: string;
}

export interface OpenReplyOptions {
  /**
   * An earlier attempt may have posted and died before saving the message's id: the surface
   * should adopt that message rather than post a second one.
   */
  mayHavePosted: boolean;
  /**
   * Keeps the surface's own record of the reply in the job (`progress.surface`, opaque to the core:
   * e.g. a native stream's id and how much text the platform acknowledged), so a resumed job
   * continues the same message. Awaited; the record replaces the previous one.
   */
  saveState?: (state: Record<string, unknown>) => Promise<void>;
}

/** The outbound seam, one per platform. The worker reaches a platform only through this. */
export interface Surface {
  readonly platform: string;
  /** Minimum time between two edits of one message, from the platform's rate limits. */
  readonly editIntervalMs: number;
  /**
   * Opens the reply for `job`: reuses the messages recorded in `job.progress.messageIds` (and its
   * own record in `job.progress.surface`) for a retried or resumed job; a new reply posts with its
   * first render. `saveMessageIds` is awaited after every new message so that a worker killed right
   * after posting is resumed in the same message.
   */
  openReply(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>, options?: OpenReplyOptions): Promise<ReplyHandle>;
  /** The conversation so far as seen on the platform, oldest first, without the job's own message. */
  conversationContext?(job: ChatJob): Promise<ChatTurn[]>;
  notice(target: NoticeTarget, kind: NoticeKind, detail: string): Promise<void>;
  /** Checks the credentials with the platform (a worker's readiness); rejects when they fail. */
  verify(): Promise<void>;
  /** Downloads a file attached to a user's message (with the platform's credentials where needed). */
  download?(attachment: Attachment, maxBytes: number): Promise<Buffer>;
  /** Shows a thread's sentiment on its root message: the previous tag removed, the new one added. */
  tagSentiment?(root: MessageRef, previous: SentimentLabel | undefined, next: SentimentLabel): Promise<void>;
  /**
   * A link that opens the thread on the platform, for the insights page; asked once when the
   * thread turns negative and stored, so the page never calls a platform.
   */
  threadLink?(root: MessageRef): Promise<string | undefined>;
  /** Posts one link to a thread that has turned negative into the alert channel. */
  alertNegative?(alertChannelId: string, root: MessageRef, summary: SentimentSummary): Promise<void>;
}

export class SurfaceRegistry {
  readonly #surfaces = new Map<string, Surface>();

  register(surface: Surface): void {
    this.#surfaces.set(surface.platform, surface);
  }

  get(platform: string): Surface | undefined {
    return this.#surfaces.get(platform);
  }

  get platforms(): string[] {
    return [...this.#surfaces.keys()];
  }

  get all(): Surface[] {
    return [...this.#surfaces.values()];
  }
}
