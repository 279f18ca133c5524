import { App, ExpressReceiver, SocketModeReceiver, type ReceiverEvent } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RequestHandler } from 'express';
import { NotQueuedError } from '../../src/intake.ts';
import type { NewChatJob } from '../../src/jobs/chat-job.ts';
import { PlatformStartError, type GatewayContext, type RunningGateway } from '../../src/platform.ts';
import type { Surface } from '../../src/surface.ts';
import { toSlackText } from './format.ts';
import { slackLogger } from './logger.ts';
import { describeSlackFailure } from './reachability.ts';
import { agentView } from './agent-view.ts';
import { FEEDBACK_ACTION_ID } from './feedback.ts';
import { normalizeAskCommand, normalizeDirectMessage, normalizeMention, normalizeThreadMessage, parseSlashCommand } from './normalize.ts';
import type { SlackSettings } from './settings.ts';
import { verifySlackSignature } from './verify-signature.ts';

/** Slack's event and slash-command bodies are small; anything far larger is not from Slack. */
const BODY_LIMIT_BYTES = 256 * 1024;
const EVENTS_PATH = '/slack/events';
/**
 * Slack redelivers what is not answered with a 2xx within 3 s. An event is acknowledged only once
 * its job is durably queued; when Redis cannot take it within this long, Slack gets an error and
 * delivers it again (the claim makes a late success and the redelivery one answer, not two).
 */
const INTAKE_DEADLINE_MS = 2_000;

/** Listener errors reach `app.error` wrapped by Bolt; this finds ours inside. */
function notQueued(err: unknown): NotQueuedError | undefined {
  if (err instanceof NotQueuedError) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const inner = 'originals' in err && Array.isArray(err.originals) ? err.originals : 'original' in err ? [err.original] : [];
  return inner.find((candidate): candidate is NotQueuedError => candidate instanceof NotQueuedError);
}

/** A signed body Bolt cannot route (`null`, `{"event":null}`): the sender's mistake, not ours. */
function isMalformedEnvelope(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return true;
  const event = 'event' in body ? body.event : undefined;
  return event !== undefined && (typeof event !== 'object' || event === null || !('type' in event) || typeof event.type !== 'string');
}

/**
 * Socket Mode acknowledges an event before its listeners run (Bolt acks Events API envelopes at
 * once). Hold the acknowledgement until the listeners are done, and send none when they fail, so an
 * event whose job could not be queued is delivered again.
 */
function ackAfterListeners(receiver: SocketModeReceiver): void {
  const init = receiver.init.bind(receiver);
  receiver.init = (app) =>
    init(
      Object.assign(Object.create(app) as App, {
        processEvent: async (event: ReceiverEvent) => {
          let acked: { response: unknown } | undefined;
          await app.processEvent({ ...event, ack: async (response?: unknown) => void (acked = { response }) });
          if (acked) await event.ack(acked.response);
        },
      }),
    );
}

/**
 * In front of Bolt's receiver: a stopping gateway answers 503, so Slack redelivers the event to an
 * instance that is up. (Oversized bodies are refused by the signature check that follows.)
 */
function guardEvents(accepting: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (!accepting()) {
      res.status(503).end();
      return;
    }
    next();
  };
}

/**
 * The Slack gateway: a Bolt app over Socket Mode (SLACK_APP_TOKEN set) or the HTTP Events API at
 * POST /slack/events with signatures verified. It acks at once, turns each event into a job and
 * does nothing slow.
 */
