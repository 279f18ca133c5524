/**
 * Closed-loop load: N conversations, each sending a signed Slack mention and waiting until its
 * answer is final on the fake Slack before sending the next. Each conversation has its own channel
 * and each mention starts its own thread, as independent users would.
 */
import { request } from 'undici';
import { eventCallback, signedRequest } from '../../fakes/slack/signing.ts';
import { preciseNow } from './clock.ts';
import type { FakesHost } from './fakes-client.ts';
import type { ReplyRecord } from './fakes-protocol.ts';

export interface LoadTarget {
  eventsUrl: string;
  signingSecret: string;
  botUserId: string;
}

export interface LoadPlan {
  concurrency: number;
  /** Replies to complete in all (shared by the conversations). */
  replies: number;
  /** A reply not final by then counts as timed out and its conversation moves on. */
  replyTimeoutMs: number;
  /** The conversations' first events are spread over this long, not fired in one instant. */
  rampMs: number;
}

export interface Sample {
  marker: string;
  eventId: string;
  /** The BullMQ job id the gateway gives this event. */
  jobId: string;
  sentAt: number;
  /** When the system's HTTP answer to the event came back (the bench's clock). */
  ackedAt: number;
  /** The gateway's HTTP status for the event. */
  status: number;
  record: ReplyRecord | undefined;
}

export interface LoadResult {
  samples: Sample[];
  startedAt: number;
  endedAt: number;
}

/** Matches finished replies reported by the fakes' host to the conversations waiting for them. */
export class ReplyWaiter {
  readonly #waiting = new Map<string, (record: ReplyRecord | undefined) => void>();
  readonly #early = new Map<string, ReplyRecord>();

  constructor(fakes: FakesHost) {
    fakes.onReplies((records) => {
      for (const record of records) {
        const resolve = this.#waiting.get(record.marker);
        if (resolve) resolve(record);
        else this.#early.set(record.marker, record);
      }
    });
  }

  /** Stops waiting for a reply that cannot come (its event was refused). */
  cancel(marker: string): void {
    this.#waiting.get(marker)?.(undefined);
  }

  wait(marker: string, timeoutMs: number): Promise<ReplyRecord | undefined> {
    const early = this.#early.get(marker);
    if (early) {
      this.#early.delete(marker);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(marker);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(marker, (record) => {
        clearTimeout(timer);
        this.#waiting.delete(marker);
        resolve(record);
      });
    });
  }
}

/**
 * Posts a signed event as Slack does: the HTTP status, and when the answer came (its headers).
 * Through undici's `request`, not `fetch`: the load shares the machine with the systems it
 * measures, and `fetch` (WHATWG streams) spent about twice the CPU per event.
 */
async function sendEvent(target: LoadTarget, body: object): Promise<{ status: number; ackedAt: number }> {
  const { raw, headers } = signedRequest(target.signingSecret, body);
  const response = await request(target.eventsUrl, { method: 'POST', headers, body: raw });
  const ackedAt = preciseNow();
  await response.body.dump();
  return { status: response.statusCode, ackedAt };
}

/** Event ids and timestamps unique for the whole bench run (the pipeline dedupes on event id). */
let sequence = 0;
const runTag = Date.now().toString(36).toUpperCase();

export async function runClosedLoop(target: LoadTarget, plan: LoadPlan, waiter: ReplyWaiter): Promise<LoadResult> {
  const samples: Sample[] = [];
  let started = 0;
  const startedAt = preciseNow();

  const conversation = async (index: number): Promise<void> => {
    const channel = `CB${index}`;
    if (plan.concurrency > 1) await new Promise((resolve) => setTimeout(resolve, (plan.rampMs * index) / plan.concurrency));
    while (started < plan.replies) {
      started += 1;
      sequence += 1;
      const marker = `bq${index}x${sequence}`;
      const eventId = `Ev${runTag}${sequence}`;
      const ts = `${1_700_000_000 + sequence}.000100`;
      const event = { type: 'app_mention', user: `UB${index}`, text: `<@${target.botUserId}> ${marker}`, ts, channel, event_ts: ts };
      const body = eventCallback(event, { eventId });
      const sentAt = preciseNow();
      const finished = waiter.wait(marker, plan.replyTimeoutMs);
      let status = 0;
      let ackedAt = Number.NaN;
      try {
        ({ status, ackedAt } = await sendEvent(target, body));
      } catch {
        status = -1;
      }
      const sample: Sample = { marker, eventId, jobId: `slack-ev-${eventId}`, sentAt, ackedAt, status, record: undefined };
      samples.push(sample);
      if (status !== 200) waiter.cancel(marker);
      sample.record = await finished;
    }
  };

  await Promise.all(Array.from({ length: plan.concurrency }, (_, index) => conversation(index)));
  const finals = samples.flatMap((sample) => (sample.record ? [sample.record.finalAt] : []));
  const endedAt = finals.length > 0 ? finals.reduce((a, b) => Math.max(a, b)) : preciseNow();
  return { samples, startedAt, endedAt };
}
