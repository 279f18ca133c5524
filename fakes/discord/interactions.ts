/**
 * Interaction callbacks and the webhook routes behind them (`@original`, follow-ups), with
 * Discord's 3-second first-response window and the 15-minute token lifetime.
 */
import type { ApiMessage, StoredMessage, InteractionRecord } from './types.ts';
import { MessageType, MessageFlag } from './protocol.ts';
import { type RestContext, type MessageParts, type ParsedFile, type RestResult, ApiError, asRecord, formError } from './internal.ts';
import type { DiscordState } from './state.ts';
import type { Views } from './views.ts';
import type { Gateway } from './gateway.ts';
import type { Messaging } from './messaging.ts';

export class Interactions {
  readonly #state: DiscordState;
  readonly #views: Views;
  readonly #gateway: Gateway;
  readonly #messaging: Messaging;

  constructor(state: DiscordState, views: Views, gateway: Gateway, messaging: Messaging) {
    this.#state = state;
    this.#views = views;
    this.#gateway = gateway;
    this.#messaging = messaging;
  }

  /** `POST /interactions/:id/:token/callback`. */
  interactionCallback(ctx: RestContext): RestResult {
    const rec = this.#state.interactionsById.get(ctx.params.interaction_id ?? '');
    if (!rec || rec.token !== ctx.params.token) throw new ApiError(404, 10062, 'Unknown interaction');
    const body = asRecord(ctx.body);
    const type = typeof body.type === 'number' ? body.type : -1;
    const message = this.respond(rec, body, ctx.files);
    if (ctx.query.get('with_response') !== 'true') return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: rec.id,
          type: rec.type,
          activity_instance_id: null,
          response_message_id: message?.id ?? null,
          response_message_loading: type === 5,
          response_message_ephemeral: rec.ephemeral,
        },
        resource: { type, ...(message ? { message: this.#views.messageJson(message, false) } : {}) },
      },
    };
  }

  /**
   * The initial response to an interaction, given through the callback route or as the answer to
   * an HTTP delivery: checked as Discord checks it (once, within the window, a type that fits).
   * Returns the message it created or updated, if any.
   */
  respond(rec: InteractionRecord, body: Record<string, unknown>, files: ParsedFile[]): StoredMessage | undefined {
    const type = typeof body.type === 'number' ? body.type : -1;
    rec.callbacks.push(type);
    if (rec.callbackType !== null) throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
    if (Date.now() - rec.createdAt > this.#state.opts.interactionResponseWindowMs) throw new ApiError(404, 10062, 'Unknown interaction');
    const allowed = rec.type === 3 ? [4, 5, 6, 7, 9] : [4, 5, 8, 9, 12];
    if (!allowed.includes(type)) {
      throw formError('type', 'BASE_TYPE_CHOICES', `Value must be one of {${allowed.join(', ')}}.`);
    }
    const data = asRecord(body.data);
    const ephemeral = typeof data.flags === 'number' && (data.flags & MessageFlag.Ephemeral) !== 0;
    let message: StoredMessage | undefined;
    if (type === 4 || type === 5) {
      const channel = this.#state.requireChannel(rec.channel_id);
      const allowedMentions = this.#messaging.parseAllowedMentions(data.allowed_mentions);
      const parts: MessageParts =
        type === 4 ? this.#messaging.messageParts(data, files) : { content: '', embeds: [], components: [], attachments: [] };
      if (type === 4 && this.#messaging.isEmpty(parts, data)) throw new ApiError(400, 50006, 'Cannot send an empty message');
      message = this.#messaging.storeMessage({
        channel,
        authorId: this.#state.opts.botUserId,
        own: true,
        ...parts,
        type: MessageType.ChatInputCommand,
        flags: (ephemeral ? MessageFlag.Ephemeral : 0) | (type === 5 ? MessageFlag.Loading : 0),
        allowedMentions,
        pings: this.#messaging.botPings(parts.content, allowedMentions, undefined),
        source: 'interaction',
        interactionToken: rec.token,
      });
      rec.originalMessageId = message.id;
      if (allowedMentions) rec.allowed_mentions = allowedMentions;
      this.#messaging.syncInteraction(message);
      this.#gateway.echo('MESSAGE_CREATE', message);
    } else if (type === 6 || type === 7) {
      // A click's `@original` is the message its button is on.
      rec.originalMessageId = rec.componentMessageId ?? null;
      message = rec.componentMessageId ? this.#state.messages.get(rec.componentMessageId) : undefined;
      if (type === 7 && message) this.#messaging.editMessage(message, data, files);
    }
    rec.callbackType = type;
    rec.respondedAt = Date.now();
    rec.ephemeral = ephemeral;
    return message;
  }

