import type { PlatformAdapter } from '../../src/platform.ts';
import type { Config, DiscordConfig } from '../../src/config.ts';
import { createDiscordRest, DiscordSurface } from './surface.ts';

function discordConfig(config: Config): DiscordConfig {
  if (!config.discord) throw new Error('discord is not configured');
  return config.discord;
}

export const discordAdapter: PlatformAdapter = {
  platform: 'discord',
  enabled: (config) => config.discord !== undefined,
  createSurface: ({ config, logger }) =>
    new DiscordSurface(createDiscordRest(discordConfig(config)), discordConfig(config), logger.child({ platform: 'discord' })),
  // Loaded only in a gateway: a worker talks REST alone and never needs discord.js.
  startGateway: async (context, surface) => {
    const { startDiscordGateway } = await import('./gateway.ts');
    return startDiscordGateway({ ...context, logger: context.logger.child({ platform: 'discord' }) }, discordConfig(context.config), surface);
  },
};
