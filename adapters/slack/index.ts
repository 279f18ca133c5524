import { definePlatform } from '../../src/platform.ts';
import { slackEnv, slackSettings } from './settings.ts';

/** Slack: a Bolt gateway (Socket Mode or the HTTP Events API) and a Web API surface over one client. */
export const slackAdapter = definePlatform({
  platform: 'slack',
  env: slackEnv,
  howToEnable: 'the SLACK_* variables',
  setup: { href: 'https://api.slack.com/apps', label: 'Slack apps', what: 'where the Slack app is created (slack/manifest.json has its settings)' },
  logRedaction: {
    paths: ['botToken', '*.botToken', 'appToken', '*.appToken', 'signingSecret', '*.signingSecret', '*.headers["x-slack-signature"]'],
    patterns: [/xox[abposr]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g],
  },
  // Slack ids are letters and digits (U0123ABCD, C0123ABCD); an id of digits alone is not one.
  ownsId: (id) => !/^\d+$/.test(id),
  settings: slackSettings,
  secrets: (e) => [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_APP_TOKEN],
  create: async (context, settings) => {
    const { createSlackWebClient, SlackSurface } = await import('./surface.ts');
    const logger = context.logger.child({ platform: 'slack' });
    // One Web API client per process, shared by the surface and the gateway.
    const client = createSlackWebClient(settings, logger);
    const agentClient = createSlackWebClient(settings, logger, { rejectRateLimitedCalls: true });
    const surface = new SlackSurface(client, settings, logger, { agentClient, redis: context.redis, keys: context.keys });
    return {
      surface,
      // Loaded only in a gateway: a worker needs the Web API client, never Bolt.
      startGateway: async (gatewayContext) => {
        const { startSlackGateway } = await import('./gateway.ts');
        return startSlackGateway({ ...gatewayContext, logger }, settings, client, surface, agentClient);
      },
    };
  },
});
