/**
 * The soak's traffic: signed Slack events as Slack sends them (mentions, each in its own thread,
 * and DMs, each in its own DM), Slack's redeliveries of some of them, refused events delivered
 * again and again, and payloads that must never be answered: a wrong signature, a stale
 * timestamp, malformed JSON and a body over 256 kB. Like Slack, it delivers an event again when
 * the gateway does not answer 2xx, on a compressed version of Slack's schedule.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { eventCallback, postSignedEvent } from '../../fakes/slack/signing.ts';
import { expectedAnswer, PING_MARKER } from './soak-model.ts';

export const FORGED_CHANNEL = 'C0FORGED';
export const FORGED_WORD = 'forgedpayload';
const MENTION_CHANNELS = ['C0SOAK1', 'C0SOAK2', 'C0SOAK3'];
export const REFUSED_CHANNEL = 'C0REFUSED';
/**
 * Slack retries an event not acknowledged with a 2xx three times: at once, after a minute and
 * after five. The soak keeps the shape and shrinks the waits.
 */
const SLACK_RETRY_DELAYS_MS = [500, 3_000, 8_000];

export interface ValidEvent {
  n: number;
  kind: 'mention' | 'dm';
  channel: string;
  /** The thread the answer belongs in (mentions); DMs are answered at the top of the DM. */
  threadTs: string | undefined;
  eventId: string;
  question: string;
  expected: string;
  /** The last delivery's HTTP status (0: no answer). */
  status: number;
  /** Some delivery was answered 2xx: Slack will not send it again, so it must be answered. */
  acked: boolean;
  deliveries: number;
  /** The model's answer carries look-alike and markup mentions, which must reach Slack defused. */
  pings: boolean;
  /** The user who asked (the one id an answer may mention). */
  user: string;
  sentAt: number;
  /** Sent while Redis was down (the gateway must hold it until Redis is back). */
  duringRedisOutage: boolean;
  /** Not finished when Redis restarted (only when the restart could not wait for a quiet moment). */
  inFlightAtRedisRestart: boolean;
}

