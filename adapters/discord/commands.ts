import { ApplicationCommandOptionType, type RESTPutAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { COMMANDS } from '../../src/commands/registry.ts';

export const ASK_COMMAND = 'ask';

/** The slash commands the gateway handles: `/ask`, then the core's; `npm run register-commands` registers exactly these. */
export const commandDefinitions: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: ASK_COMMAND,
    description: 'Ask the bot a question; the answer streams into the reply',
    options: [{ type: ApplicationCommandOptionType.String, name: 'prompt', description: 'Your question', required: true, max_length: 4000 }],
  },
  ...COMMANDS.map(({ name, description, argument }) => ({
    name,
    description,
    ...(argument
      ? {
          options: [
            {
              type: ApplicationCommandOptionType.String as const,
              name: argument.name,
              description: argument.description,
              required: false,
              ...(argument.maxLength ? { max_length: argument.maxLength } : {}),
            },
          ],
        }
      : {}),
  })),
];
