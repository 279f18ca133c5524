import type { PlatformAdapter } from '../src/platform.ts';
import { discordAdapter } from './discord/index.ts';
import { playgroundAdapter } from './playground/index.ts';
import { slackAdapter } from './slack/index.ts';

/** Every platform the service can speak; each starts only when its credentials are configured. */
export const adapters: PlatformAdapter[] = [slackAdapter, discordAdapter, playgroundAdapter];
