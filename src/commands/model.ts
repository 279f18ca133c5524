import type { Command } from './command.ts';
import { changeSettings, RESET, showSettings } from './channel-settings.ts';

const LISTEN = /^listen\s+(on|off)$/i;
/** A Hugging Face model id, optionally with a provider suffix: org/name[:provider]. */
const MODEL_ID = /^[\w.-]+\/[\w.-]+(:[\w.-]+)?$/;

/** `/model` shows the settings; `/model org/name`, `/model default`, `/model listen on|off` change them. */
export const modelCommand: Command = {
  name: 'model',
  description: 'Show or (admins) change this channel’s model: org/name, default, or listen on|off',
  argument: { name: 'value', description: 'org/name, default, listen on, listen off' },
  async run(context) {
    const argument = context.argument.trim();
    if (!argument) return showSettings(context);
    if (RESET.test(argument)) return changeSettings(context, { model: undefined }, 'This channel now uses the default model.');
    const listen = LISTEN.exec(argument);
    if (listen) {
      const on = listen[1]?.toLowerCase() === 'on';
      return changeSettings(
        context,
        { answerWithoutMention: on },
        on ? 'I’ll answer in this channel’s threads without a mention.' : 'I’ll answer in threads only when mentioned.',
      );
    }
    if (!MODEL_ID.test(argument)) return `\`${argument}\` is not a model id: use org/name, e.g. \`Qwen/Qwen2.5-72B-Instruct\`, or \`default\`.`;
    return changeSettings(context, { model: argument }, `This channel now uses \`${argument}\`.`);
  },
};
