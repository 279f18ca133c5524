/**
 * Sends one signed `app_mention` event to a running service, exactly as Slack's Events API would:
 *   SLACK_SIGNING_SECRET=... npm run slack:mention -- "your question" [--url http://127.0.0.1:3000/slack/events]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { eventCallback, postSignedEvent } from '../fakes/slack/signing.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 3000}/slack/events` },
    channel: { type: 'string', default: 'C0GENERAL' },
    user: { type: 'string', default: 'U0HUMAN' },
  },
});
const secret = process.env.SLACK_SIGNING_SECRET;
if (!secret) {
  process.stderr.write('SLACK_SIGNING_SECRET is not set: the service would reject the event.\n');
  process.exit(1);
}
const question = positionals.join(' ') || 'hello';
const ts = (Date.now() / 1000).toFixed(6);
const event = eventCallback(
  { type: 'app_mention', user: values.user, channel: values.channel, ts, text: `<@U0BOT> ${question}` },
  { eventId: `Ev${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}` },
);
const response = await postSignedEvent(values.url, secret, event);
process.stdout.write(`${response.status} ${await response.text()}\n`);
