/**
 * The bench's baseline: the same adapter code as the service, in one process, with no queue and no
 * Redis. Signed events arrive at a Bolt app with the HTTP receiver set up as the Slack gateway sets
 * it up (signature and age verified, same body limit, acked before the listener's work); the
 * listener normalizes the mention with the gateway's own `normalizeMention` and streams the answer
 * at once with the pieces the worker uses: SlackSurface over the same WebClient, the HF chat model,
 * buildPrompt and EditPacer. It deliberately avoids the gateway's wiring (intake, history, sentiment),
 * whose signatures change with features the bench does not measure.
 *
 * Configured by the same environment variables as the service (edit interval, model settings).
 * `GET /bench/lags` returns each finished reply's worst token-to-visible lag (pacer stats) and
 * forgets them, so the bench reads the same measure the worker reports in its job results.
 */
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import { verifySlackSignature } from '../../adapters/slack/verify-signature.ts';
import express from 'express';
import { normalizeMention } from '../../adapters/slack/normalize.ts';
import { createSlackWebClient, SlackSurface } from '../../adapters/slack/surface.ts';
import { adapters } from '../../adapters/index.ts';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { loadConfig } from '../../src/config.ts';
import { buildPrompt } from '../../src/conversation/prompt.ts';
import { chatJobSchema, type ChatJob } from '../../src/jobs/chat-job.ts';
import { ChatOutput } from '../../src/llm/chat-output.ts';
import { createHfChatModel } from '../../src/llm/hf-chat.ts';
import { createLogger } from '../../src/logger.ts';
import { EditPacer } from '../../src/stream/pacer.ts';
import { openReply } from '../../src/worker/open-reply.ts';

const BODY_LIMIT_BYTES = 256 * 1024;

const config = loadConfig(process.env, adapters, ['gateway', 'worker']);
const slack = slackAdapter.settingsFrom(process.env);
if (!slack) throw new Error('the baseline needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
const logger = createLogger({ level: config.logLevel, secrets: config.secrets, redaction: config.redaction });
const client = createSlackWebClient(slack);
const surface = new SlackSurface(client, slack, logger);
const model = createHfChatModel({
  baseUrl: config.hf.baseUrl,
  token: config.hf.token ?? '',
  model: config.hf.chatModel,
  maxTokens: config.hf.maxTokens,
  timeoutMs: config.hf.timeoutMs,
  streamIdleTimeoutMs: config.hf.streamIdleTimeoutMs,
});

const lags: number[] = [];

/**
 * The worker's hot path without Redis: the reply opened beside the model request (its placeholder
 * only if the answer is slow to begin), prompt, the model's parts gathered by ChatOutput, the
 * answer pushed to the pacer as it grows, the final render. (The worker's reasoning display and
 * "thinking" ticker have nothing to do here: the bench's model gives no reasoning.)
 */
async function answer(job: ChatJob): Promise<void> {
  const reply = openReply({ surface, job, saveMessageIds: async () => undefined, saveState: async () => undefined, mayHavePosted: false, scrub: (text) => text });
  try {
    const turns = buildPrompt(config.systemPrompt, [], job.text, config.context.maxChars);
    const pacer = new EditPacer({
      render: (text, final) => reply.render(text, final, final ? 'answer' : undefined),
      intervalMs: surface.editIntervalMs,
      onRenderError: (err) => logger.warn({ err }, 'an intermediate edit failed'),
    });
    const output = new ChatOutput();
    for await (const part of model.stream(turns, { signal: reply.failed })) {
      output.apply(part);
      if (output.answering) pacer.push(output.answer);
    }
    await pacer.finish(output.answer);
    lags.push(pacer.stats.maxVisibleLagMs);
  } finally {
    reply.close();
  }
}

const http = express();
http.disable('x-powered-by');
http.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});
http.get('/bench/lags', (_req, res) => {
  res.json({ lags: lags.splice(0) });
});

const auth = await client.auth.test();
// The signature is checked as the gateway checks it: in front of Bolt, Bolt's own check off.
http.use('/slack/events', verifySlackSignature(slack.signingSecret ?? '', BODY_LIMIT_BYTES));
const app = new App({
  token: slack.botToken,
  botId: auth.bot_id,
  botUserId: auth.user_id,
  convoStore: false,
  logLevel: LogLevel.WARN,
  clientOptions: { slackApiUrl: slack.apiUrl },
  receiver: new ExpressReceiver({
    signingSecret: slack.signingSecret ?? '',
    signatureVerification: false,
    app: http,
    endpoints: '/slack/events',
    bodyLimit: `${BODY_LIMIT_BYTES}b`,
  }),
});

// A Slack redelivery is answered once, as the service's claim in Redis does.
const seen = new Set<string>();
app.event('app_mention', async ({ event, body }) => {
  const job = normalizeMention(event, { teamId: body.team_id, eventId: body.event_id, botUserId: auth.user_id });
  if (!job || seen.has(job.id) || !job.text.trim()) return;
  seen.add(job.id);
  answer(chatJobSchema.parse(job)).catch((err: unknown) => logger.error({ err }, 'baseline answer failed'));
});

const server = http.listen(config.port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
