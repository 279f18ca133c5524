import { PinnedByFileError, type ChannelSettings, type EffectiveSettings } from '../channels/settings.ts';
import type { CommandContext } from './command.ts';

/** `default` or `reset` as an argument: back to the deployment's default. */
export const RESET = /^(default|reset)$/i;

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

const channelOf = ({ platform, workspaceId, channelId }: CommandContext) => ({ platform, workspaceId, channelId });

/** The channel's settings, for anyone. */
export async function showSettings(context: CommandContext): Promise<string> {
  return describeSettings(await context.services.channelSettings.resolve(channelOf(context)));
}

/** Changes the channel's settings, for admins only; says what changed, or why not. */
export async function changeSettings(context: CommandContext, patch: ChannelSettings, done: string): Promise<string> {
  if (!(await context.isAdmin())) return 'Only workspace admins (or the users in ADMIN_USER_IDS) can change this channel’s settings.';
  try {
    return `${done}\n${describeSettings(await context.services.channelSettings.update(channelOf(context), patch))}`;
  } catch (err) {
    if (err instanceof PinnedByFileError) return err.message;
    throw err;
  }
}
