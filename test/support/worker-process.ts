import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const ENTRY = fileURLToPath(new URL('../../bin/hfbot.ts', import.meta.url));

/** Runs `bin/hfbot.ts --role worker` as its own OS process, as a deployment would. */
export function spawnWorker(env: Record<string, string>): ChildProcess & { output: () => string } {
  return spawnRole('worker', env);
}

/** Runs `bin/hfbot.ts --role <role>` as its own OS process. */
export function spawnRole(role: 'gateway' | 'worker', env: Record<string, string>): ChildProcess & { output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [ENTRY, '--role', role], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: inject('redisUrl'), PORT: '0', LOG_LEVEL: 'info', PLAYGROUND_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return Object.assign(child, { output: () => output });
}
