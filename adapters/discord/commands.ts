import { ApplicationCommandOptionType, type RESTPutAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';

export const ASK_COMMAND = 'ask';
export const RESET_COMMAND = 'reset';

/** The slash commands the gateway handles; `npm run register-commands` registers exactly these. */
export const commandDefinitions: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: ASK_COMMAND,
    description: 'Ask the bot a question; the answer streams into the reply',
    options: [{ type: ApplicationCommandOptionType.String, name: 'prompt', description: 'Your question', required: true, max_length: 4000 }],
  },
  { name: RESET_COMMAND, description: 'Forget our DM conversation' },
];
