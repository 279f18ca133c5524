/**
 * The REST routes under `/api/v10`: a table of method + template → handler.
 */
import { createHash } from 'node:crypto';
import { THREAD_TYPES } from './protocol.ts';
import { type RestContext, type RestResult, type Route, ApiError, asRecord, optString, isSnowflake, formError } from './internal.ts';
import type { DiscordState } from './state.ts';
import type { Views } from './views.ts';
import type { Messaging } from './messaging.ts';
import type { Commands } from './commands.ts';
import type { Interactions } from './interactions.ts';

export class Routes {
  readonly #state: DiscordState;
  readonly #views: Views;
  readonly #messaging: Messaging;
  readonly #commands: Commands;
  readonly #interactions: Interactions;

  constructor(state: DiscordState, views: Views, messaging: Messaging, commands: Commands, interactions: Interactions) {
    this.#state = state;
    this.#views = views;
    this.#messaging = messaging;
    this.#commands = commands;
    this.#interactions = interactions;
  }

  build(): Route[] {
    const routes: Route[] = [];
    const add = (method: string, template: string, auth: boolean, handler: (ctx: RestContext) => RestResult): void => {
      const source = template
        .split('/')
        .map((part) => (part.startsWith(':') ? `(?<${part.slice(1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      routes.push({ method, template, pattern: new RegExp(`^${source}$`), auth, handler });
    };
    const ok = (body: unknown, status = 200): RestResult => ({ status, body });
    const noContent: RestResult = { status: 204 };

    // Gateway discovery
    add('GET', '/gateway', false, () => ok({ url: this.#state.gatewayUrl }));
    add('GET', '/gateway/bot', true, () =>
      ok({
        url: this.#state.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      }),
    );

    // Users and the application
    add('GET', '/users/@me', true, () =>
      ok({ ...this.#views.userJson(this.#state.opts.botUserId), verified: true, mfa_enabled: false, flags: 0, email: null, locale: 'en-US' }),
    );
    add('POST', '/users/@me/channels', true, (ctx) => {
      const recipient = optString(asRecord(ctx.body).recipient_id);
      if (!recipient || !isSnowflake(recipient)) throw formError('recipient_id', 'BASE_TYPE_REQUIRED', 'This field is required');
      this.#state.ensureUser(recipient);
      return ok(this.#views.channelJson(this.#state.dmChannelFor(recipient)));
    });
    add('GET', '/users/:user_id', true, (ctx) => {
      const user = this.#state.users.get(ctx.params.user_id ?? '');
      if (!user) throw new ApiError(404, 10013, 'Unknown User');
      return ok(this.#views.userJson(user.id));
    });
    const application = (): RestResult =>
      ok({
        id: this.#state.applicationId,
        name: this.#state.opts.botUsername,
        icon: null,
        description: '',
        summary: '',
        type: null,
        bot_public: true,
        bot_require_code_grant: false,
        verify_key: createHash('sha256').update(this.#state.applicationId).digest('hex'),
        flags: 0,
        team: null,
        owner: { ...this.#views.userJson('199999999999999999'), username: 'owner' },
        bot: this.#views.userJson(this.#state.opts.botUserId),
        redirect_uris: [],
        interactions_endpoint_url: null,
        approximate_guild_count: this.#state.guilds.size,
        integration_types_config: { '0': {} },
      });
    add('GET', '/applications/@me', true, application);
    add('GET', '/oauth2/applications/@me', true, application);

    // Guilds
    add('GET', '/guilds/:guild_id', true, (ctx) => {
      const { channels: _c, members: _m, threads: _t, presences: _p, voice_states: _v, ...guild } = this.#views.guildJson(
        this.#state.requireGuild(ctx.params.guild_id),
      );
      return ok(guild);
    });
    add('GET', '/guilds/:guild_id/channels', true, (ctx) => {
      const guild = this.#state.requireGuild(ctx.params.guild_id);
      return ok(
        [...this.#state.channels.values()]
          .filter((c) => c.guildId === guild.id && !THREAD_TYPES.has(c.type))
          .map((c) => this.#views.channelJson(c)),
      );
    });
    add('GET', '/guilds/:guild_id/members/:user_id', true, (ctx) => {
      const guild = this.#state.requireGuild(ctx.params.guild_id);
      const userId = ctx.params.user_id ?? '';
      if (!guild.memberIds.has(userId)) throw new ApiError(404, 10007, 'Unknown Member');
      return ok(this.#views.memberJson(guild, userId, true));
    });

    // Channels and messages
    add('GET', '/channels/:channel_id', true, (ctx) => ok(this.#views.channelJson(this.#state.requireChannel(ctx.params.channel_id))));
    add('PATCH', '/channels/:channel_id', true, (ctx) => ok(this.#messaging.modifyChannel(this.#state.requireChannel(ctx.params.channel_id), asRecord(ctx.body))));
    add('GET', '/channels/:channel_id/messages', true, (ctx) => ok(this.#messaging.listMessages(ctx)));
    add('POST', '/channels/:channel_id/messages', true, (ctx) => ok(this.#messaging.postChannelMessage(ctx)));
    add('GET', '/channels/:channel_id/messages/:message_id', true, (ctx) =>
      ok(this.#views.messageJson(this.#state.requireMessage(ctx.params.channel_id, ctx.params.message_id), false)),
    );
    add('PATCH', '/channels/:channel_id/messages/:message_id', true, (ctx) => {
      const message = this.#state.requireMessage(ctx.params.channel_id, ctx.params.message_id);
      const body = asRecord(ctx.body);
      if (!message.own && ('content' in body || 'embeds' in body || 'attachments' in body)) {
        throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
      }
      this.#messaging.editMessage(message, body, ctx.files);
      return ok(this.#views.messageJson(message, false));
    });
    add('DELETE', '/channels/:channel_id/messages/:message_id', true, (ctx) => {
      this.#messaging.deleteMessage(this.#state.requireMessage(ctx.params.channel_id, ctx.params.message_id));
      return noContent;
    });
    add('POST', '/channels/:channel_id/typing', true, (ctx) => {
      const channel = this.#state.requireChannel(ctx.params.channel_id);
      this.#state.typing.set(channel.id, this.#state.typingCount(channel.id) + 1);
      return noContent;
    });
    add('PUT', '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me', true, (ctx) => {
      const message = this.#state.requireMessage(ctx.params.channel_id, ctx.params.message_id);
      this.#messaging.addReaction(message, this.#messaging.checkEmoji(ctx.params.emoji), this.#state.opts.botUserId);
      return noContent;
    });
    add('DELETE', '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me', true, (ctx) => {
      const message = this.#state.requireMessage(ctx.params.channel_id, ctx.params.message_id);
      this.#messaging.removeReaction(message, this.#messaging.checkEmoji(ctx.params.emoji), this.#state.opts.botUserId);
      return noContent;
    });
    add('DELETE', '/channels/:channel_id/messages/:message_id/reactions/:emoji/:user_id', true, (ctx) => {
      const message = this.#state.requireMessage(ctx.params.channel_id, ctx.params.message_id);
      this.#messaging.removeReaction(message, this.#messaging.checkEmoji(ctx.params.emoji), ctx.params.user_id ?? '');
      return noContent;
    });
    add('POST', '/channels/:channel_id/messages/:message_id/threads', true, (ctx) => ok(this.#messaging.startThread(ctx, true), 201));
    add('POST', '/channels/:channel_id/threads', true, (ctx) => ok(this.#messaging.startThread(ctx, false), 201));

    // Application commands
    for (const scoped of [false, true]) {
      const base = scoped ? '/applications/:application_id/guilds/:guild_id/commands' : '/applications/:application_id/commands';
      add('GET', base, true, (ctx) => ok(this.#commands.commandList(ctx)));
      add('PUT', base, true, (ctx) => ok(this.#commands.overwriteCommands(ctx)));
      add('POST', base, true, (ctx) => {
        const { command, created } = this.#commands.upsertCommand(ctx);
        return ok(command, created ? 201 : 200);
      });
    }

    // Interactions (no bot token needed)
    add('POST', '/interactions/:interaction_id/:token/callback', false, (ctx) => this.#interactions.interactionCallback(ctx));
    add('GET', '/webhooks/:application_id/:token/messages/@original', false, (ctx) =>
      ok(this.#views.messageJson(this.#interactions.webhookMessage(ctx, '@original'), false)),
    );
    add('PATCH', '/webhooks/:application_id/:token/messages/@original', false, (ctx) =>
      ok(this.#interactions.editWebhookMessage(ctx, '@original')),
    );
    add('DELETE', '/webhooks/:application_id/:token/messages/@original', false, (ctx) => {
      this.#messaging.deleteMessage(this.#interactions.webhookMessage(ctx, '@original'));
      return noContent;
    });
    add('POST', '/webhooks/:application_id/:token', false, (ctx) => ok(this.#interactions.followUp(ctx)));
    add('GET', '/webhooks/:application_id/:token/messages/:message_id', false, (ctx) =>
      ok(this.#views.messageJson(this.#interactions.webhookMessage(ctx, ctx.params.message_id ?? ''), false)),
    );
    add('PATCH', '/webhooks/:application_id/:token/messages/:message_id', false, (ctx) =>
      ok(this.#interactions.editWebhookMessage(ctx, ctx.params.message_id ?? '')),
    );
    add('DELETE', '/webhooks/:application_id/:token/messages/:message_id', false, (ctx) => {
      this.#messaging.deleteMessage(this.#interactions.webhookMessage(ctx, ctx.params.message_id ?? ''));
      return noContent;
    });
    return routes;
  }
}
