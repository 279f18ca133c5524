import { setTimeout as sleep } from 'node:timers/promises';
import type { REST } from '@discordjs/rest';
import {
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  PermissionFlagsBits,
  Routes,
  type APIInteractionResponse,
} from 'discord-api-types/v10';
import { z } from 'zod';
import type { ChatJob, NewChatJob } from '../../src/jobs/chat-job.ts';
import type { GatewayContext } from '../../src/platform.ts';
import { ASK_COMMAND } from './commands.ts';
import { parseAnswerButton, type AnswerButton } from './components.ts';
import { NO_PINGS } from './format.ts';
import { DM_WORKSPACE, normalizeAskCommand } from './normalize.ts';
import { interactionTokenOf, type DiscordSettings } from './settings.ts';

const snowflake = z.string().regex(/^\d{1,20}$/);
const user = z.object({ id: snowflake, username: z.string() });
/** Thread channel types (announcement, public, private): a command typed there is in that thread. */
const THREAD_CHANNEL_TYPES = new Set([10, 11, 12]);

/** The parts of an interaction payload (gateway INTERACTION_CREATE or HTTP POST) the bot reads. */
const interactionSchema = z.object({
  id: snowflake,
  type: z.number().int(),
  token: z.string().min(1),
  guild_id: snowflake.optional(),
  channel_id: snowflake.optional(),
  channel: z.looseObject({ id: snowflake, type: z.number().int() }).optional(),
  member: z.object({ user, permissions: z.string().optional() }).optional(),
  user: user.optional(),
  data: z
    .looseObject({
      name: z.string().optional(),
      custom_id: z.string().max(100).optional(),
      options: z.array(z.looseObject({ name: z.string(), value: z.unknown().optional() })).optional(),
    })
    .optional(),
  message: z.looseObject({ id: snowflake }).optional(),
});
type InteractionPayload = z.infer<typeof interactionSchema>;

/** How long an interaction id is remembered, so one delivered both ways is handled once. */
const SEEN_TTL_SECONDS = 15 * 60;
/** An answer given through an interaction can be edited with that interaction's token for 15 min; keep a margin. */
const OWN_TOKEN_MAX_AGE_MS = 10 * 60_000;

const TELL_ATTEMPTS = 3;
const TELL_RETRY_MS = 500;

/** The first answer to an interaction, and what to do once it has been sent. */
export interface InteractionReply {
  response: APIInteractionResponse;
  after?: () => Promise<void>;
}

/** A reply, with the interaction it answers (its callback route needs both). */
export interface HandledInteraction extends InteractionReply {
  id: string;
  token: string;
}

const ephemeral = (content: string): APIInteractionResponse => ({
  type: InteractionResponseType.ChannelMessageWithSource,
  data: { content, flags: MessageFlags.Ephemeral, allowed_mentions: { parse: [] } },
});
const DEFERRED_UPDATE: APIInteractionResponse = { type: InteractionResponseType.DeferredMessageUpdate };

export const notes = {
  onlyAsker: 'Only the person who asked can do that.',
  stopped: 'Stopping the answer.',
  alreadyFinished: 'That answer has already finished.',
  gone: 'That answer is no longer available.',
  thanks: 'Thanks for the feedback.',
  alreadyRated: 'You have already rated this answer.',
  notTaken: 'I couldn’t take your question just now. Please ask again in a moment.',
};

/**
 * The one place an interaction becomes work, whichever way it arrived (the gateway's
 * INTERACTION_CREATE or an HTTP POST): `/ask`, the core's commands, and the buttons on answers.
 * Each interaction id is handled once. The returned response must reach Discord within 3 s; the
 * transport sends it, then runs `after` (queueing a job, which edits the deferred response).
 */
export class InteractionHandler {
  readonly #context: GatewayContext;
  readonly #settings: DiscordSettings;
  readonly #rest: REST;

  constructor(context: GatewayContext, settings: DiscordSettings, rest: REST) {
    this.#context = context;
    this.#settings = settings;
    this.#rest = rest;
  }

