import { ApplicationCommandOptionType, type RESTPutAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';

export const ASK_COMMAND = 'ask';
export const RESET_COMMAND = 'reset';
export const SENTIMENT_COMMAND = 'sentiment';

/** The slash commands the gateway handles; `npm run register-commands` registers exactly these. */
export const commandDefinitions: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: ASK_COMMAND,
    description: 'Ask the bot a question; the answer streams into the reply',
    options: [{ type: ApplicationCommandOptionType.String, name: 'prompt', description: 'Your question', required: true, max_length: 4000 }],
  },
  { name: RESET_COMMAND, description: 'Forget our DM conversation' },
  { name: SENTIMENT_COMMAND, description: 'How the conversation here is going: label, score, trend and counts (only you see it)' },
];