export async function startSlackGateway(
  context: GatewayContext,
  slack: SlackSettings,
  client: WebClient,
  surface: Surface,
  agentClient: WebClient = client,
): Promise<RunningGateway> {
  const { intake, channelSettings, commands, logger } = context;
  const auth = await client.auth.test().catch((err: unknown) => {
    throw new PlatformStartError('slack', describeSlackFailure(err, slack.apiUrl), { cause: err });
  });
  const botUserId = auth.user_id;
  const common = {
    token: slack.botToken,
    botId: auth.bot_id,
    botUserId,
    logger: slackLogger(logger),
    convoStore: false as const,
    clientOptions: { slackApiUrl: slack.apiUrl },
  };
  let connected = false;
  let app: App;
  if (slack.appToken) {
    const receiver = new SocketModeReceiver({
      appToken: slack.appToken,
      logger: slackLogger(logger),
      // Socket Mode's own client opens its connection through the same (possibly proxied) Web API.
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
    });
    ackAfterListeners(receiver);
    receiver.client.on('connected', () => (connected = true));
    receiver.client.on('disconnected', () => (connected = false));
    receiver.client.on('reconnecting', () => (connected = false));
    app = new App({ ...common, receiver });
  } else {
    context.http.use(EVENTS_PATH, guardEvents(() => connected));
    context.http.use(EVENTS_PATH, verifySlackSignature(slack.signingSecret ?? '', BODY_LIMIT_BYTES));
    app = new App({
      ...common,
      receiver: new ExpressReceiver({
        signingSecret: slack.signingSecret ?? '',
        // Verified just above (verify-signature.ts), the same checks without tsscmp's cost.
        signatureVerification: false,
        app: context.http,
        endpoints: EVENTS_PATH,
        bodyLimit: `${BODY_LIMIT_BYTES}b`,
        logger: slackLogger(logger),
        // The 200 goes out after the listeners have queued the job, never before.
        processBeforeResponse: true,
        processEventErrorHandler: async ({ error, request, response }) => {
          if (response.headersSent) return false;
          if (notQueued(error)) {
            response.writeHead(503).end();
            return false;
          }
          if (isMalformedEnvelope((request as { body?: unknown }).body)) {
            response.writeHead(400).end();
            return false;
          }
          logger.error({ err: error }, 'slack event processing failed');
          response.writeHead(500).end();
          return false;
        },
      }),
    });
    connected = true;
  }

  const submit = async (job: NewChatJob) => {
    const verdict = await intake.submit(job, { deadlineMs: INTAKE_DEADLINE_MS });
    logger.debug({ jobId: job.id, status: verdict.status }, 'slack event taken in');
    if (verdict.status === 'rejected' && verdict.notice) {
      await surface.notice(
        { workspaceId: job.workspaceId, channelId: job.channelId, userId: job.userId, threadId: job.reply.threadId, via: job.reply.via },
        verdict.notice.kind,
        verdict.notice.text,
      );
    }
  };

  app.event('app_mention', async ({ event, body }) => {
    const job = normalizeMention(event, { teamId: body.team_id, eventId: body.event_id, botUserId });
    if (job) await submit(job);
  });

  const agent = agentView({ context, slack, client: agentClient, logger });

  app.event('message', async ({ event, body }) => {
    const envelope = { teamId: body.team_id, eventId: body.event_id, botUserId };
    const job = normalizeDirectMessage(event, envelope);
    if (job) return submit(await agent.withContextNote(job));
    const observation = normalizeThreadMessage(event, envelope);
    if (!observation) return;
    // A channel can ask for answers in the bot's threads without a mention: then it is one.
    const settings = await channelSettings.resolve({ platform: 'slack', workspaceId: observation.workspaceId, channelId: observation.channelId });
    if (settings.answerWithoutMention && (await intake.participates(observation.conversation))) {
      const asMention = normalizeMention({ ...(event as object), type: 'app_mention' }, envelope);
      if (asMention) return submit(asMention);
    }
    await intake.observe(observation, { deadlineMs: INTAKE_DEADLINE_MS });
  });

  app.event('assistant_thread_started', async ({ event, body }) => agent.threadStarted(event, body.team_id));
  app.event('assistant_thread_context_changed', async ({ event }) => agent.contextChanged(event));
  app.event('agent_session_stopped', async ({ event, body }) => agent.sessionStopped(event, body.team_id));

  // Feedback buttons: acked at once, then recorded (once per person and answer) and confirmed to the person.
  app.action(FEEDBACK_ACTION_ID, async ({ ack, body, action, respond }) => {
    await ack();
    void agent.feedback(action, body.user.id, respond).catch((err: unknown) => logger.warn({ err }, 'could not record feedback'));
  });

  app.command(slack.commands.ask, async ({ command, ack }) => {
    const parsed = parseSlashCommand(command);
    if (!parsed) {
      logger.warn('ignoring a malformed slash command payload');
      return ack();
    }
    // Acknowledged once queued: a command Redis could not take shows Slack's own failure to the user.
    await submit(normalizeAskCommand(parsed));
    await ack();
  });

  /** Workspace admins and owners may change channel settings (ADMIN_USER_IDS is checked by the core). */
  const isWorkspaceAdmin = async (userId: string) => {
    const { user } = await client.users.info({ user: userId });
    return Boolean(user?.is_admin || user?.is_owner);
  };
  // The core's commands, under the names the Slack app registers; the answer is ephemeral.
  for (const { name } of commands.commands) {
    app.command(slack.commands[name] ?? `/${name}`, async ({ command, ack }) => {
      const parsed = parseSlashCommand(command);
      if (!parsed) return ack();
      const text = await commands.run(name, {
        platform: 'slack',
        workspaceId: parsed.team_id,
        channelId: parsed.channel_id,
        // Slash commands do not say which thread they were typed in.
        isDm: parsed.channel_id.startsWith('D'),
        userId: parsed.user_id,
        argument: parsed.text,
        isPlatformAdmin: () => isWorkspaceAdmin(parsed.user_id),
        sentimentTag: (label) => `:${slack.sentimentEmoji[label]}:`,
      });
      await ack({ response_type: 'ephemeral', text: toSlackText(text) });
    });
  }

  app.error(async (err) => {
    // Not queued: rethrown, so the receiver answers Slack with an error and Slack delivers it again.
    const lost = notQueued(err);
    if (lost) {
      logger.warn({ err: lost.message }, 'slack event not queued; Slack will deliver it again');
      throw lost;
    }
    logger.error({ err }, 'slack listener failed');
  });

  if (slack.appToken) await app.start();
  logger.info({ mode: slack.appToken ? 'socket' : 'http', botUserId }, 'slack gateway started');
  return {
    ready: () => connected,
    stop: async () => {
      connected = false;
      if (slack.appToken) await app.stop();
    },
  };
}
