import { definePlatform } from '../../src/platform.ts';
import { PLAYGROUND_PATH } from './path.ts';
import { playgroundEnv, playgroundSettings } from './settings.ts';

/** Edits are paced like a platform's, a little quicker: the page is local. */
const EDIT_INTERVAL_MS = 500;

/** The local chat page: a third platform, served by the service itself, through the same pipeline. */
export const playgroundAdapter = definePlatform({
  platform: 'playground',
  env: playgroundEnv,
  howToEnable: 'PLAYGROUND_ENABLED=true',
  // Nobody but the person at the page reads its answers: without a token, the demo model may give them.
  acceptsDemoModel: true,
  settings: playgroundSettings,
  create: async (context, settings) => {
    const [{ PlaygroundStore }, { PlaygroundSurface }] = await Promise.all([import('./store.ts'), import('./surface.ts')]);
    const logger = context.logger.child({ platform: 'playground' });
    const { demoModel } = context.config;
    const store = new PlaygroundStore(context.redis, context.keys, context.config.context.ttlSeconds);
    return {
      pages: [{ href: `${PLAYGROUND_PATH}/`, label: 'Playground', what: 'a local chat page, through the same queue and workers as the chat platforms' }],
      surface: new PlaygroundSurface(store, { style: settings.style, demo: demoModel, editIntervalMs: EDIT_INTERVAL_MS }),
      // Loaded by gateways only: a worker needs the surface alone.
      startGateway: async (gatewayContext) => {
        const { startPlaygroundGateway } = await import('./gateway.ts');
        return startPlaygroundGateway({ ...gatewayContext, logger }, store, {
          demoModel,
          model: demoModel ? 'offline demo model' : context.config.hf.chatModel,
          style: settings.style,
        }, settings.personIsAdmin);
      },
    };
  },
});
