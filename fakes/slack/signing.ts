/**
 * Helpers for driving a Slack app the way Slack itself does: signed HTTP requests (Events API and
 * slash commands) and the payload shapes Slack sends. Used with the loopback fake in
 * `slack-server.ts`, but nothing here depends on it.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Identities the fake workspace uses unless a test overrides them; shared with `slack-server.ts`. */
export const SLACK_FAKE_DEFAULTS = {
  teamId: 'T0FAKE',
  teamDomain: 'fake-team',
  botUserId: 'U0BOT',
  botId: 'B0BOT',
  apiAppId: 'A0FAKE',
  /** Where `response_type: 'in_channel'` posts to a fake `response_url` land unless told otherwise. */
  channelId: 'C0GENERAL',
  botToken: 'xoxb-fake-bot-token',
  appToken: 'xapp-1-fake-app-token',
  /** The legacy verification token Slack still puts in payloads; Bolt ignores it. */
  verificationToken: 'fake-verification-token',
} as const;

/** The two headers Slack adds to every request it sends to an app. */
export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/**
 * Sign a request body the way Slack does: `v0=` + hex HMAC-SHA256 of `v0:${timestamp}:${body}`
 * keyed with the signing secret. `body` must be the exact bytes that will be sent.
 */
export function signSlackRequest(
  signingSecret: string,
  body: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSec) };
}

/** One entry of an Events API envelope's `authorizations` list. */
export interface EventAuthorization {
  enterprise_id: string | null;
  team_id: string;
  user_id: string;
  is_bot: boolean;
  is_enterprise_install: boolean;
}

export interface EventCallbackOptions {
  teamId?: string;
  /** Defaults to a fresh unique `Ev…` id, so each call is a distinct delivery. */
  eventId?: string;
  apiAppId?: string;
  /** The bot user the default `authorizations` entry names. */
  botUserId?: string;
  /** Unix seconds; defaults to now. */
  eventTime?: number;
  authorizations?: EventAuthorization[];
}

let eventCounter = 0;

/**
 * Wrap an inner event (`{type:'app_mention', user, text, ts, channel, …}`) in the full Events API
 * `event_callback` envelope, as POSTed to the Request URL or carried as a Socket Mode `events_api`
 * payload. `event_ts` is filled in from `ts` when the event lacks it.
 */
export function eventCallback(
  event: Record<string, unknown>,
  opts: EventCallbackOptions = {},
): Record<string, unknown> {
  const teamId = opts.teamId ?? SLACK_FAKE_DEFAULTS.teamId;
  const eventTime = opts.eventTime ?? Math.floor(Date.now() / 1000);
  eventCounter += 1;
  const eventId = opts.eventId ?? `Ev${eventTime.toString(36).toUpperCase()}${String(eventCounter).padStart(4, '0')}`;
  const authorizations = opts.authorizations ?? [
    {
      enterprise_id: null,
      team_id: teamId,
      user_id: opts.botUserId ?? SLACK_FAKE_DEFAULTS.botUserId,
      is_bot: true,
      is_enterprise_install: false,
    },
  ];
  const innerTs = typeof event.ts === 'string' ? event.ts : `${eventTime}.000000`;
  return {
    token: SLACK_FAKE_DEFAULTS.verificationToken,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: opts.apiAppId ?? SLACK_FAKE_DEFAULTS.apiAppId,
    event: { event_ts: innerTs, ...event },
    type: 'event_callback',
    event_id: eventId,
    event_time: eventTime,
    authorizations,
    is_ext_shared_channel: false,
    event_context: `4-fake-${eventId}`,
  };
}

export interface SlashCommandFields {
  command: string;
  text: string;
  user_id: string;
  channel_id: string;
  team_id?: string;
  trigger_id?: string;
  response_url: string;
  user_name?: string;
  channel_name?: string;
}

/**
 * Every field Slack sends with a slash command, as an object: the Socket Mode `slash_commands`
 * payload has exactly this shape, and `slashCommandForm` url-encodes it for the HTTP receiver.
 */