  /** The reply to send, or undefined when the payload is not ours to answer (malformed, or already handled). */
  async handle(raw: unknown): Promise<HandledInteraction | undefined> {
    const parsed = interactionSchema.safeParse(raw);
    if (!parsed.success) {
      this.#context.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, 'ignoring a malformed discord interaction');
      return undefined;
    }
    const { id, token } = parsed.data;
    const reply = await this.#reply(parsed.data);
    return reply && { ...reply, id, token };
  }

  async #reply(interaction: InteractionPayload): Promise<InteractionReply | undefined> {
    if (interaction.type === InteractionType.Ping) return { response: { type: InteractionResponseType.Pong } };
    if (!(await this.#firstDelivery(interaction.id))) return undefined;
    if (interaction.type === InteractionType.ApplicationCommand) return this.#command(interaction);
    if (interaction.type === InteractionType.MessageComponent) return this.#button(interaction);
    return undefined;
  }

  async #firstDelivery(id: string): Promise<boolean> {
    const { redis, keys } = this.#context;
    return (await redis.set(keys.platform('discord', `interaction:${id}`), '1', 'EX', SEEN_TTL_SECONDS, 'NX')) === 'OK';
  }

  #command(interaction: InteractionPayload): Promise<InteractionReply | undefined> {
    const name = interaction.data?.name;
    if (name === ASK_COMMAND) return Promise.resolve(this.#ask(interaction));
    return this.#coreCommand(interaction, name ?? '');
  }

  #ask(interaction: InteractionPayload): InteractionReply | undefined {
    const asker = userOf(interaction);
    const channelId = channelOf(interaction);
    if (!asker || !channelId) return undefined;
    const prompt = interaction.data?.options?.find((option) => option.name === 'prompt')?.value;
    const job = normalizeAskCommand({
      id: interaction.id,
      token: interaction.token,
      channelId,
      guildId: interaction.guild_id ?? null,
      user: asker,
      prompt: typeof prompt === 'string' ? prompt : '',
    });
    if (!job) return undefined;
    // Deferred first: the worker edits this response, so it must exist before the job runs.
    return { response: { type: InteractionResponseType.DeferredChannelMessageWithSource }, after: () => this.#submit(job, interaction.token, false) };
  }

