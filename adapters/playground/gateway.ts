import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import { conversationKey } from '../../src/jobs/chat-job.ts';
import type { GatewayContext, RunningGateway } from '../../src/platform.ts';
import { duplicateConnection } from '../../src/queue/redis.ts';
import { describeSentiment } from '../../src/sentiment/report.ts';
import { channelScope } from '../../src/sentiment/store.ts';
import type { Surface } from '../../src/surface.ts';
import { askJobFor, chatJobFor, composerInput, parseSlashCommand, PLAYGROUND_USER, PLAYGROUND_WORKSPACE, sentimentObservationFor, type ComposerInput } from './inbound.ts';
import { PLAYGROUND_CHANNELS, type PlaygroundStore } from './store.ts';

export const PLAYGROUND_PATH = '/playground';
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const TAG_EMOJI = { positive: '🟢', neutral: '⚪', negative: '🔴' } as const;
const KEEPALIVE_MS = 15_000;

export interface PlaygroundInfo {
  demoModel: boolean;
  model: string;
  style: 'slack' | 'discord';
}

/**
 * The playground's inbound side: the page, its API, and a live feed of message changes (server-
 * sent events, relayed from Redis pub/sub so any worker's edits reach every open page).
 */
export async function startPlaygroundGateway(context: GatewayContext, store: PlaygroundStore, surface: Surface, info: PlaygroundInfo): Promise<RunningGateway> {
  const { intake, history, sentiment, logger } = context;
  const feeds = new Set<Response>();
  const subscriber = duplicateConnection(context.redis);
  subscriber.on('message', (_channel: string, payload: string) => {
    for (const feed of feeds) feed.write(`data: ${payload}\n\n`);
  });
  await subscriber.subscribe(store.eventsChannel);

  /** A notice only the person sees, where they typed. */
  const notice = (input: ComposerInput, text: string) =>
    store.create({ channel: input.channel, threadId: input.threadId, author: 'bot', text, ephemeral: true });

  const runCommand = async (input: ComposerInput, name: string, argument: string) => {
    if (name === 'ask') {
      if (!argument) return notice(input, 'Usage: `/ask your question`');
      const verdict = await intake.submit(askJobFor(input.channel, argument, randomUUID()));
      return verdict.status === 'rejected' ? notice(input, verdict.notice.text) : undefined;
    }
    if (name === 'reset') {
      await history.clear(conversationKey({ platform: 'playground', workspaceId: PLAYGROUND_WORKSPACE, channelId: 'dm' }));
      return notice(input, 'Done: I’ve forgotten our DM conversation. The next message starts afresh.');
    }
    if (name === 'sentiment') {
      const scope = input.threadId
        ? conversationKey({ platform: 'playground', workspaceId: PLAYGROUND_WORKSPACE, channelId: input.channel, threadId: input.threadId })
        : input.channel === 'dm'
          ? conversationKey({ platform: 'playground', workspaceId: PLAYGROUND_WORKSPACE, channelId: 'dm' })
          : channelScope('playground', PLAYGROUND_WORKSPACE, input.channel);
      const where = input.threadId ? 'this thread' : input.channel === 'dm' ? 'our conversation' : 'this channel';
      return notice(input, describeSentiment(where, await sentiment.read(scope), (label) => TAG_EMOJI[label]));
    }
    return notice(input, `There is no /${argument} here. Try /ask, /sentiment or /reset.`);
  };

  const post = async (req: Request, res: Response) => {
    const parsed = composerInput.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((issue) => issue.message).join(' ') });
      return;
    }
    const input = parsed.data;
    const command = parseSlashCommand(input.text);
    if (command) {
      await runCommand(input, command.name, command.argument);
      res.status(202).json({ ok: true });
      return;
    }
    const message = await store.create({ channel: input.channel, threadId: input.threadId, author: 'user', text: input.text });
    const job = chatJobFor(message);
    if (job) {
      const verdict = await intake.submit(job);
      if (verdict.status === 'rejected') await notice(input, verdict.notice.text);
    } else {
      const observation = sentimentObservationFor(message);
      if (observation) await intake.observe(observation);
    }
    res.status(201).json({ message });
  };

  const router = express.Router();
  // Room for MAX_COMPOSER_CHARS characters of any script, escaped as JSON.
  router.use(express.json({ limit: '512kb' }));
  router.get('/api/info', (_req, res) => {
    res.json({ ...info, user: PLAYGROUND_USER.name, channels: PLAYGROUND_CHANNELS });
  });
  router.get('/api/messages', async (req, res) => {
    const channel = PLAYGROUND_CHANNELS.find((name) => name === req.query.channel) ?? 'general';
    const thread = typeof req.query.thread === 'string' && /^m\d+$/.test(req.query.thread) ? req.query.thread : undefined;
    const messages = await store.list(channel, thread);
    res.json({ messages, ...(thread ? {} : { replies: await store.replies(channel, messages) }) });
  });
  router.get('/api/events', (req, res) => {
    res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' }).flushHeaders();
    res.write(': connected\n\n');
    feeds.add(res);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    req.on('close', () => {
      clearInterval(keepAlive);
      feeds.delete(res);
    });
  });
  router.post('/api/messages', (req, res) => {
    post(req, res).catch((err: unknown) => {
      logger.error({ err }, 'playground message failed');
      if (!res.headersSent) res.status(500).json({ error: 'the message could not be sent' });
    });
  });
  router.use(express.static(PAGE_DIR, { index: 'index.html', maxAge: 0 }));
  context.http.use(PLAYGROUND_PATH, router);

  logger.info({ url: `http://localhost:${context.config.port}${PLAYGROUND_PATH}`, demoModel: info.demoModel }, 'playground ready');
  return {
    ready: () => subscriber.status === 'ready',
    stop: async () => {
      for (const feed of feeds) feed.end();
      feeds.clear();
      await subscriber.quit();
    },
  };
}
