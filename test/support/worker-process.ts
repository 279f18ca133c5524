import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const ENTRY = fileURLToPath(new URL('../../bin/hfbot.ts', import.meta.url));

export type HfbotProcess = ChildProcess & { output: () => string };

/**
 * Runs `bin/hfbot.ts` (of this checkout, or `entry`) as its own OS process, as a deployment would,
 * with only PATH and the given variables in its environment; stdout and stderr are collected.
 */
export function spawnHfbot(roles: string[], env: Record<string, string>, entry = ENTRY): HfbotProcess {
  let output = '';
  const child = spawn(process.execPath, [entry, ...roles.flatMap((role) => ['--role', role])], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: inject('redisUrl'), PORT: '0', LOG_LEVEL: 'info', PLAYGROUND_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return Object.assign(child, { output: () => output });
}

/** Runs `bin/hfbot.ts --role worker` as its own OS process. */
export function spawnWorker(env: Record<string, string>): HfbotProcess {
  return spawnHfbot(['worker'], env);
}
