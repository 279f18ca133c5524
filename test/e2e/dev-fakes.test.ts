import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/lib/procs.ts';
import { eventually, uniquePrefix } from '../support/service.ts';
import { spawnHfbot, type HfbotProcess } from '../support/worker-process.ts';

/**
 * `npm run fakes` as a newcomer uses it: the service started with exactly the variables it prints,
 * then a mention and a slash command typed in its terminal, answered on the fake Discord.
 */
const SCRIPT = fileURLToPath(new URL('../../scripts/dev-fakes.ts', import.meta.url));

const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

describe('npm run fakes', () => {
  it('prints the variables the service needs, and a typed mention and /ask reach it through the fake Discord', async () => {
    const [hf, slack, discord, service] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const fakes = spawn(process.execPath, [SCRIPT], {
      env: { PATH: process.env.PATH ?? '', FAKE_HF_PORT: String(hf), FAKE_SLACK_PORT: String(slack), FAKE_DISCORD_PORT: String(discord), PORT: String(service) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(fakes);
    let printed = '';
    fakes.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    fakes.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const startLine = await eventually(() => /^(HF_TOKEN=[\s\S]*?)\nnpm start$/m.exec(printed)?.[1], 'the printed start command', 30_000);
    const variables = Object.fromEntries([...startLine.matchAll(/([A-Z_]+)=(\S+)/g)].map((match) => [match[1] ?? '', match[2] ?? '']));
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['HF_TOKEN', 'SLACK_BOT_TOKEN', 'DISCORD_TOKEN', 'DISCORD_PUBLIC_KEY', 'PORT']));
    expect(variables.PORT).toBe(String(service));

    const bot: HfbotProcess = spawnHfbot([], { ...variables, QUEUE_PREFIX: uniquePrefix('dev-fakes'), USER_RATE_LIMIT: '0' });
    children.push(bot);
    // Ready once every platform's gateway is connected: the fake Discord then has a client to deliver to.
    await eventually(async () => {
      if (bot.exitCode !== null) throw new Error(`the service exited: ${bot.output()}`);
      return (await fetch(`http://127.0.0.1:${service}/readyz`).catch(() => undefined))?.status === 200;
    }, 'the service to be ready', 30_000);

    fakes.stdin?.write('a mention from the terminal\n');
    await eventually(() => /\[discord \S+ \S+ edit \d+\] Echo: a mention from the terminal/.test(printed), 'the mention answered', 30_000);
    fakes.stdin?.write('/ask a slash command from the terminal\n');
    await eventually(() => /\(\/ask: the service answered 200\)/.test(printed) && /Echo: a slash command from the terminal/.test(printed), 'the /ask answered', 30_000);
    fakes.stdin?.write('/frobnicate\n');
    await eventually(() => printed.includes('(no /frobnicate: try /ask'), 'the unknown command explained');
  }, 90_000);
});
