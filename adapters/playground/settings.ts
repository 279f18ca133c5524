import { z } from 'zod';
import { BOOLEAN_WORDS, isTrue } from '../../src/env.ts';

/** Every variable the playground reads (public names: `.env.example` documents each). */
export const playgroundEnv = z.object({
  NODE_ENV: z.string().default('development'),
  PLAYGROUND_ENABLED: z.enum(BOOLEAN_WORDS).optional(),
  PLAYGROUND_STYLE: z.enum(['slack', 'discord']).default('slack'),
});

export interface PlaygroundSettings {
  /** Which platform's message length long answers are split at. */
  style: 'slack' | 'discord';
  /**
   * The page's person may change channel settings (/model, /prompt): in development, where the
   * page is the developer's own. In production only ADMIN_USER_IDS (playground:local-user) may.
   */
  personIsAdmin: boolean;
}

/** On in development unless switched off, and off in production unless switched on. */
export function playgroundSettings(e: z.output<typeof playgroundEnv>): { settings: PlaygroundSettings | undefined } {
  const production = e.NODE_ENV === 'production';
  const on = e.PLAYGROUND_ENABLED ? isTrue(e.PLAYGROUND_ENABLED) : !production;
  return { settings: on ? { style: e.PLAYGROUND_STYLE, personIsAdmin: !production } : undefined };
}
