import type { AdapterContext, PlatformAdapter } from '../../src/platform.ts';
import { startPlaygroundGateway } from './gateway.ts';
import { PlaygroundStore } from './store.ts';
import { PlaygroundSurface } from './surface.ts';

/** Edits are paced like a platform's, a little quicker: the page is local. */
const EDIT_INTERVAL_MS = 500;

const storeFor = ({ redis, keys, config }: AdapterContext) => new PlaygroundStore(redis, keys, config.context.ttlSeconds);

function settings(context: AdapterContext) {
  const playground = context.config.playground;
  if (!playground) throw new Error('the playground is not enabled');
  return playground;
}

/** The local chat page: a third platform, served by the service itself, through the same pipeline. */
export const playgroundAdapter: PlatformAdapter = {
  platform: 'playground',
  enabled: (config) => config.playground !== undefined,
  createSurface: (context) =>
    new PlaygroundSurface(storeFor(context), { style: settings(context).style, demo: settings(context).demoModel, editIntervalMs: EDIT_INTERVAL_MS }),
  startGateway: (context, surface) =>
    startPlaygroundGateway({ ...context, logger: context.logger.child({ platform: 'playground' }) }, storeFor(context), surface, {
      demoModel: settings(context).demoModel,
      model: settings(context).demoModel ? 'offline demo model' : context.config.hf.chatModel,
      style: settings(context).style,
    }),
};
