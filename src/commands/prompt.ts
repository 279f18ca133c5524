import type { Command } from './command.ts';
import { changeSettings, RESET, showSettings } from './channel-settings.ts';

/** `/prompt` shows the system prompt; `/prompt text` sets it; `/prompt default` resets it. */
export const promptCommand: Command = {
  name: 'prompt',
  description: 'Show or (admins) change this channel’s system prompt (default resets it)',
  argument: { name: 'text', description: 'The new system prompt, or default', maxLength: 4000 },
  async run(context) {
    const argument = context.argument.trim();
    if (!argument) return showSettings(context);
    if (RESET.test(argument)) return changeSettings(context, { systemPrompt: undefined }, 'This channel now uses the default system prompt.');
    return changeSettings(context, { systemPrompt: argument }, 'System prompt updated.');
  },
};
