/**
 * Runs the in-repo fakes of the Hugging Face router, the Slack Web API and Discord (REST and
 * gateway) on fixed loopback ports, so `npm start` can be tried end to end with no credentials and
 * no network:
 *
 *   npm run fakes                       # terminal 1: prints the variables to use
 *   <those variables> npm start         # terminal 2
 *   npm run slack:mention -- "hello"    # terminal 3: a signed app_mention, as Slack sends it
 *   (or type a line in terminal 1: it reaches the bot as a Discord mention)
 *
 * Every message the bot posts or edits is printed here as the platform would show it.
 */
import { createInterface } from 'node:readline';
import { startDiscordFake } from '../fakes/discord/server.ts';
import { startHfFake } from '../fakes/hf/server.ts';
import { startSlackFake } from '../fakes/slack/server.ts';

const HF_PORT = Number(process.env.FAKE_HF_PORT ?? 8781);
const SLACK_PORT = Number(process.env.FAKE_SLACK_PORT ?? 8782);
const DISCORD_PORT = Number(process.env.FAKE_DISCORD_PORT ?? 8783);
const TOKENS = { hf: 'hf_fake_local_token', bot: 'xoxb-fake-local-bot-token', signing: 'fake-local-signing-secret' };

const hf = await startHfFake({ port: HF_PORT, defaultTokenDelayMs: 40 });
const slack = await startSlackFake({ port: SLACK_PORT, botToken: TOKENS.bot });
const discord = await startDiscordFake({ port: DISCORD_PORT });

process.stdout.write(`Fakes running. Start the service with:

HF_TOKEN=${TOKENS.hf} HF_BASE_URL=${hf.baseUrl} \\
SLACK_BOT_TOKEN=${TOKENS.bot} SLACK_SIGNING_SECRET=${TOKENS.signing} SLACK_API_URL=${slack.apiUrl} \\
DISCORD_TOKEN=${discord.token} DISCORD_APPLICATION_ID=${discord.applicationId} DISCORD_API_URL=${discord.api} \\
npm start

Then: SLACK_SIGNING_SECRET=${TOKENS.signing} npm run slack:mention -- "what is a transformer?"
Or type a line here: it reaches the bot as a Discord mention once the service is connected.
`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (discord.connectedClients === 0) return void process.stdout.write('(no Discord client connected yet)\n');
  const channel = '300000000000000001';
  discord.messageCreate({ channelId: channel, authorId: '400000000000000001', authorName: 'you', content: `<@${discord.botUser.id}> ${line}`, mentionsBot: true });
});

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