export const BAD_KINDS = ['bad_signature', 'stale', 'malformed', 'oversized'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

export interface BadPayload {
  kind: BadKind;
  /** The HTTP status, or 0 when the gateway closed the connection without one. */
  status: number;
}

/** An event refused with a notice (an empty mention), delivered several times. */
export interface RefusedEvent {
  user: string;
  statuses: number[];
}

/** Where the user's message is put, as Slack has it before it sends the event. */
export type SeedMessage = (message: { channel: string; user: string; text: string; ts: string }) => void;

export class Traffic {
  readonly valid: ValidEvent[] = [];
  readonly bad: BadPayload[] = [];
  readonly refused: RefusedEvent[] = [];
  redeliveries = 0;
  readonly #url: string;
  readonly #secret: string;
  readonly #botUserId: string;
  readonly #seed: SeedMessage;
  readonly #tag = Date.now().toString(36).toUpperCase();
  #sequence = 0;

  constructor(eventsUrl: string, signingSecret: string, botUserId: string, seed: SeedMessage) {
    this.#url = eventsUrl;
    this.#secret = signingSecret;
    this.#botUserId = botUserId;
    this.#seed = seed;
  }

  #next() {
    this.#sequence += 1;
    const n = this.#sequence;
    return { n, ts: `${1_700_000_000 + n}.000200`, eventId: `EvSOAK${this.#tag}${n}` };
  }

  /**
   * Sends one valid event, delivering it again as Slack would until it is acknowledged or Slack's
   * retries run out; the returned record fills in what happened.
   */
  async sendValid(kind: 'mention' | 'dm', options: { duringRedisOutage?: boolean; pings?: boolean } = {}): Promise<ValidEvent> {
    const { n, ts, eventId } = this.#next();
    const pings = options.pings ?? false;
    const question = `soak e${n} tell me about queues and workers please${pings ? ` ${PING_MARKER}` : ''}`;
    const channel = kind === 'mention' ? (MENTION_CHANNELS[n % MENTION_CHANNELS.length] ?? 'C0SOAK1') : `D0SOAK${n}`;
    const user = `US${n % 7}`;
    const event =
      kind === 'mention'
        ? { type: 'app_mention', user, text: `<@${this.#botUserId}> ${question}`, ts, channel, event_ts: ts }
        : { type: 'message', channel_type: 'im', user, text: question, ts, channel, event_ts: ts };
    const record: ValidEvent = {
      n,
      kind,
      channel,
      threadTs: kind === 'mention' ? ts : undefined,
      eventId,
      question,
      expected: expectedAnswer(question),
      status: 0,
      acked: false,
      deliveries: 0,
      pings,
      user,
      sentAt: Date.now(),
      duringRedisOutage: options.duringRedisOutage ?? false,
      inFlightAtRedisRestart: false,
    };
    this.valid.push(record);
    this.#seed({ channel, user, text: event.text, ts });
    const body = eventCallback(event, { eventId });
    for (let retry = 0; ; retry++) {
      record.status = await this.#post(body, retry === 0 ? {} : { retryNum: retry, retryReason: 'http_error' });
      record.deliveries += 1;
      record.acked = record.status >= 200 && record.status < 300;
      const wait = SLACK_RETRY_DELAYS_MS[retry];
      if (record.acked || wait === undefined) return record;
      await sleep(wait);
    }
  }

  /** An empty mention (refused with a notice), then delivered `times` times in all. */
  async sendRefused(times: number): Promise<RefusedEvent> {
    const { n, ts, eventId } = this.#next();
    const record: RefusedEvent = { user: `UREFUSED${n}`, statuses: [] };
    this.refused.push(record);
    const event = { type: 'app_mention', user: record.user, text: `<@${this.#botUserId}>   `, ts, channel: REFUSED_CHANNEL, event_ts: ts };
    const body = eventCallback(event, { eventId });
    for (let retry = 0; retry < times; retry++) record.statuses.push(await this.#post(body, retry === 0 ? {} : { retryNum: retry, retryReason: 'http_timeout' }));
    return record;
  }

  /** Slack's retry of an event it thinks was not acked: same event id, `X-Slack-Retry-Num: 1`. */
  async redeliver(original: ValidEvent): Promise<number> {
    this.redeliveries += 1;
    const ts = original.threadTs ?? `${1_700_000_000 + original.n}.000200`;
    const event =
      original.kind === 'mention'
        ? { type: 'app_mention', user: `US${original.n % 7}`, text: `<@${this.#botUserId}> ${original.question}`, ts, channel: original.channel, event_ts: ts }
        : { type: 'message', channel_type: 'im', user: `US${original.n % 7}`, text: original.question, ts, channel: original.channel, event_ts: ts };
    return this.#post(eventCallback(event, { eventId: original.eventId }), { retryNum: 1 });
  }

  async sendBad(kind: BadKind): Promise<BadPayload> {
    const { n, ts, eventId } = this.#next();
    const text = `<@${this.#botUserId}> ${FORGED_WORD} ${n} answer me`;
    const event = { type: 'app_mention', user: 'UFORGER', text, ts, channel: FORGED_CHANNEL, event_ts: ts };
    let status: number;
    switch (kind) {
      case 'bad_signature':
        status = await this.#post(eventCallback(event, { eventId }), { badSignature: true });
        break;
      case 'stale':
        status = await this.#post(eventCallback(event, { eventId }), { timestampSec: Math.floor(Date.now() / 1000) - 600 });
        break;
      case 'malformed':
        status = await this.#post(JSON.stringify(eventCallback(event, { eventId })).slice(0, -7), { contentType: 'application/json' });
        break;
      case 'oversized':
        status = await this.#post(eventCallback({ ...event, text: `${text} ${'x'.repeat(300_000)}` }, { eventId }), {});
        break;
    }
    const record = { kind, status };
    this.bad.push(record);
    return record;
  }

  async #post(body: object | string, options: Parameters<typeof postSignedEvent>[3]): Promise<number> {
    try {
      const response = await postSignedEvent(this.#url, this.#secret, body, options);
      await response.arrayBuffer();
      return response.status;
    } catch {
      // The gateway may cut an oversized body off mid-send; that is a refusal too.
      return 0;
    }
  }
}
