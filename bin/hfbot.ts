import { fileURLToPath } from 'node:url';
import { adapters } from '../adapters/index.ts';
import { parseCommandLine, usage } from '../src/cli.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { PlatformStartError } from '../src/platform.ts';
import { startService } from '../src/service.ts';

const commandLine = parseCommandLine(process.argv.slice(2));
const usageText = () => usage({ platforms: adapters.map((adapter) => adapter.platform), readme: fileURLToPath(new URL('../README.md', import.meta.url)) });
if (commandLine.kind === 'help') {
  process.stdout.write(usageText());
  process.exit(0);
}
if (commandLine.kind === 'wrong') {
  process.stderr.write(`${commandLine.problem}\n\n${usageText()}`);
  process.exit(2);
}

let config;
try {
  config = loadConfig(process.env, adapters, commandLine.roles);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\nSee .env.example for every variable and its meaning.\n`);
  process.exit(1);
}

/** Time beyond the grace period for connections to close before the process gives up waiting. */
const SHUTDOWN_MARGIN_MS = 10_000;

const logger = createLogger({ level: config.logLevel, secrets: config.secrets, redaction: config.redaction });
try {
  const service = await startService(config, logger);
  // Plain lines for the person who just ran `npm start`, besides the JSON logs.
  if (service.pages.length > 0) {
    const lines = [`hfbot is running: http://localhost:${service.port}/`, ...service.pages.map((page) => `${page.label}: http://localhost:${service.port}${page.href}`)];
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
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
  // A platform that cannot start says why in its message (which platform, which URL, what to check).
  if (err instanceof PlatformStartError) logger.fatal({ platform: err.platform }, `could not start: ${err.message}`);
  else logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
  process.exit(1);
}
