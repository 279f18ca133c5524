/**
 * Registers the bot's slash commands and prints its invite URL and its Interactions Endpoint URL:
 *   npm run register-commands -- --guild <guild id>   # one server, instant (development)
 *   npm run register-commands                          # global (can take up to an hour to appear)
 *   npm run register-commands -- --url https://bot.example.com   # the endpoint URL in full
 * Reads DISCORD_TOKEN, DISCORD_APPLICATION_ID and DISCORD_API_URL from the environment or .env.
 */
import { parseArgs } from 'node:util';
import { Routes } from 'discord-api-types/v10';
import { commandDefinitions } from '../adapters/discord/commands.ts';
import { createDiscordRest } from '../adapters/discord/surface.ts';
import { INTERACTIONS_PATH } from '../adapters/discord/http-interactions.ts';
import { inviteUrl } from '../adapters/discord/invite.ts';
import { discordEnv, discordSettings } from '../adapters/discord/settings.ts';
import { readEnv } from '../src/env.ts';

const { values } = parseArgs({ options: { guild: { type: 'string' }, url: { type: 'string' } } });
// The service's own reading of the DISCORD_* variables, so both agree on what they mean.
const read = readEnv(discordEnv, process.env);
const checked = read.values ? discordSettings(read.values) : undefined;
const problems = [...read.problems, ...(checked?.problems ?? [])];
const settings = checked?.settings;
if (!settings || problems.length > 0) {
  process.stderr.write(
    ['Set DISCORD_TOKEN and DISCORD_APPLICATION_ID (in the environment or .env).', ...problems.map((problem) => `  - ${problem}`)].join('\n') + '\n',
  );
  process.exit(1);
}
const { applicationId } = settings;
let endpoint = `<the service's public URL>${INTERACTIONS_PATH}`;
if (values.url) {
  try {
    // Kept under any path the service is published at (a proxy prefix).
    endpoint = `${new URL(values.url).toString().replace(/\/+$/, '')}${INTERACTIONS_PATH}`;
  } catch {
    process.stderr.write(`--url must be the service's public base URL, e.g. https://bot.example.com (got ${values.url})\n`);
    process.exit(1);
  }
}

const rest = createDiscordRest(settings);
const route = values.guild ? Routes.applicationGuildCommands(applicationId, values.guild) : Routes.applicationCommands(applicationId);
try {
  const registered = (await rest.put(route, { body: commandDefinitions })) as Array<{ name: string }>;
  process.stdout.write(
    `Registered ${registered.map((command) => `/${command.name}`).join(', ')} ${values.guild ? `in guild ${values.guild}` : 'globally'}.\n` +
      `Invite the bot: ${inviteUrl(applicationId)}\n` +
      `Interactions Endpoint URL (developer portal → General Information; needs DISCORD_PUBLIC_KEY set): ${endpoint}\n`,
  );
} catch (err) {
  process.stderr.write(`Could not register the commands: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
