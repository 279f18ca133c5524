import type { WebClient } from '@slack/web-api';
import type { ChatJob } from '../../src/jobs/chat-job.ts';
import type { Logger } from '../../src/logger.ts';
import type { ReplyEnd, ReplyHandle } from '../../src/surface.ts';

/** Slack allows a session title of 200 characters. */
const TITLE_CHARS = 200;

/** A session's title from the question that opened it: one line, cut to Slack's limit. */
export function sessionTitle(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim() || 'Question';
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1)}…` : line;
}

/**
 * Slack agent sessions (`agents.sessions.setStatus`): a thread the bot answers in is `processing`
 * while an answer is on its way (Slack shows a stop button) and `active` once it is final, failed
 * or stopped. A status that cannot be set never holds up or fails an answer: it is logged and skipped.
 */
export class AgentSessions {
  readonly #client: WebClient;
  readonly #logger: Logger;

  constructor(client: WebClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** The question becomes the session's title when this creates it (Slack ignores the title for an existing session). */
  processing(job: ChatJob, threadTs: string): Promise<void> {
    return this.#set(job.reply.channelId, threadTs, 'processing', { title: sessionTitle(job.text), initiator_user_id: job.userId });
  }

  active(channel: string, threadTs: string): Promise<void> {
    return this.#set(channel, threadTs, 'active');
  }

  async #set(channel: string, threadTs: string, status: 'processing' | 'active', created: { title?: string; initiator_user_id?: string } = {}): Promise<void> {
    try {
      const result = await this.#client.agents.sessions.setStatus({ channel_id: channel, thread_ts: threadTs, status, ...created });
      const warning = (result as { warning?: string }).warning;
      if (warning) this.#logger.warn({ warning }, 'slack warns about the agent session');
    } catch (err) {
      this.#logger.debug({ err, status }, 'could not set the agent session status');
    }
  }
}

/**
 * A reply inside an agent session: the final render (answer, failure or stop) moves the session
 * out of `processing`, after the `processing` call has landed so the two cannot cross.
 */
export class SessionReply implements ReplyHandle {
  readonly #reply: ReplyHandle & { sessionEnded?: boolean };
  readonly #processing: Promise<void>;
  readonly #activate: () => Promise<void>;

  constructor(reply: ReplyHandle & { sessionEnded?: boolean }, processing: Promise<void>, activate: () => Promise<void>) {
    this.#reply = reply;
    this.#processing = processing;
    this.#activate = activate;
  }

  get apiCalls(): number {
    return this.#reply.apiCalls;
  }

  get placeholder(): string | undefined {
    return this.#reply.placeholder;
  }

  async render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void> {
    if (!final) return this.#reply.render(markdown, final, end);
    await this.#processing;
    try {
      await this.#reply.render(markdown, final, end);
    } finally {
      // A native stream's last call may have ended the session already.
      if (!this.#reply.sessionEnded) await this.#activate();
    }
  }
}
