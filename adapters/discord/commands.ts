import { ApplicationCommandOptionType, type RESTPutAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';

export const ASK_COMMAND = 'ask';
export const RESET_COMMAND = 'reset';
export const SENTIMENT_COMMAND = 'sentiment';
export const MODEL_COMMAND = 'model';
export const PROMPT_COMMAND = 'prompt';

/** The slash commands the gateway handles; `npm run register-commands` registers exactly these. */
export const commandDefinitions: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: ASK_COMMAND,
    description: 'Ask the bot a question; the answer streams into the reply',
    options: [{ type: ApplicationCommandOptionType.String, name: 'prompt', description: 'Your question', required: true, max_length: 4000 }],
  },
  { name: RESET_COMMAND, description: 'Forget our DM conversation' },
  { name: SENTIMENT_COMMAND, description: 'How the conversation here is going: label, score, trend and counts (only you see it)' },
  {
    name: MODEL_COMMAND,
    description: 'Show or (admins) change this channel’s model: org/name, default, or listen on|off',
    options: [{ type: ApplicationCommandOptionType.String, name: 'value', description: 'org/name, default, listen on, listen off', required: false }],
  },
  {
    name: PROMPT_COMMAND,
    description: 'Show or (admins) change this channel’s system prompt (default resets it)',
    options: [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'The new system prompt, or default', required: false, max_length: 4000 }],
  },
];
