/**
 * Runs the in-repo fakes of the Hugging Face router and the Slack Web API on fixed loopback ports,
 * so `npm start` can be tried end to end with no credentials and no network:
 *
 *   npm run fakes                       # terminal 1: prints the variables to use
 *   <those variables> npm start         # terminal 2
 *   npm run slack:mention -- "hello"    # terminal 3: a signed app_mention, as Slack sends it
 *
 * Every message the bot posts or edits is printed here as Slack would show it.
 */
import { startHfFake } from '../test/fakes/hf-server.ts';
import { startSlackFake } from '../test/fakes/slack-server.ts';

const HF_PORT = Number(process.env.FAKE_HF_PORT ?? 8781);
const SLACK_PORT = Number(process.env.FAKE_SLACK_PORT ?? 8782);
const TOKENS = { hf: 'hf_fake_local_token', bot: 'xoxb-fake-local-bot-token', signing: 'fake-local-signing-secret' };

const hf = await startHfFake({ port: HF_PORT, defaultTokenDelayMs: 40 });
const slack = await startSlackFake({ port: SLACK_PORT, botToken: TOKENS.bot });

process.stdout.write(`Fakes running. Start the service with:

HF_TOKEN=${TOKENS.hf} HF_BASE_URL=${hf.baseUrl} \\
SLACK_BOT_TOKEN=${TOKENS.bot} SLACK_SIGNING_SECRET=${TOKENS.signing} SLACK_API_URL=${slack.apiUrl} \\
npm start

Then: SLACK_SIGNING_SECRET=${TOKENS.signing} npm run slack:mention -- "what is a transformer?"
`);

const printed = new Map<string, string>();
setInterval(() => {
  for (const message of slack.botReplies()) {
    if (printed.get(message.ts) === message.text) continue;
    printed.set(message.ts, message.text);
    process.stdout.write(`[slack ${message.channel} ${message.ts} edit ${message.edits}] ${message.text}\n`);
  }
}, 50).unref();

const stop = async () => {
  await Promise.all([hf.close(), slack.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
