import { pino, type DestinationStream, type Logger } from 'pino';
import { REDACTED, secretScrubber } from './text/scrub.ts';

export type { Logger };

/** Token shapes we never want in a log line, whoever wrote them (SDK errors echo headers sometimes). */
export const TOKEN_PATTERNS = [/xox[abposr]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g, /\bhf_[A-Za-z0-9]{8,}/g];

const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-slack-signature"]',
  'interactionToken',
  '*.interactionToken',
  '*.reply.interactionToken',
  '*.reply.responseUrl',
];

/**
 * JSON logs with secrets removed twice over: known fields are redacted by path, and every
 * configured secret value or token-shaped string is scrubbed from the serialized line itself.
 */
export function createLogger(
  options: { level: string; secrets?: string[]; name?: string },
  destination?: DestinationStream,
): Logger {
  const scrub = secretScrubber(options.secrets ?? [], TOKEN_PATTERNS);
  return pino(
    {
      level: options.level,
      name: options.name,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: {
        streamWrite: scrub,
      },
    },
    destination,
  );
}
