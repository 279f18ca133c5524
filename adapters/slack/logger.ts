import { LogLevel, type Logger as SlackLogger } from '@slack/logger';
import type { Logger } from '../../src/logger.ts';

/** The Slack SDKs' logger interface over pino, so their own lines are JSON and redacted too. */
export function slackLogger(logger: Logger): SlackLogger {
  const log = logger.child({ component: 'slack-sdk' });
  return {
    debug: (...msg) => log.debug(msg.map(String).join(' ')),
    info: (...msg) => log.info(msg.map(String).join(' ')),
    warn: (...msg) => log.warn(msg.map(String).join(' ')),
    error: (...msg) => log.error(msg.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
