import type { WebClient } from '@slack/web-api';
import type { Config } from '../../src/config.ts';
import type { PlatformAdapter } from '../../src/platform.ts';
import { startSlackGateway } from './gateway.ts';
import { createSlackWebClient, SlackSurface } from './surface.ts';

const clients = new WeakMap<Config, WebClient>();

/** One WebClient per configuration, shared by the gateway and the surface of a process. */
function clientFor(config: Config): WebClient {
  const slack = config.slack;
  if (!slack) throw new Error('slack is not configured');
  let client = clients.get(config);
  if (!client) {
    client = createSlackWebClient(slack);
    clients.set(config, client);
  }
  return client;
}

export const slackAdapter: PlatformAdapter = {
  platform: 'slack',
  enabled: (config) => config.slack !== undefined,
  createSurface: ({ config, logger }) => new SlackSurface(clientFor(config), requireSlack(config), logger.child({ platform: 'slack' })),
  startGateway: (context, surface) =>
    startSlackGateway({ ...context, logger: context.logger.child({ platform: 'slack' }) }, requireSlack(context.config), clientFor(context.config), surface),
};

function requireSlack(config: Config) {
  if (!config.slack) throw new Error('slack is not configured');
  return config.slack;
}
