import type { ChatJob } from '../../src/jobs/chat-job.ts';
import type { ChatTurn } from '../../src/llm/hf-chat.ts';
import type { SentimentLabel } from '../../src/sentiment/labels.ts';
import { ChunkedReply, type ReplyMessages } from '../../src/stream/chunked-reply.ts';
import type { MessageRef, NoticeKind, NoticeTarget, ReplyHandle, Surface } from '../../src/surface.ts';
import { splitMessage } from '../../src/text/split.ts';
import { PLAYGROUND_PATH } from './path.ts';
import { PLAYGROUND_CHANNELS, type PlaygroundChannel, type PlaygroundStore } from './store.ts';

/** The playground splits long answers the way the platform it imitates would. */
export const STYLE_MAX_CHARS = { slack: 3900, discord: 2000 } as const;
const PLACEHOLDER = '_Thinking…_';

export function asChannel(id: string): PlaygroundChannel {
  return PLAYGROUND_CHANNELS.find((channel) => channel === id) ?? 'general';
}

export interface PlaygroundSurfaceOptions {
  style: keyof typeof STYLE_MAX_CHARS;
  /** Answers come from the offline demo model: every bot message says so. */
  demo: boolean;
  editIntervalMs: number;
}

/** The playground's outbound side: bot messages in Redis, published to every open page. */
export class PlaygroundSurface implements Surface {
  readonly platform = 'playground';
  readonly editIntervalMs: number;
  readonly #store: PlaygroundStore;
  readonly #options: PlaygroundSurfaceOptions;

  constructor(store: PlaygroundStore, options: PlaygroundSurfaceOptions) {
    this.#store = store;
    this.#options = options;
    this.editIntervalMs = options.editIntervalMs;
  }

  async openReply(job: ChatJob, saveMessageIds: (ids: string[]) => Promise<void>): Promise<ReplyHandle> {
    const channel = asChannel(job.reply.channelId);
    const threadId = job.reply.threadId;
    let ids = job.progress.messageIds;
    const messages: ReplyMessages = {
      post: async (text) => (await this.#store.create({ channel, threadId, author: 'bot', text, demo: this.#options.demo, answering: job.id })).id,
      edit: async (id, text) => {
        await this.#store.update(id, { text });
      },
      remove: async (id) => {
        await this.#store.update(id, { deleted: true });
      },
    };
    const header = job.kind === 'command' ? `**${job.userName ?? 'you'}** asked: _${job.text.replace(/\s+/g, ' ').slice(0, 300)}_\n\n` : '';
    const max = STYLE_MAX_CHARS[this.#options.style];
    const toChunks = (markdown: string) => {
      const chunks = splitMessage(markdown, max - header.length);
      chunks[0] = header + (chunks[0] ?? '');
      return chunks;
    };
    const reply = new ChunkedReply(
      messages,
      toChunks,
      ids,
      async (next) => {
        ids = next;
        await saveMessageIds(next);
      },
      { placeholder: PLACEHOLDER },
    );
    return {
      get apiCalls() {
        return reply.apiCalls;
      },
      get placeholder() {
        return reply.placeholder;
      },
      render: async (markdown, final) => {
        await reply.render(markdown, final);
        // Final (answered, failed or stopped): nothing is left to stop.
        if (final) await Promise.all(ids.map((id) => this.#store.update(id, { answering: undefined })));
      },
    };
  }

  /** The thread so far, as on Slack: everything said before the job's message. */
  async conversationContext(job: ChatJob): Promise<ChatTurn[]> {
    if (!job.threadId) return [];
    const thread = await this.#store.list(asChannel(job.channelId), job.threadId);
    const before = thread.filter((message) => message.id !== job.messageId && message.at <= (thread.find((m) => m.id === job.messageId)?.at ?? Infinity));
    return before
      .filter((message) => !message.ephemeral)
      .map((message): ChatTurn => (message.author === 'bot' ? { role: 'assistant', content: message.text } : { role: 'user', content: `you: ${message.text}` }));
  }

  async notice(target: NoticeTarget, _kind: NoticeKind, detail: string): Promise<void> {
    await this.#store.create({ channel: asChannel(target.channelId), threadId: target.threadId, author: 'bot', text: detail, ephemeral: true });
  }

  async verify(): Promise<void> {}

  /** The playground page opened on the thread. */
  async threadLink(root: MessageRef): Promise<string> {
    return `${PLAYGROUND_PATH}/?thread=${encodeURIComponent(root.messageId)}`;
  }

  async tagSentiment(root: MessageRef, _previous: SentimentLabel | undefined, next: SentimentLabel): Promise<void> {
    await this.#store.update(root.messageId, { tag: next });
  }
}