  async #coreCommand(interaction: InteractionPayload, name: string): Promise<InteractionReply | undefined> {
    const { commands } = this.#context;
    const command = commands.commands.find((candidate) => candidate.name === name);
    const asker = userOf(interaction);
    const channelId = channelOf(interaction);
    if (!command || !asker || !channelId) return undefined;
    const argument = command.argument ? interaction.data?.options?.find((option) => option.name === command.argument?.name)?.value : undefined;
    const inThread = interaction.channel !== undefined && THREAD_CHANNEL_TYPES.has(interaction.channel.type);
    const content = await commands.run(command.name, {
      platform: 'discord',
      workspaceId: interaction.guild_id ?? DM_WORKSPACE,
      channelId,
      threadId: inThread ? channelId : undefined,
      isDm: !interaction.guild_id,
      userId: asker.id,
      argument: typeof argument === 'string' ? argument : '',
      isPlatformAdmin: async () => hasPermission(interaction, PermissionFlagsBits.ManageGuild),
      sentimentTag: (label) => this.#settings.sentimentEmoji[label],
    });
    return { response: ephemeral(content) };
  }

  async #button(interaction: InteractionPayload): Promise<InteractionReply | undefined> {
    const button = parseAnswerButton(interaction.data?.custom_id ?? '');
    const clicker = userOf(interaction);
    if (!button || !clicker) return undefined;
    const { controls } = this.#context;
    if (button.action === 'up' || button.action === 'down') {
      const outcome = await controls.rate({ answerId: button.jobId, userId: clicker.id, rating: button.action });
      return { response: ephemeral(outcome === 'recorded' ? notes.thanks : outcome === 'already_recorded' ? notes.alreadyRated : notes.gone) };
    }
    if (!this.#mayControl(interaction, clicker.id, button)) return { response: ephemeral(notes.onlyAsker) };
    const record = await controls.answer(button.jobId);
    if (button.action === 'stop') {
      if (record) return { response: ephemeral(notes.alreadyFinished) };
      return { response: DEFERRED_UPDATE, after: () => controls.stopAnswer(button.jobId) };
    }
    if (!record) return { response: ephemeral(notes.gone) };
    const job = regenerateJob(record.job, interaction, Date.now());
    return { response: DEFERRED_UPDATE, after: () => this.#submit(job, interaction.token, true) };
  }

  /** The asker, a member who may manage messages, or one of ADMIN_USER_IDS. */
  #mayControl(interaction: InteractionPayload, userId: string, button: AnswerButton): boolean {
    if (userId === button.askerId) return true;
    if (this.#context.config.channels.admins.get('discord')?.has(userId)) return true;
    return hasPermission(interaction, PermissionFlagsBits.ManageMessages);
  }

  /** Queues the job; a refusal or a failure to queue is told in the interaction (privately for a button). */
  async #submit(job: NewChatJob, token: string, privately: boolean): Promise<void> {
    const say = (content: string) =>
      privately
        ? this.#rest.post(Routes.webhook(this.#settings.applicationId, token), { auth: false, body: { content, flags: MessageFlags.Ephemeral, allowed_mentions: NO_PINGS } })
        : this.#rest.patch(Routes.webhookMessage(this.#settings.applicationId, token, '@original'), { auth: false, body: { content, allowed_mentions: NO_PINGS } });
    // Over HTTP the first response may not have reached Discord yet: a refused telling is tried again.
    const tell = async (content: string) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await say(content);
        } catch (err) {
          if (attempt >= TELL_ATTEMPTS) throw err;
          await sleep(TELL_RETRY_MS);
        }
      }
    };
    try {
      const verdict = await this.#context.intake.submit(job);
      this.#context.logger.debug({ jobId: job.id, status: verdict.status }, 'discord interaction taken in');
      if (verdict.status === 'rejected' && verdict.notice) await tell(verdict.notice.text);
    } catch (err) {
      // Never queued: the user must not be left watching "thinking…" for an answer that is not coming.
      await tell(notes.notTaken);
      throw err;
    }
  }
}

function userOf(interaction: InteractionPayload) {
  return interaction.member?.user ?? interaction.user;
}

function channelOf(interaction: InteractionPayload): string | undefined {
  return interaction.channel_id ?? interaction.channel?.id;
}

function hasPermission(interaction: InteractionPayload, flag: bigint): boolean {
  const permissions = interaction.member?.permissions;
  if (!permissions || !/^\d+$/.test(permissions)) return false;
  const bits = BigInt(permissions);
  return (bits & flag) === flag || (bits & PermissionFlagsBits.Administrator) === PermissionFlagsBits.Administrator;
}

/**
 * The same question again, as a new job for the same turn, rendered into the same message. An
 * answer given through an interaction is edited with that interaction's token while it is fresh;
 * later, with the click's own token (its `@original` is the clicked message, the answer's first).
 */
export function regenerateJob(answered: ChatJob, click: { id: string; token: string }, now: number): NewChatJob {
  const turn = answered.id.replace(/\.r\d+$/, '');
  const ownToken = interactionTokenOf(answered.reply.via);
  const useClick = ownToken !== undefined && now - answered.receivedAt > OWN_TOKEN_MAX_AGE_MS;
  return {
    ...answered,
    id: `${turn}.r${click.id}`,
    replaces: answered.id,
    receivedAt: now,
    reply: { ...answered.reply, ...(useClick ? { via: { ...answered.reply.via, interactionToken: click.token } } : {}) },
    progress: { messageIds: useClick ? ['@original'] : answered.progress.messageIds, loadingWaitMs: 0, rateLimitWaitMs: 0 },
  };
}
