import { PinnedByFileError, type ChannelRef, type ChannelSettings, type ChannelSettingsStore, type EffectiveSettings } from './settings.ts';

const RESET = /^(default|reset)$/i;
const LISTEN = /^listen\s+(on|off)$/i;
/** A Hugging Face model id, optionally with a provider suffix: org/name[:provider]. */
const MODEL_ID = /^[\w.-]+\/[\w.-]+(:[\w.-]+)?$/;

export function describeSettings(settings: EffectiveSettings): string {
  const prompt = settings.systemPrompt.length > 300 ? `${settings.systemPrompt.slice(0, 300)}…` : settings.systemPrompt;
  return [
    `Model: \`${settings.model}\`${settings.customModel ? '' : ' (the default)'}`,
    `Answers in threads without a mention: ${settings.answerWithoutMention ? 'on' : 'off'}`,
    `System prompt:\n> ${prompt.replace(/\n/g, '\n> ')}`,
    settings.pinnedByFile ? '_Set by the settings file (CHANNEL_CONFIG_FILE), which wins over commands._' : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export interface SettingsCommand {
  store: ChannelSettingsStore;
  channel: ChannelRef;
  argument: string;
  /** Asked only when the command would change something. */
  isAdmin: () => Promise<boolean>;
}

async function change(command: SettingsCommand, patch: ChannelSettings, done: string): Promise<string> {
  if (!(await command.isAdmin())) return 'Only workspace admins (or the users in ADMIN_USER_IDS) can change this channel’s settings.';
  try {
    return `${done}\n${describeSettings(await command.store.update(command.channel, patch))}`;
  } catch (err) {
    if (err instanceof PinnedByFileError) return err.message;
    throw err;
  }
}

/** `/model` shows the settings; `/model org/name`, `/model default`, `/model listen on|off` change them. */
export async function runModelCommand(command: SettingsCommand): Promise<string> {
  const argument = command.argument.trim();
  if (!argument) return describeSettings(await command.store.resolve(command.channel));
  if (RESET.test(argument)) return change(command, { model: undefined }, 'This channel now uses the default model.');
  const listen = LISTEN.exec(argument);
  if (listen) {
    const on = listen[1]?.toLowerCase() === 'on';
    return change(command, { answerWithoutMention: on }, on ? 'I’ll answer in this channel’s threads without a mention.' : 'I’ll answer in threads only when mentioned.');
  }
  if (!MODEL_ID.test(argument)) return `\`${argument}\` is not a model id: use org/name, e.g. \`Qwen/Qwen2.5-72B-Instruct\`, or \`default\`.`;
  return change(command, { model: argument }, `This channel now uses \`${argument}\`.`);
}

/** `/prompt` shows the system prompt; `/prompt text` sets it; `/prompt default` resets it. */
export async function runPromptCommand(command: SettingsCommand): Promise<string> {
  const argument = command.argument.trim();
  if (!argument) return describeSettings(await command.store.resolve(command.channel));
  if (RESET.test(argument)) return change(command, { systemPrompt: undefined }, 'This channel now uses the default system prompt.');
  return change(command, { systemPrompt: argument }, 'System prompt updated.');
}
