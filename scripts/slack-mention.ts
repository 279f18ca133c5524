/**
 * Sends one signed `app_mention` event to a running service, exactly as Slack's Events API would,
 * then waits for the bot's answer in the thread and prints it:
 *   SLACK_SIGNING_SECRET=... [SLACK_API_URL=... SLACK_BOT_TOKEN=...] npm run slack:mention -- "your question"
 *     [--url http://127.0.0.1:3000/slack/events] [--channel C0GENERAL] [--user U0HUMAN] [--timeout 60]
 * With SLACK_API_URL and SLACK_BOT_TOKEN (`npm run fakes` prints both) the question is first put in
 * the fake's channel, as Slack would hold it, and the answer is read back from there; without them
 * the script only sends.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { eventCallback, postSignedEvent, SLACK_FAKE_DEFAULTS } from '../fakes/slack/signing.ts';

/** How long the answer must stay unchanged to count as final (the bot edits it while it streams). */
const SETTLED_MS = 2_000;
const POLL_MS = 250;
/** The bot's placeholder while the model starts (Slack's emphasis comes wrapped in zero-width spaces). */
const PLACEHOLDER = /^\u200B?_Thinking…/;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 3000}/slack/events` },
    channel: { type: 'string', default: 'C0GENERAL' },
    user: { type: 'string', default: 'U0HUMAN' },
    timeout: { type: 'string', default: '60' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** A network failure as one line: what was unreachable and what to check. */
function unreachable(err: unknown, url: string, what: string): never {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') fail(`Connection refused at ${url}: is ${what} running on that port?`);
  fail(`Could not reach ${url} (${what}): ${cause instanceof Error ? cause.message : String(cause)}`);
}

const secret = process.env.SLACK_SIGNING_SECRET;
if (!secret) fail('SLACK_SIGNING_SECRET is not set: the service would reject the event.');
const timeoutSec = Number(values.timeout);
if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) fail(`--timeout ${values.timeout}: expected seconds, e.g. 60.`);

const question = positionals.join(' ') || 'hello';
const ts = (Date.now() / 1000).toFixed(6);
const event = eventCallback(
  { type: 'app_mention', user: values.user, channel: values.channel, ts, text: `<@${SLACK_FAKE_DEFAULTS.botUserId}> ${question}` },
  { eventId: `Ev${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}` },
);
const apiUrl = process.env.SLACK_API_URL;
const botToken = process.env.SLACK_BOT_TOKEN;

// On the fake, put the question in the channel first, as Slack holds a message before it sends
// the event about it (the bot reacts to it and reads its thread).
if (apiUrl) {
  const seedUrl = new URL('/fake/messages', apiUrl).href;
  const seeded = await fetch(seedUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: values.channel, user: values.user, text: `<@${SLACK_FAKE_DEFAULTS.botUserId}> ${question}`, ts }),
  }).catch((err: unknown) => unreachable(err, seedUrl, 'the Slack fake (npm run fakes)'));
  if (!seeded.ok) process.stdout.write(`(${seedUrl} answered ${seeded.status}: not the fake? The question is not stored in the channel.)\n`);
}

process.stdout.write(`Posting a signed app_mention to ${values.url}\n`);
const response = await postSignedEvent(values.url, secret, event).catch((err: unknown) => unreachable(err, values.url, 'the service (npm start)'));
process.stdout.write(`${response.status} ${await response.text()}\n`);
if (!response.ok) process.exit(1);

if (!apiUrl || !botToken) {
  process.stdout.write('Set SLACK_API_URL and SLACK_BOT_TOKEN (npm run fakes prints them) to wait for the answer here.\n');
  process.exit(0);
}

const replies = z.object({
  ok: z.boolean(),
  error: z.string().optional(),
  messages: z.array(z.object({ ts: z.string(), text: z.string().optional(), bot_id: z.string().optional() })).optional(),
});

/** The bot's latest reply in the mention's thread, if any. */
async function botReply(): Promise<string | undefined> {
  const url = new URL('conversations.replies', apiUrl?.endsWith('/') ? apiUrl : `${apiUrl}/`);
  const result = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${botToken}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ channel: values.channel, ts }),
  }).catch((err: unknown) => unreachable(err, url.href, 'the Slack fake (npm run fakes)'));
  const body = replies.parse(await result.json());
  if (!body.ok && body.error !== 'thread_not_found') fail(`conversations.replies at ${url.href} answered ${body.error ?? 'an error'}.`);
  return body.messages?.filter((message) => message.bot_id !== undefined).at(-1)?.text;
}

process.stdout.write(`Waiting up to ${timeoutSec} s for the answer in ${values.channel}, thread ${ts}…\n`);
const deadline = Date.now() + timeoutSec * 1000;
let last: string | undefined;
let unchangedSince = Date.now();
while (Date.now() < deadline) {
  const text = await botReply();
  if (text !== last) {
    last = text;
    unchangedSince = Date.now();
  } else if (text !== undefined && !PLACEHOLDER.test(text) && Date.now() - unchangedSince >= SETTLED_MS) {
    process.stdout.write(`Answer:\n${text}\n`);
    process.exit(0);
  }
  await sleep(POLL_MS);
}
process.stdout.write(last === undefined ? `No answer within ${timeoutSec} s.\n` : `Timed out after ${timeoutSec} s; the answer so far:\n${last}\n`);
process.exit(1);
