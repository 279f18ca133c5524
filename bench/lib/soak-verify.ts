/**
 * The soak's verdict, read from the fake Slack and the fake model after the run has drained: for
 * each valid event, the bot messages where its answer belongs; for each forged payload, whether
 * anything answered it.
 */
import type { ChatRequestRecord } from '../../fakes/hf/server.ts';
import type { FakeEphemeral, FakeMessage } from '../../fakes/slack/server.ts';
import { FORGED_CHANNEL, FORGED_WORD, type RefusedEvent, type ValidEvent } from './soak-traffic.ts';

export type Outcome =
  /** Exactly one reply, showing the expected answer. */
  | 'completed'
  /** More than one bot message where one reply belongs. */
  | 'duplicated'
  /** No bot message at all. */
  | 'lost_no_reply'
  /** One message, stuck on the placeholder, a notice or part of the answer. */
  | 'lost_stuck'
  /** One message telling the user it failed (no fault in the soak warrants that). */
  | 'lost_failed_notice';

export interface EventVerdict {
  event: ValidEvent;
  outcome: Outcome;
  messages: number;
  finalText: string | undefined;
  /** The reply's text went back to a shorter one at some point: re-rendered by a resumed or retried job. */
  rerendered: boolean;
  /** The expected answer was shown at some point, and then replaced (a late render from a stale worker). */
  finalThenOverwritten: boolean;
  /** The reply's last few texts, oldest first. */
  historyTail: string[];
}

/** Where a bot message sits: its channel and thread ('-' for the top level). */
const placeOf = (channel: string, thread: string | undefined) => `${channel}|${thread ?? '-'}`;

/** Groups the bot's live messages by place, in one pass over the fake's store. */
export function botMessagesByPlace(messages: FakeMessage[]): Map<string, FakeMessage[]> {
  const byPlace = new Map<string, FakeMessage[]>();
  for (const message of messages) {
    if (message.bot_id === undefined || message.deleted) continue;
    const place = placeOf(message.channel, message.thread_ts);
    const list = byPlace.get(place) ?? [];
    list.push(message);
    byPlace.set(place, list);
  }
  return byPlace;
}

/**
 * A streamed answer only grows; a reply whose answer text at some point stopped extending the text
 * shown before it was rendered again from the start (a job resumed after a kill, or retried after
 * a broken stream). The placeholder and status notices are not answer text.
 */
function rerendered(message: FakeMessage, answerStart: string): boolean {
  const answers = message.history.filter((text) => text.startsWith(answerStart));
  return answers.some((text, index) => index > 0 && !text.startsWith(answers[index - 1] ?? ''));
}

export function judgeEvent(event: ValidEvent, byPlace: Map<string, FakeMessage[]>): EventVerdict {
  const messages = byPlace.get(placeOf(event.channel, event.threadTs)) ?? [];
  const first = messages[0];
  const answerStart = event.expected.split(' ')[0] ?? event.expected;
  const base = {
    event,
    messages: messages.length,
    finalText: first?.text,
    rerendered: messages.some((m) => rerendered(m, answerStart)),
    finalThenOverwritten: messages.some((m) => m.history.includes(event.expected) && m.text !== event.expected),
    historyTail: first?.history.slice(-4) ?? [],
  };
  if (!first) return { ...base, outcome: 'lost_no_reply' };
  if (messages.length > 1) return { ...base, outcome: 'duplicated' };
  // An answer that tried to ping ends with the (defused) attempts; `livePings` judges those.
  if (first.text === event.expected || (event.pings && first.text.startsWith(`${event.expected} `))) return { ...base, outcome: 'completed' };
  return { ...base, outcome: first.text.startsWith('⚠️') ? 'lost_failed_notice' : 'lost_stuck' };
}

/** True once every event shows its expected answer somewhere it belongs. */
export function allAnswered(events: ValidEvent[], byPlace: Map<string, FakeMessage[]>): boolean {
  return events.every((event) => judgeEvent(event, byPlace).outcome === 'completed');
}

/**
 * Mentions in a text Slack would turn into a ping: broadcast and group markup, a user other than
 * the asker, and plain `@here`-style words (also as look-alikes, which NFKC folds to `@`) that a
 * client or `link_names` would link. A zero-width space after the `@` is the defused form.
 */
export function livePings(text: string, askerId: string): string[] {
  const folded = text.normalize('NFKC');
  const found = [
    ...folded.matchAll(/<!(?:here|channel|everyone|subteam)\b[^>]*>/gi),
    ...[...folded.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].filter((match) => match[1] !== askerId),
    ...folded.matchAll(/@(?:here|channel|everyone)\b/gi),
  ];
  return found.map((match) => match[0]);
}

/** Every text the bot showed (each edit included) where an event's answer belongs, with its live pings. */
export function pingsShown(events: ValidEvent[], byPlace: Map<string, FakeMessage[]>): string[] {
  return events.flatMap((event) =>
    (byPlace.get(placeOf(event.channel, event.threadTs)) ?? []).flatMap((message) => message.history.flatMap((text) => livePings(text, event.user))),
  );
}

/** Notices beyond one per refused event, however often it was delivered (and events never told). */
export function noticeMismatches(refused: RefusedEvent[], ephemerals: FakeEphemeral[]): number {
  return refused.reduce((sum, event) => sum + Math.abs(ephemerals.filter((notice) => notice.user === event.user).length - 1), 0);
}

/** Forged payloads that got anything: a bot message where they were sent, or a model call for their text. */
export function forgedAnswers(messages: FakeMessage[], chatRequests: ChatRequestRecord[]): number {
  const posted = messages.filter((message) => message.bot_id !== undefined && (message.channel === FORGED_CHANNEL || message.text.includes(FORGED_WORD)));
  const asked = chatRequests.filter((request) => JSON.stringify(request.messages).includes(FORGED_WORD));
  return posted.length + asked.length;
}
