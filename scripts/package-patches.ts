/**
 * Changes the build makes to code it bundles from packages, where a release costs the service
 * measurably and no option turns the cost off. Each is an exact text replacement that must match
 * once: an upgrade that changes the code fails the build instead of dropping the patch unnoticed
 * (test/unit/package-patches.test.ts applies them to the installed packages). Tests and
 * development run the packages as published.
 */
import { readFileSync } from 'node:fs';
import type { Plugin } from 'esbuild';

export interface PackagePatch {
  /** The file, as `require.resolve` names it from the repository (package/path). */
  module: string;
  /** What the patch changes, why, and the figure that justified it. */
  why: string;
  replacements: Array<{ from: string; to: string }>;
}

/**
 * `@slack/web-api` (8.2.0) builds three debug lines per call whatever the log level, each a
 * `JSON.stringify` of a recursive copy of the request's body, its headers or Slack's answer
 * (`redact`, a regular expression per key). In a worker at 100 and 1,000 instant conversations that
 * was 15% of what it allocated; without them it spent 7% and 10% less CPU per reply
 * (bench/README.md, tenth round). The lines are built only when the client's logger would keep
 * them (`slackLogger` reports pino's level).
 */
const SLACK_DEBUG_LINES = ['`http request result: ${JSON.stringify(redact(result))}`', '`http request body: ${JSON.stringify(redact(body))}`', '`http request headers: ${JSON.stringify(redact(allHeaders))}`'];

export const PACKAGE_PATCHES: PackagePatch[] = [
  {
    module: '@slack/web-api/dist/WebClient.js',
    why: 'debug lines built only at the debug level',
    replacements: SLACK_DEBUG_LINES.map((line) => ({
      from: `this.logger.debug(${line});`,
      // @slack/logger's LogLevel.DEBUG is the string 'debug'.
      to: `if (this.logger.getLevel() === 'debug') this.logger.debug(${line});`,
    })),
  },
];

/** `source` with the patch's replacements made; throws unless each `from` occurs exactly once. */
export function applyPatch(source: string, patch: PackagePatch): string {
  let patched = source;
  for (const { from, to } of patch.replacements) {
    const at = patched.indexOf(from);
    if (at < 0 || patched.indexOf(from, at + from.length) >= 0) {
      throw new Error(`${patch.module}: the code this build patches (${patch.why}) is not there once as expected; the package changed, so review scripts/package-patches.ts: ${from}`);
    }
    patched = patched.slice(0, at) + to + patched.slice(at + from.length);
  }
  return patched;
}

/** An esbuild plugin that loads each patched module's file with its patch applied. */
export function packagePatches(patches: PackagePatch[] = PACKAGE_PATCHES): Plugin {
  return {
    name: 'package-patches',
    setup(build) {
      for (const patch of patches) {
        const suffix = `/node_modules/${patch.module}`;
        const filter = new RegExp(`${suffix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
        build.onLoad({ filter }, ({ path }) => ({ contents: applyPatch(readFileSync(path, 'utf8'), patch), loader: 'js' }));
      }
    },
  };
}
