/**
 * Runs the in-repo fakes of the Hugging Face router, the Slack Web API and Discord (REST and
 * gateway) on fixed loopback ports, so `npm start` can be tried end to end with no credentials and
 * no network:
 *
 *   npm run fakes                       # terminal 1: prints the variables to use
 *   <those variables> npm start         # terminal 2
 *   npm run slack:mention -- "hello"    # terminal 3: a signed app_mention, as Slack sends it
 *   (or type a line in terminal 1: it reaches the bot as a Discord mention; `/ask …` and the other
 *   slash commands reach it as Discord interactions, POSTed signed to its /discord/interactions
 *   as Discord does once an app has an interactions endpoint)
 *
 * Ports: FAKE_HF_PORT (default 8781), FAKE_SLACK_PORT (8782), FAKE_DISCORD_PORT (8783); the
 * service's own PORT (3000) is where the Discord fake delivers interactions.
 * Every message the bot posts or edits is printed here as the platform would show it.
 */
import { createInterface } from 'node:readline';
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { commandDefinitions } from '../adapters/discord/commands.ts';
import { startDiscordFake } from '../fakes/discord/server.ts';
import { startHfFake } from '../fakes/hf/server.ts';
import { startSlackFake } from '../fakes/slack/server.ts';

const PORTS = [
  { variable: 'FAKE_HF_PORT', fallback: 8781, what: 'Hugging Face router' },
  { variable: 'FAKE_SLACK_PORT', fallback: 8782, what: 'Slack Web API' },
  { variable: 'FAKE_DISCORD_PORT', fallback: 8783, what: 'Discord REST and gateway' },
] as const;
const TOKENS = { hf: 'hf_fake_local_token', bot: 'xoxb-fake-local-bot-token', signing: 'fake-local-signing-secret' };

/** The port from its variable, or a one-line exit when it is not a port. */
function portOf({ variable, fallback }: (typeof PORTS)[number]): number {
  const raw = process.env[variable];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`${variable}=${raw ?? ''} is not a port number.\n`);
    process.exit(1);
  }
  return port;
}

/** Starts one fake; a port in use ends the script with one line saying which variable moves it. */
async function start<T>(port: (typeof PORTS)[number], starter: (port: number) => Promise<T>): Promise<T> {
  try {
    return await starter(portOf(port));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${err instanceof Error ? err.message : String(err)})`;
    process.stderr.write(`Port ${portOf(port)} for the fake ${port.what} ${why}: set ${port.variable} to another one.\n`);
    process.exit(1);
  }
}

const [hfPort, slackPort, discordPort] = PORTS;
const hf = await start(hfPort, (port) => startHfFake({ port, defaultTokenDelayMs: 40 }));
const slack = await start(slackPort, (port) => startSlackFake({ port, botToken: TOKENS.bot }));
const servicePort = process.env.PORT || '3000';
const discord = await start(discordPort, (port) => startDiscordFake({ port, interactionsEndpoint: `http://127.0.0.1:${servicePort}/discord/interactions` }));
const guildId = '200000000000000001';
const channelId = '300000000000000001';
const you = { userId: '400000000000000001', userName: 'you' };

process.stdout.write(`Fakes running on 127.0.0.1:
  ${PORTS.map((port) => `${port.what}: port ${portOf(port)} (${port.variable}, default ${port.fallback})`).join('\n  ')}

Start the service with (every variable it needs to use only the fakes):

HF_TOKEN=${TOKENS.hf} HF_BASE_URL=${hf.baseUrl} HF_INFERENCE_URL=${hf.inferenceUrl} \\
SLACK_BOT_TOKEN=${TOKENS.bot} SLACK_SIGNING_SECRET=${TOKENS.signing} SLACK_API_URL=${slack.apiUrl} \\
DISCORD_TOKEN=${discord.token} DISCORD_APPLICATION_ID=${discord.applicationId} DISCORD_API_URL=${discord.api} \\
DISCORD_PUBLIC_KEY=${discord.publicKey} PORT=${servicePort} \\
npm start

Register the Discord slash commands on the fake (its guild):

DISCORD_TOKEN=${discord.token} DISCORD_APPLICATION_ID=${discord.applicationId} DISCORD_API_URL=${discord.api} \\
npm run register-commands -- --guild ${guildId}

Send a Slack mention and wait for the answer:

SLACK_SIGNING_SECRET=${TOKENS.signing} SLACK_API_URL=${slack.apiUrl} SLACK_BOT_TOKEN=${TOKENS.bot} \\
npm run slack:mention -- "what is a transformer?"

Or type a line here: it reaches the bot as a Discord mention once the service is connected, and
"/ask what is a transformer?" (or /reset, /sentiment, /model, /prompt) as a slash command, POSTed
signed to the service's /discord/interactions (port ${servicePort}).
`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = /^\/(\S+)\s*(.*)$/.exec(line.trim());
  if (command) return void slashCommand(command[1] ?? '', command[2] ?? '');
  if (discord.connectedClients === 0) return void process.stdout.write('(no Discord client connected yet)\n');
  discord.messageCreate({ channelId, authorId: you.userId, authorName: you.userName, content: `<@${discord.botUser.id}> ${line}`, mentionsBot: true });
});

/** A slash command as Discord sends it: its text goes into the command's one option, when it has one. */
function slashCommand(name: string, text: string): void {
  const definition = commandDefinitions.find((command) => command.name === name);
  if (!definition) return void process.stdout.write(`(no /${name}: try ${commandDefinitions.map((command) => `/${command.name}`).join(', ')})\n`);
  const option = 'options' in definition ? definition.options?.[0] : undefined;
  const options = option && text ? [{ name: option.name, type: ApplicationCommandOptionType.String, value: text }] : undefined;
  const sent = discord.interactionCreate({ name, channelId, guildId, ...you, ...(options ? { options } : {}) });
  void sent.http?.then(
    (response) => process.stdout.write(`(/${name}: the service answered ${response.status})\n`),
    (err: unknown) => process.stdout.write(`(/${name} did not reach the service on port ${servicePort}: ${err instanceof Error ? err.message : String(err)})\n`),
  );
}

const printed = new Map<string, string>();
setInterval(() => {
  for (const message of slack.botReplies()) {
    if (printed.get(message.ts) === message.text) continue;
    printed.set(message.ts, message.text);
    process.stdout.write(`[slack ${message.channel} ${message.ts} edit ${message.edits}] ${message.text}\n`);
  }
  for (const message of discord.botMessages()) {
    const content = `${message.edits}:${message.content}`;
    if (printed.get(message.id) === content) continue;
    printed.set(message.id, content);
    process.stdout.write(`[discord ${message.channel_id} ${message.id} edit ${message.edits}] ${message.content}\n`);
  }
}, 50).unref();

const stop = async () => {
  await Promise.all([hf.close(), slack.close(), discord.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
