import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { secrets, uniquePrefix } from '../support/service.ts';

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../bin/hfbot.ts', import.meta.url));

/** Runs bin/hfbot.ts as `npm start` would, and reports how it ended. */
function hfbot(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [ENTRY, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** A Node stack or an internal error code: what a person should never have to read. */
const STACK = /^\s+at |ERR_PARSE_ARGS|node:internal/m;

describe('bin/hfbot.ts on the command line', () => {
  it.each([['--help'], ['-h']])('%s prints the usage and exits 0', async (flag) => {
    const { code, stdout, stderr } = await hfbot([flag]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: npm start/);
    expect(stdout).toContain('--role gateway');
    expect(stdout).toContain('--role worker');
    expect(stdout).toContain('.env.example');
    expect(stdout).toMatch(/More: \S*README\.md/);
    expect(stdout).not.toMatch(STACK);
  });

  it('--role without a value says so, with the usage, and fails', async () => {
    const { code, stdout, stderr } = await hfbot(['--role']);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^--role needs a value\n/);
    expect(stderr).toContain('Usage: npm start');
    expect(stderr).not.toMatch(STACK);
  });

  it('an unknown option or role is named, with the usage', async () => {
    const unknown = await hfbot(['--frobnicate']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^unknown option --frobnicate\n/);
    expect(unknown.stderr).not.toMatch(STACK);
    const role = await hfbot(['--role', 'gateway,cook']);
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain('--role: unknown role "cook" (expected gateway or worker)');
    expect(role.stderr).toContain('Usage: npm start');
  });

  it('names every configuration problem at once, before connecting to anything', async () => {
    const { code, stderr } = await hfbot([], { SLACK_BOT_TOKEN: 'xoxb-x', WORKER_CONCURRENCY: 'abc', NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(stderr).toContain('WORKER_CONCURRENCY: "abc" is not a whole number');
    expect(stderr).toContain('SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: one is required');
    expect(stderr).toContain('HF_TOKEN: required by the worker role');
    expect(stderr).not.toContain('xoxb-x');
    expect(stderr).not.toMatch(STACK);
  });

  it('says in one line which platform it cannot reach, at which URL, and what to check', async () => {
    // A port nothing listens on any more: the Web API is unreachable (refused, as a wrong host is not found).
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    const { code, stdout } = await hfbot([], {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: uniquePrefix('cli'),
      PORT: '0',
      PLAYGROUND_ENABLED: 'false',
      HF_TOKEN: secrets.hfToken,
      SLACK_BOT_TOKEN: secrets.slackBotToken,
      SLACK_APP_TOKEN: secrets.slackAppToken,
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
    });
    expect(code).toBe(1);
    const lines = stdout.split('\n').filter(Boolean).map((line) => z.object({ level: z.number(), msg: z.string(), check: z.string().optional() }).passthrough().parse(JSON.parse(line)));
    // The shared test Redis keeps nothing on disk, which the service rightly warns about: not this test's subject.
    const loud = lines.filter((line) => line.level >= 40 && line.check !== 'redis-persistence');
    expect(loud).toHaveLength(1);
    expect(loud[0]?.msg).toMatch(/^could not start: cannot reach Slack at http:\/\/127\.0\.0\.1:\d+\/api\/ \(.*ECONNREFUSED.*\): check SLACK_API_URL, DNS, any proxy and the network$/);
    expect(stdout).not.toMatch(/"stack"|\\n\s+at /);
  });
});