export function slashCommandPayload(fields: SlashCommandFields): Record<string, string> {
  const teamId = fields.team_id ?? SLACK_FAKE_DEFAULTS.teamId;
  return {
    token: SLACK_FAKE_DEFAULTS.verificationToken,
    team_id: teamId,
    team_domain: SLACK_FAKE_DEFAULTS.teamDomain,
    channel_id: fields.channel_id,
    channel_name: fields.channel_name ?? 'general',
    user_id: fields.user_id,
    user_name: fields.user_name ?? 'someone',
    command: fields.command,
    text: fields.text,
    api_app_id: SLACK_FAKE_DEFAULTS.apiAppId,
    is_enterprise_install: 'false',
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? `${Date.now()}.${randomBytes(4).readUInt32BE(0)}.${randomBytes(8).toString('hex')}`,
  };
}

/** A slash command body, `application/x-www-form-urlencoded`, as Slack POSTs it. */
export function slashCommandForm(fields: SlashCommandFields): string {
  return new URLSearchParams(slashCommandPayload(fields)).toString();
}

export interface PostSignedOptions {
  /** Defaults to `application/json` for objects and `application/x-www-form-urlencoded` for strings. */
  contentType?: string;
  /** Marks the request as Slack's n-th retry (`X-Slack-Retry-Num`). */
  retryNum?: number;
  /** `X-Slack-Retry-Reason` sent with `retryNum`; default `http_timeout`. */
  retryReason?: string;
  /** Sign as of this time (Unix seconds) — e.g. ten minutes ago to test the staleness check. */
  timestampSec?: number;
  /** Send a signature that does not match the body. */
  badSignature?: boolean;
}

/**
 * A request as Slack would send it: the body as raw text (objects as JSON for the Events API,
 * strings as they are for slash commands and interactivity forms), signed, with Slack's headers.
 */
export function signedRequest(signingSecret: string, body: object | string, opts: PostSignedOptions = {}): { raw: string; headers: Record<string, string> } {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType =
    opts.contentType ?? (typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json');
  // A wrong secret yields a well-formed signature that still fails verification.
  const secret = opts.badSignature ? `${signingSecret}-wrong` : signingSecret;
  const headers: Record<string, string> = {
    'content-type': contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...signSlackRequest(secret, raw, opts.timestampSec),
  };
  if (opts.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(opts.retryNum);
    headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
  }
  return { raw, headers };
}

/** POST a body to an app exactly as Slack would (`signedRequest`). */
export async function postSignedEvent(
  url: string,
  signingSecret: string,
  body: object | string,
  opts: PostSignedOptions = {},
): Promise<Response> {
  const { raw, headers } = signedRequest(signingSecret, body, opts);
  return fetch(url, { method: 'POST', headers, body: raw });
}

export interface FeedbackClickFields {
  user: string;
  channel: string;
  /** The message carrying the buttons. */
  messageTs: string;
  threadTs?: string;
  actionId: string;
  /** The clicked button's `value`. */
  value: string;
  responseUrl: string;
  teamId?: string;
}

/**
 * A `block_actions` payload for a click on a `feedback_buttons` element, as Slack sends it to the
 * interactivity URL (form field `payload`) or in a Socket Mode `interactive` envelope.
 */
export function feedbackClickPayload(fields: FeedbackClickFields): Record<string, unknown> {
  const teamId = fields.teamId ?? SLACK_FAKE_DEFAULTS.teamId;
  return {
    type: 'block_actions',
    token: SLACK_FAKE_DEFAULTS.verificationToken,
    api_app_id: SLACK_FAKE_DEFAULTS.apiAppId,
    team: { id: teamId, domain: SLACK_FAKE_DEFAULTS.teamDomain },
    user: { id: fields.user, username: fields.user.toLowerCase(), team_id: teamId },
    channel: { id: fields.channel, name: 'general' },
    container: { type: 'message', message_ts: fields.messageTs, channel_id: fields.channel, is_ephemeral: false, ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}) },
    message: { type: 'message', ts: fields.messageTs, ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}) },
    trigger_id: `${Date.now()}.${randomBytes(4).readUInt32BE(0)}`,
    response_url: fields.responseUrl,
    actions: [{ type: 'feedback_buttons', action_id: fields.actionId, block_id: 'feedback', value: fields.value, action_ts: `${Math.floor(Date.now() / 1000)}.000100` }],
  };
}

/** An interactivity body, `application/x-www-form-urlencoded` with one `payload` field, as Slack POSTs it. */
export function interactionForm(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
