import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import type { GatewayContext, RunningGateway } from '../../src/platform.ts';
import { duplicateConnection } from '../../src/queue/redis.ts';
import { askJobFor, chatJobFor, composerInput, parseSlashCommand, stopInput, PLAYGROUND_USER, PLAYGROUND_WORKSPACE, sentimentObservationFor, type ComposerInput } from './inbound.ts';
import { PLAYGROUND_PATH } from './path.ts';
import { PLAYGROUND_CHANNELS, type PlaygroundStore } from './store.ts';

// From the parent directory, so the path also holds in the build, where every chunk is in dist/bin/.
const PAGE_DIR = fileURLToPath(new URL('../playground/page/', import.meta.url));
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
export async function startPlaygroundGateway(
  context: GatewayContext,
  store: PlaygroundStore,
  info: PlaygroundInfo,
  /** Whether the page's person may change channel settings. */
  personIsAdmin: boolean,
): Promise<RunningGateway> {
  const { intake, commands, logger } = context;
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
      return verdict.status === 'rejected' && verdict.notice ? notice(input, verdict.notice.text) : undefined;
    }
    if (commands.has(name)) {
      const answer = await commands.run(name, {
        platform: 'playground',
        workspaceId: PLAYGROUND_WORKSPACE,
        channelId: input.channel,
        threadId: input.threadId,
        isDm: input.channel === 'dm',
        userId: PLAYGROUND_USER.id,
        argument,
        isPlatformAdmin: async () => personIsAdmin,
        sentimentTag: (label) => TAG_EMOJI[label],
      });
      return notice(input, answer);
    }
    const known = ['ask', ...commands.commands.map((command) => command.name)].map((known) => `/${known}`);
    return notice(input, `There is no /${name} here. Try ${known.slice(0, -1).join(', ')} or ${known.at(-1)}.`);
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
      if (verdict.status === 'rejected' && verdict.notice) await notice(input, verdict.notice.text);
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
  // Stop: the same core path as a platform's stop button; any worker holding the job stops it.
  router.post('/api/stop', async (req, res) => {
    const messageId = stopInput.safeParse(req.body);
    const answering = messageId.success ? (await store.get(messageId.data.messageId))?.answering : undefined;
    if (!answering) {
      res.status(409).json({ error: 'That answer is already finished.' });
      return;
    }
    await context.controls.stopAnswer(answering);
    res.status(202).json({ ok: true });
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
