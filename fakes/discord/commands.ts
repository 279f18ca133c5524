/**
 * Application commands: global and guild registrations (bulk overwrite and upsert).
 */
import type { RegisteredCommand } from './types.ts';
import { type RestContext, ApiError, asRecord, optString, formError } from './internal.ts';
import type { DiscordState } from './state.ts';

export class Commands {
  readonly #state: DiscordState;

  constructor(state: DiscordState) {
    this.#state = state;
  }

  #commandScope(ctx: RestContext): { list: RegisteredCommand[]; guildId?: string } {
    if (ctx.params.application_id !== this.#state.applicationId) throw new ApiError(404, 10002, 'Unknown Application');
    const guildId = ctx.params.guild_id;
    if (guildId === undefined) return { list: this.#state.registeredCommands.global };
    this.#state.requireGuild(guildId);
    return { list: this.#state.registeredCommands.guilds[guildId] ?? [], guildId };
  }

  commandList(ctx: RestContext): RegisteredCommand[] {
    return this.#commandScope(ctx).list;
  }

  #buildCommand(raw: unknown, index: number, previous: RegisteredCommand[], guildId: string | undefined): RegisteredCommand {
    const body = asRecord(raw);
    const type = typeof body.type === 'number' ? body.type : 1;
    const name = optString(body.name) ?? '';
    const namePattern = type === 1 ? /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u : /^.{1,32}$/u;
    if (!namePattern.test(name)) throw formError(`${index}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    const description = optString(body.description) ?? '';
    if (type === 1 && (description.length < 1 || description.length > 100)) {
      throw formError(`${index}.description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    // Discord keeps the id of a command that already existed under the same name and type.
    const same = previous.find((c) => c.name === name && c.type === type);
    const command: RegisteredCommand = {
      default_member_permissions: null,
      nsfw: false,
      contexts: null,
      integration_types: [0],
      ...body,
      id: same?.id ?? this.#state.snowflake(),
      application_id: this.#state.applicationId,
      name,
      description,
      type,
      version: this.#state.snowflake(),
    };
    if (guildId) command.guild_id = guildId;
    return command;
  }

  overwriteCommands(ctx: RestContext): RegisteredCommand[] {
    const { list, guildId } = this.#commandScope(ctx);
    if (!Array.isArray(ctx.body)) {
      throw new ApiError(400, 50035, 'Invalid Form Body', { _errors: [{ code: 'LIST_TYPE_CONVERT', message: 'Must be an array' }] });
    }
    const commands = ctx.body.map((raw, i) => this.#buildCommand(raw, i, list, guildId));
    const names = new Set<string>();
    for (const c of commands) {
      const key = `${c.type}:${c.name}`;
      if (names.has(key)) {
        const errors = { _errors: [{ code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: 'Application command names must be unique' }] };
        throw new ApiError(400, 50035, 'Invalid Form Body', errors);
      }
      names.add(key);
    }
    if (guildId) this.#state.registeredCommands.guilds[guildId] = commands;
    else this.#state.registeredCommands.global = commands;
    return commands;
  }

  upsertCommand(ctx: RestContext): { command: RegisteredCommand; created: boolean } {
    const { list, guildId } = this.#commandScope(ctx);
    const command = this.#buildCommand(ctx.body, 0, list, guildId);
    const index = list.findIndex((c) => c.id === command.id);
    const next = index === -1 ? [...list, command] : list.map((c, i) => (i === index ? command : c));
    if (guildId) this.#state.registeredCommands.guilds[guildId] = next;
    else this.#state.registeredCommands.global = next;
    return { command, created: index === -1 };
  }
}