  /** The interaction behind `/webhooks/:app/:token`, checked like Discord checks the webhook. */
  #webhookInteraction(ctx: RestContext): InteractionRecord {
    const rec = this.#state.interactionResponses.get(ctx.params.token ?? '');
    if (ctx.params.application_id !== this.#state.applicationId || !rec) throw new ApiError(404, 10015, 'Unknown Webhook');
    if (Date.now() - rec.createdAt > this.#state.opts.interactionTokenTtlMs) throw new ApiError(401, 50027, 'Invalid Webhook Token');
    if (rec.callbackType === null) throw new ApiError(404, 10015, 'Unknown Webhook');
    return rec;
  }

  webhookMessage(ctx: RestContext, messageId: string): StoredMessage {
    const rec = this.#webhookInteraction(ctx);
    const id = messageId === '@original' ? rec.originalMessageId : messageId;
    const message = id ? this.#state.messages.get(id) : undefined;
    const reachable = message !== undefined && (message.interaction_token === rec.token || message.id === rec.componentMessageId);
    if (!message || message.deleted || !reachable) throw new ApiError(404, 10008, 'Unknown Message');
    return message;
  }

  editWebhookMessage(ctx: RestContext, messageId: string): ApiMessage {
    const message = this.webhookMessage(ctx, messageId);
    this.#messaging.editMessage(message, asRecord(ctx.body), ctx.files);
    return this.#views.messageJson(message, false);
  }

  /**
   * `POST /webhooks/:app/:token` (wait is always true for interactions). As on Discord, the first
   * follow-up after a deferred reply replaces the "thinking" placeholder instead of posting anew.
   */
  followUp(ctx: RestContext): ApiMessage {
    const rec = this.#webhookInteraction(ctx);
    const body = asRecord(ctx.body);
    const original = rec.originalMessageId ? this.#state.messages.get(rec.originalMessageId) : undefined;
    if (original && !original.deleted && (original.flags & MessageFlag.Loading) !== 0) {
      this.#messaging.editMessage(original, body, ctx.files);
      return this.#views.messageJson(original, false);
    }
    const channel = this.#state.requireChannel(rec.channel_id);
    const parts = this.#messaging.messageParts(body, ctx.files);
    if (this.#messaging.isEmpty(parts, body)) throw new ApiError(400, 50006, 'Cannot send an empty message');
    const allowed = this.#messaging.parseAllowedMentions(body.allowed_mentions);
    const message = this.#messaging.storeMessage({
      channel,
      authorId: this.#state.opts.botUserId,
      own: true,
      ...parts,
      type: MessageType.Default,
      flags: typeof body.flags === 'number' ? body.flags & (MessageFlag.Ephemeral | MessageFlag.SuppressEmbeds) : 0,
      allowedMentions: allowed,
      pings: this.#messaging.botPings(parts.content, allowed, undefined),
      source: 'followup',
      interactionToken: rec.token,
    });
    rec.followups.push(message);
    this.#gateway.echo('MESSAGE_CREATE', message);
    return this.#views.messageJson(message, false);
  }
}
