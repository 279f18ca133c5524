import { parseArgs } from 'node:util';
import { adapters } from '../adapters/index.ts';
import { ConfigError, loadConfig, ROLES, type Role } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startService } from '../src/service.ts';

const { values } = parseArgs({ options: { role: { type: 'string', multiple: true } } });
const roles = values.role?.flatMap((role) => role.split(','));
const unknownRole = roles?.find((role) => !(ROLES as readonly string[]).includes(role));

let config;
try {
  if (unknownRole) throw new ConfigError([`--role: unknown role "${unknownRole}" (expected ${ROLES.join(' or ')})`]);
  config = loadConfig(process.env, roles as Role[] | undefined);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\nSee .env.example for every variable and its meaning.\n`);
  process.exit(1);
}

/** Time beyond the grace period for connections to close before the process gives up waiting. */
const SHUTDOWN_MARGIN_MS = 10_000;

const logger = createLogger({ level: config.logLevel, secrets: config.secrets });
try {
  const service = await startService(config, adapters, logger);
  // Plain lines for the person who just ran `npm start`, besides the JSON logs.
  if (config.playground && config.roles.has('gateway')) {
    process.stdout.write(`\nhfbot is running: http://localhost:${service.port}/\nPlayground: http://localhost:${service.port}/playground\n\n`);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Bounded: whatever hangs past the grace period and a margin, the process still exits.
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_MARGIN_MS).unref();
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
  process.exit(1);
}
