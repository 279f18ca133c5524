import { definePlatform } from '../../src/platform.ts';
import { discordEnv, discordSettings } from './settings.ts';

/** Discord: a discord.js gateway and a REST-only surface. */
export const discordAdapter = definePlatform({
  platform: 'discord',
  env: discordEnv,
  howToEnable: 'the DISCORD_* variables',
  setup: { href: 'https://discord.com/developers/applications', label: 'Discord applications', what: 'where the Discord app is created (npm run register-commands prints its invite link)' },
  logRedaction: { paths: ['interactionToken', '*.interactionToken'] },
  // Discord ids (snowflakes) are digits alone.
  ownsId: (id) => /^\d+$/.test(id),
  settings: discordSettings,
  secrets: (e) => [e.DISCORD_TOKEN],
  create: async (context, settings) => {
    const { createDiscordRest, DiscordSurface } = await import('./surface.ts');
    const logger = context.logger.child({ platform: 'discord' });
    const rest = createDiscordRest(settings);
    const surface = new DiscordSurface(rest, settings, logger);
    return {
      surface,
      // Loaded only in a gateway: a worker talks REST alone and never needs discord.js.
      startGateway: async (gatewayContext) => {
        const { startDiscordGateway } = await import('./gateway.ts');
        return startDiscordGateway({ ...gatewayContext, logger }, settings, surface, rest);
      },
    };
  },
});
