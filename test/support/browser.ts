import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); `.ci/run` installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of every browser test's steps, kept for people to look at (git-ignored). */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url);

/**
 * Whether the browser tests of `what` can run. CI installs Chromium, so there a missing browser
 * is a failure; on a laptop the suite says so and goes on.
 */
export function haveChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `Browser tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`;
  if (process.env.CI) throw new Error(message);
  process.stderr.write(`${message} Skipping the ${what} browser tests.\n`);
  return false;
}

/** Headless Chromium, with the artifacts folder ready for screenshots. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
