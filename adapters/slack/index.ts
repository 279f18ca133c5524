import type { WebClient } from '@slack/web-api';
import type { Config } from '../../src/config.ts';
import type { Logger } from '../../src/logger.ts';
import type { PlatformAdapter } from '../../src/platform.ts';
import { createSlackWebClient, SlackSurface } from './surface.ts';

const clients = new WeakMap<Config, WebClient>();

/** One WebClient per configuration, shared by the gateway and the surface of a process. */
function clientFor(config: Config, logger: Logger): WebClient {
  let client = clients.get(config);
  if (!client) {
    client = createSlackWebClient(requireSlack(config), logger.child({ platform: 'slack' }));
    clients.set(config, client);
  }
  return client;
}

export const slackAdapter: PlatformAdapter = {
  platform: 'slack',
  enabled: (config) => config.slack !== undefined,
  createSurface: ({ config, logger }) => new SlackSurface(clientFor(config, logger), requireSlack(config), logger.child({ platform: 'slack' })),
  // Loaded only in a gateway: a worker needs the Web API client, never Bolt.
  startGateway: async (context, surface) => {
    const { startSlackGateway } = await import('./gateway.ts');
    const logger = context.logger.child({ platform: 'slack' });
    return startSlackGateway({ ...context, logger }, requireSlack(context.config), clientFor(context.config, context.logger), surface);
  },
};

function requireSlack(config: Config) {
  if (!config.slack) throw new Error('slack is not configured');
  return config.slack;
}
