import { LogLevel, type Logger as SlackLogger } from '@slack/logger';
import type { Logger } from '../../src/logger.ts';

/** The Slack SDKs' logger interface over pino, so their own lines are JSON and redacted too. */
export function slackLogger(logger: Logger): SlackLogger {
  const log = logger.child({ component: 'slack-sdk' });
  // The Web API client writes six debug lines per call: join them only when they are kept.
  return {
    debug: (...msg) => {
      if (log.isLevelEnabled('debug')) log.debug(msg.map(String).join(' '));
    },
    info: (...msg) => {
      if (log.isLevelEnabled('info')) log.info(msg.map(String).join(' '));
    },
    // The Web API client warns at every failed attempt before it retries; the failure that remains
    // reaches the caller, which reports it once, so each attempt is only worth a debug line.
    warn: (...msg) => {
      const text = msg.map(String).join(' ');
      if (text.startsWith('http request failed')) log.debug(text);
      else log.warn(text);
    },
    error: (...msg) => log.error(msg.map(String).join(' ')),
    setLevel: () => undefined,
    // The build skips the Web API client's costliest debug lines below this (scripts/package-patches.ts).
    getLevel: () => (log.isLevelEnabled('debug') ? LogLevel.DEBUG : log.isLevelEnabled('info') ? LogLevel.INFO : log.isLevelEnabled('warn') ? LogLevel.WARN : LogLevel.ERROR),
    setName: () => undefined,
  };
}
