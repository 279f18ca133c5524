import { eventCallback, postSignedEvent, slashCommandForm } from '../../fakes/slack/signing.ts';
import { secrets } from './service.ts';

export interface SlackUserOptions {
  /** The service's base URL; a function, since the service usually starts after the driver is made. */
  baseUrl: () => string;
  /** The channel events happen in unless a call names another. */
  channel: string;
  /** The bot user a mention names; default `U0BOT`. */
  botUserId?: string;
  teamId?: string;
  /** Starts every event id, so a file's jobs are easy to tell apart in logs; default `Ev`. */
  eventPrefix?: string;
  /** The first event's ts is this (Unix seconds) plus one, and each event adds one; default 1_700_000_000. */
  firstTsSec?: number;
}

export interface SentEvent {
  response: Response;
  ts: string;
  eventId: string;
  /** The id of the chat job the gateway makes of the event. */
  jobId: string;
}

export interface MentionOptions {
  /** Default: a fresh user per event, so per-user limits never link events together. */
  user?: string;
  channel?: string;
  threadTs?: string;
  ts?: string;
  eventId?: string;
  /** Deliver as Slack's n-th retry. */
  retryNum?: number;
  /** More fields of the inner event (`subtype`, `files`, …). */
  extra?: Record<string, unknown>;
}

/**
 * A person on Slack talking to the bot over the HTTP Events API: signed mentions, DMs and slash
 * commands, each with Slack-shaped, increasing timestamps and unique event ids.
 */
export function slackUser(opts: SlackUserOptions) {
  const botUserId = opts.botUserId ?? 'U0BOT';
  const eventPrefix = opts.eventPrefix ?? 'Ev';
  const firstTsSec = opts.firstTsSec ?? 1_700_000_000;
  let sequence = 0;

  const next = (ts?: string, eventId?: string) => {
    sequence += 1;
    return { ts: ts ?? `${firstTsSec + sequence}.000100`, eventId: eventId ?? `${eventPrefix}${Date.now()}${sequence}` };
  };

  /** Posts one inner event, signed, in its `event_callback` envelope. */
  async function send(event: Record<string, unknown>, eventId: string, retryNum?: number): Promise<Response> {
    const envelope = eventCallback(event, { eventId, ...(opts.teamId ? { teamId: opts.teamId } : {}) });
    return postSignedEvent(`${opts.baseUrl()}/slack/events`, secrets.slackSigningSecret, envelope, retryNum === undefined ? {} : { retryNum });
  }

  return {
    send,

    /** `@bot text` in a channel (in a thread with `threadTs`); `thread` is where the answer goes. */
    async mention(text: string, options: MentionOptions = {}): Promise<SentEvent & { thread: string }> {
      const { ts, eventId } = next(options.ts, options.eventId);
      const event = {
        type: 'app_mention',
        user: options.user ?? `U0USER${sequence}`,
        text: `<@${botUserId}> ${text}`,
        ts,
        channel: options.channel ?? opts.channel,
        event_ts: ts,
        ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
        ...options.extra,
      };
      const response = await send(event, eventId, options.retryNum);
      return { response, ts, eventId, jobId: `slack-ev-${eventId}`, thread: options.threadTs ?? ts };
    },

    /** A plain message (no mention) in a channel, or in a thread with `threadTs`. */
    async message(text: string, options: Omit<MentionOptions, 'retryNum'> = {}): Promise<SentEvent> {
      const { ts, eventId } = next(options.ts, options.eventId);
      const event = {
        type: 'message',
        channel_type: 'channel',
        user: options.user ?? `U0USER${sequence}`,
        text,
        ts,
        channel: options.channel ?? opts.channel,
        event_ts: ts,
        ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
        ...options.extra,
      };
      return { response: await send(event, eventId), ts, eventId, jobId: `slack-ev-${eventId}` };
    },

    /** A message in the DM `channel`. */
    async directMessage(text: string, channel: string, user = 'U0DM'): Promise<SentEvent> {
      const { ts, eventId } = next();
      const event = { type: 'message', channel_type: 'im', user, text, ts, channel, event_ts: ts };
      return { response: await send(event, eventId), ts, eventId, jobId: `slack-ev-${eventId}` };
    },

    /** A slash command over HTTP; Slack's own `response_url` goes to `responseUrl`. */
    async command(command: string, text: string, fields: { user: string; responseUrl: string; channel?: string; teamId?: string }): Promise<Response> {
      const form = slashCommandForm({
        command,
        text,
        user_id: fields.user,
        channel_id: fields.channel ?? opts.channel,
        response_url: fields.responseUrl,
        ...(fields.teamId ?? opts.teamId ? { team_id: fields.teamId ?? opts.teamId } : {}),
      });
      return postSignedEvent(`${opts.baseUrl()}/slack/events`, secrets.slackSigningSecret, form);
    },
  };
}
