import { z } from 'zod';
import type { RedisConnection, Keyspace } from '../../src/queue/redis.ts';
import { sentimentLabels } from '../../src/sentiment/labels.ts';

export const PLAYGROUND_CHANNELS = ['general', 'dm'] as const;
export type PlaygroundChannel = (typeof PLAYGROUND_CHANNELS)[number];

export const playgroundMessageSchema = z.object({
  id: z.string(),
  channel: z.enum(PLAYGROUND_CHANNELS),
  /** The thread's root message id, for replies. */
  threadId: z.string().optional(),
  author: z.enum(['user', 'bot']),
  text: z.string(),
  at: z.number(),
  editedAt: z.number().optional(),
  /** The thread's sentiment tag, on root messages. */
  tag: z.enum(sentimentLabels).optional(),
  /** Shown only to the person it answers (notices). */
  ephemeral: z.boolean().optional(),
  /** Written by the offline demo model, not a real one. */
  demo: z.boolean().optional(),
  /** The job still writing this message (its answer is not final): the page offers to stop it. */
  answering: z.string().optional(),
  deleted: z.boolean().optional(),
});
export type PlaygroundMessage = z.infer<typeof playgroundMessageSchema>;

/** Most messages kept per channel or thread; the playground is for trying things, not an archive. */
const MAX_LISTED = 200;

/**
 * The playground's messages, in Redis like every other conversation, so a worker in another
 * process can stream into them. Every change is published; gateways relay it to open pages.
 */
export class PlaygroundStore {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #ttlSeconds: number;

  constructor(redis: RedisConnection, keys: Keyspace, ttlSeconds: number) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
  }

  /** The pub/sub channel carrying every change as a JSON message. */
  get eventsChannel(): string {
    return this.#keys.platform('playground', 'events');
  }

  async create(fields: Omit<PlaygroundMessage, 'id' | 'at'>): Promise<PlaygroundMessage> {
    const id = `m${await this.#redis.incr(this.#keys.platform('playground', 'next-id'))}`;
    const message: PlaygroundMessage = { ...fields, id, at: Date.now() };
    const list = message.threadId ? this.#keys.platform('playground', `thread:${message.threadId}`) : this.#keys.platform('playground', `channel:${message.channel}`);
    await this.#redis
      .multi()
      .set(this.#keys.platform('playground', `msg:${id}`), JSON.stringify(message), 'EX', this.#ttlSeconds)
      .rpush(list, id)
      .ltrim(list, -MAX_LISTED, -1)
      .expire(list, this.#ttlSeconds)
      .exec();
    await this.#publish(message);
    return message;
  }

  async update(id: string, patch: Partial<Pick<PlaygroundMessage, 'text' | 'tag' | 'deleted' | 'answering'>>): Promise<PlaygroundMessage | undefined> {
    const message = await this.get(id);
    if (!message) return undefined;
    const updated: PlaygroundMessage = { ...message, ...patch, ...(patch.text === undefined ? {} : { editedAt: Date.now() }) };
    await this.#redis.set(this.#keys.platform('playground', `msg:${id}`), JSON.stringify(updated), 'EX', this.#ttlSeconds);
    await this.#publish(updated);
    return updated;
  }

  async get(id: string): Promise<PlaygroundMessage | undefined> {
    const raw = await this.#redis.get(this.#keys.platform('playground', `msg:${id}`));
    const parsed = raw ? playgroundMessageSchema.safeParse(JSON.parse(raw)) : undefined;
    return parsed?.success ? parsed.data : undefined;
  }

  /** A channel's top-level messages, or a thread's root and replies, oldest first. */
  async list(channel: PlaygroundChannel, threadId?: string): Promise<PlaygroundMessage[]> {
    const key = threadId ? this.#keys.platform('playground', `thread:${threadId}`) : this.#keys.platform('playground', `channel:${channel}`);
    const ids = await this.#redis.lrange(key, 0, -1);
    const found = await Promise.all([...(threadId ? [threadId] : []), ...ids].map((id) => this.get(id)));
    return found.filter((message): message is PlaygroundMessage => message !== undefined && !message.deleted);
  }

  /** The replies' ids per root message: notices only one person sees are not replies. */
  async replies(channel: PlaygroundChannel, roots: PlaygroundMessage[]): Promise<Record<string, string[]>> {
    const replies = await Promise.all(
      roots.map(async (root) => [root.id, (await this.list(channel, root.id)).filter((message) => message.threadId && !message.ephemeral).map((message) => message.id)] as const),
    );
    return Object.fromEntries(replies.filter(([, ids]) => ids.length > 0));
  }

  async #publish(message: PlaygroundMessage): Promise<void> {
    await this.#redis.publish(this.eventsChannel, JSON.stringify(message));
  }
}
