import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_PERMISSIONS } from '../../adapters/discord/invite.ts';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/register-commands.ts', import.meta.url));
const run = promisify(execFile);

let discord: DiscordFake;

beforeAll(async () => {
  discord = await startDiscordFake();
});

afterAll(async () => {
  await discord?.close();
});

function register(args: string[]) {
  return run(process.execPath, [SCRIPT, ...args], {
    env: { PATH: process.env.PATH ?? '', DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_URL: discord.api },
  });
}

describe('npm run register-commands', () => {
  it('registers the slash commands in one guild and prints the invite URL', async () => {
    const { stdout } = await register(['--guild', '200000000000000001']);
    const commands = discord.registeredCommands.guilds['200000000000000001'] ?? [];
    expect(commands.map((command) => command.name).sort()).toEqual(['ask', 'model', 'prompt', 'reset', 'sentiment']);
    const ask = commands.find((command) => command.name === 'ask');
    expect(ask?.options).toEqual([expect.objectContaining({ name: 'prompt', type: 3, required: true })]);

    const invite = new URL(/https:\/\/discord\.com\/oauth2\/authorize\S+/.exec(stdout)?.[0] ?? 'http://missing');
    expect(invite.searchParams.get('client_id')).toBe(discord.applicationId);
    expect(invite.searchParams.get('scope')).toBe('bot applications.commands');
    expect(invite.searchParams.get('permissions')).toBe(BOT_PERMISSIONS.toString());
  });

  it('registers globally without --guild', async () => {
    const { stdout } = await register([]);
    expect(discord.registeredCommands.global.map((command) => command.name).sort()).toEqual(['ask', 'model', 'prompt', 'reset', 'sentiment']);
    expect(stdout).toContain("Interactions Endpoint URL (developer portal → General Information; needs DISCORD_PUBLIC_KEY set): <the service's public URL>/discord/interactions");
  });

  it('prints the Interactions Endpoint URL to paste in the developer portal', async () => {
    const { stdout } = await register(['--url', 'https://bot.example.com/']);
    expect(stdout).toMatch(/Interactions Endpoint URL .*: https:\/\/bot\.example\.com\/discord\/interactions\n/);
    await expect(register(['--url', 'not a url'])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--url must be') });
  });

  it('says what is missing instead of failing obscurely', async () => {
    await expect(run(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '' } })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('DISCORD_TOKEN'),
    });
  });
});
