import { z } from 'zod';
import type { Keyspace, RedisConnection } from '../queue/redis.ts';
import type { ChannelFileEntry } from './settings-file.ts';

/** What a channel can change about the bot. */
export const channelSettingsSchema = z.object({
  model: z.string().min(1).optional(),
  systemPrompt: z.string().min(1).max(8000).optional(),
  answerWithoutMention: z.boolean().optional(),
});
export type ChannelSettings = z.infer<typeof channelSettingsSchema>;

export interface ChannelRef {
  platform: string;
  workspaceId: string;
  channelId: string;
}

export interface EffectiveSettings {
  model: string;
  systemPrompt: string;
  answerWithoutMention: boolean;
  /** The model is not the deployment's default: answers say which model replied. */
  customModel: boolean;
  /** The settings file lists this channel: it wins, and commands cannot change it. */
  pinnedByFile: boolean;
}

export class PinnedByFileError extends Error {
  constructor() {
    super('This channel is configured in the settings file (CHANNEL_CONFIG_FILE), which wins; change it there.');
    this.name = 'PinnedByFileError';
  }
}

/**
 * Per-channel model, system prompt and mention policy: the settings file for the channels it lists
 * (it wins, so teams that keep config in git are never overridden), else what `/model` and
 * `/prompt` stored in Redis, else the environment's defaults.
 */
export class ChannelSettingsStore {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;
  readonly #defaults: { model: string; systemPrompt: string };
  readonly #file: ChannelFileEntry[];

  constructor(redis: RedisConnection, keys: Keyspace, defaults: { model: string; systemPrompt: string }, file: ChannelFileEntry[]) {
    this.#redis = redis;
    this.#keys = keys;
    this.#defaults = defaults;
    this.#file = file;
  }

  async resolve(ref: ChannelRef): Promise<EffectiveSettings> {
    const fromFile = this.#fromFile(ref);
    const stored = fromFile ? undefined : await this.#stored(ref);
    const settings = fromFile ?? stored ?? {};
    const model = settings.model ?? this.#defaults.model;
    return {
      model,
      systemPrompt: settings.systemPrompt ?? this.#defaults.systemPrompt,
      answerWithoutMention: settings.answerWithoutMention ?? false,
      customModel: model !== this.#defaults.model,
      pinnedByFile: fromFile !== undefined,
    };
  }

  /** Changes a channel's stored settings; `undefined` values go back to the default. */
  async update(ref: ChannelRef, patch: ChannelSettings): Promise<EffectiveSettings> {
    if (this.#fromFile(ref)) throw new PinnedByFileError();
    const merged: ChannelSettings = { ...(await this.#stored(ref)), ...patch };
    for (const key of Object.keys(patch) as Array<keyof ChannelSettings>) if (patch[key] === undefined) delete merged[key];
    await this.#redis.set(this.#key(ref), JSON.stringify(merged));
    return this.resolve(ref);
  }

  /** The prompts the settings file suggests for this channel (or its guild), if it sets any. */
  suggestedPrompts(ref: ChannelRef): Array<{ title: string; message: string }> | undefined {
    const forPlatform = this.#file.filter((entry) => entry.platform === ref.platform);
    const channel = forPlatform.find((entry) => entry.channel === ref.channelId);
    const guild = forPlatform.find((entry) => entry.guild === ref.workspaceId && entry.channel === undefined);
    return channel?.suggestedPrompts ?? guild?.suggestedPrompts;
  }

  #fromFile(ref: ChannelRef): ChannelSettings | undefined {
    const forPlatform = this.#file.filter((entry) => entry.platform === ref.platform);
    const guild = forPlatform.find((entry) => entry.guild === ref.workspaceId && entry.channel === undefined);
    const channel = forPlatform.find((entry) => entry.channel === ref.channelId);
    if (!guild && !channel) return undefined;
    const pick = ({ model, systemPrompt, answerWithoutMention }: ChannelFileEntry): ChannelSettings =>
      Object.fromEntries(Object.entries({ model, systemPrompt, answerWithoutMention }).filter(([, value]) => value !== undefined));
    return { ...(guild ? pick(guild) : {}), ...(channel ? pick(channel) : {}) };
  }

  async #stored(ref: ChannelRef): Promise<ChannelSettings | undefined> {
    const raw = await this.#redis.get(this.#key(ref));
    const parsed = raw ? channelSettingsSchema.safeParse(JSON.parse(raw)) : undefined;
    return parsed?.success ? parsed.data : undefined;
  }

  #key(ref: ChannelRef): string {
    return this.#keys.channelSettings(`${ref.platform}:${ref.workspaceId}:${ref.channelId}`);
  }
}
