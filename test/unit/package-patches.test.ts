import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { LogLevel, type Logger as SlackLogger } from '@slack/logger';
import type { WebClient as WebClientType } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { applyPatch, PACKAGE_PATCHES, type PackagePatch } from '../../scripts/package-patches.ts';

const require = createRequire(import.meta.url);

/**
 * A CommonJS module of node_modules compiled from `source` instead of its file. It stands in the
 * require cache while it loads, so the package's modules that require it back (a cycle) get it.
 */
function compileAs<T>(file: string, source: string): T {
  const module = new Module(file) as Module & { _compile(source: string, file: string): void; paths: string[] };
  module.filename = file;
  module.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  const cached = require.cache[file];
  require.cache[file] = module;
  try {
    module._compile(source, file);
  } finally {
    if (cached) require.cache[file] = cached;
    else delete require.cache[file];
  }
  return module.exports as T;
}

function patchOf(module: string): PackagePatch {
  const patch = PACKAGE_PATCHES.find((candidate) => candidate.module === module);
  if (!patch) throw new Error(`no patch of ${module}`);
  return patch;
}

describe('the build patches of packages', () => {
  it('each applies to the installed package (an upgrade that changed the code fails here and in the build)', () => {
    for (const patch of PACKAGE_PATCHES) {
      const source = readFileSync(require.resolve(patch.module), 'utf8');
      const patched = applyPatch(source, patch);
      for (const { to } of patch.replacements) expect(patched).toContain(to);
    }
  });

  it('refuses code it does not find exactly once', () => {
    const patch: PackagePatch = { module: 'x/y.js', why: 'test', replacements: [{ from: 'a()', to: 'b()' }] };
    expect(applyPatch('f(); a();', patch)).toBe('f(); b();');
    expect(() => applyPatch('f();', patch)).toThrow(/x\/y\.js: the code this build patches \(test\) is not there once/);
    expect(() => applyPatch('a(); a();', patch)).toThrow(/not there once/);
  });

  it("the Slack Web API client builds its request and result debug lines only at the debug level", async () => {
    const file = require.resolve('@slack/web-api/dist/WebClient.js');
    const { WebClient } = compileAs<{ WebClient: typeof WebClientType }>(file, applyPatch(readFileSync(file, 'utf8'), patchOf('@slack/web-api/dist/WebClient.js')));
    const answer = async () => new Response(JSON.stringify({ ok: true, channel: 'C1', ts: '1.2' }), { headers: { 'content-type': 'application/json' } });
    for (const level of [LogLevel.INFO, LogLevel.DEBUG]) {
      const debugLines: string[] = [];
      const logger: SlackLogger = {
        debug: (...msg) => void debugLines.push(msg.map(String).join(' ')),
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
        setLevel: () => undefined,
        getLevel: () => level,
        setName: () => undefined,
      };
      const client = new WebClient('xoxb-secret', { logger, fetch: answer });
      const result = await client.chat.postMessage({ channel: 'C1', text: 'hello' });
      expect(result.ts).toBe('1.2');
      const built = debugLines.filter((line) => line.startsWith('http request body') || line.startsWith('http request headers') || line.startsWith('http request result'));
      expect(built.length).toBe(level === LogLevel.DEBUG ? 3 : 0);
      if (level === LogLevel.DEBUG) expect(built.join('\n')).not.toContain('xoxb-secret');
    }
  });
});
