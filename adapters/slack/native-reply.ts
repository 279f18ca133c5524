import { createHash } from 'node:crypto';
import type { KnownBlock } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/logger.ts';
import type { ReplyEnd, ReplyHandle } from '../../src/surface.ts';
import { neutralizeMentions } from './format.ts';

/**
 * What a native reply keeps in its job (`progress.surface`), so a worker that resumes the job
 * continues the same message: the stream's ts, how much text Slack acknowledged (and its hash, to
 * know a new answer begins with exactly that text), whether an append was in flight (then Slack may
 * or may not hold it), and whether the stream is over (finished, or handed to the edit path).
 */
const nativeRecord = z.object({
  stream: z.object({
    ts: z.string().min(1),
    acked: z.number().int().nonnegative(),
    hash: z.string(),
    sending: z.boolean().default(false),
    closed: z.boolean().default(false),
  }),
});
type StreamRecord = z.infer<typeof nativeRecord>['stream'];

/** The record of a stream this reply adopts (begun by a worker that died before saving it): finished with edits. */
export function adoptedStreamRecord(ts: string): Record<string, unknown> {
  return { stream: { ts, acked: 0, hash: '', sending: false, closed: true } };
}

export function readStreamRecord(state: Record<string, unknown> | undefined): StreamRecord | undefined {
  const parsed = nativeRecord.safeParse(state ?? {});
  return parsed.success ? parsed.data.stream : undefined;
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('base64url');

/** The Web API calls of one native stream (Slack's errors come back as thrown errors). */
export interface StreamCalls {
  start(markdown: string): Promise<string>;
  append(ts: string, markdown: string): Promise<void>;
  stop(ts: string, finish: { blocks?: KnownBlock[]; sessionStatus?: 'active' }): Promise<void>;
}

/** The edit path (placeholder-free `chat.update` over the same messages) a native reply falls back to. */
export interface FallbackReply extends ReplyHandle {
  readonly messageIds: readonly string[];
}

export interface NativeReplyOptions {
  calls: StreamCalls;
  /** The edit path over `ids` (the stream's message, or none yet). */
  fallback: (ids: string[]) => FallbackReply;
  saveIds: (ids: string[]) => Promise<void>;
  saveState: ((state: Record<string, unknown>) => Promise<void>) | undefined;
  /** An earlier attempt's record, for a resumed job. */
  record: StreamRecord | undefined;
  /** The one user the text may mention. */
  askerId: string;
  /** Longer than this, the answer continues in further messages: the edit path does that. */
  maxChars: number;
  /** The buttons under a finished answer. */
  answerBlocks: KnownBlock[] | undefined;
  /** Whether the reply runs in an agent session (the final call moves it out of `processing`). */
  inSession: boolean;
  /** Slack refused to start a stream here; `code` is its error, when it gave one. */
  onRefused: (code: string | undefined) => void;
  /** Errors of a call that mean "no stream here", by Slack error code; anything else thrown is kept as is. */
  slackErrorOf: (err: unknown) => string | undefined;
  log: Logger;
}

/**
 * Text safe to append: mentions neutralized, and on intermediate renders only up to the last
 * whitespace outside an unclosed `<…`, so a word (a mention, a secret the scrubber would catch
 * whole) is never sent half-written. What is appended can never be taken back.
 */
export function streamableText(markdown: string, askerId: string, final: boolean): string {
  let stable = markdown;
  if (!final) {
    const cut = Math.max(markdown.lastIndexOf(' '), markdown.lastIndexOf('\n'), markdown.lastIndexOf('\t'));
    stable = cut === -1 ? '' : markdown.slice(0, cut + 1);
    const open = stable.lastIndexOf('<');
    if (open > stable.lastIndexOf('>')) stable = stable.slice(0, open);
  }
  return neutralizeMentions(stable, askerId);
}

/**
 * A reply streamed with Slack's native `chat.startStream` / `appendStream` / `stopStream`. Each
 * render gets the whole text; what extends the text Slack already holds is appended. Anything else
 * hands the same message to the edit path, which rewrites it whole with `chat.update`: a text that
 * diverges (a notice, a resumed answer that came out differently), a stream Slack closed (expired
 * after a long wait, stopped by the user, begun by a worker that died mid-append), a refused stream,
 * or an answer longer than one message. Text is never duplicated, never lost, never in a second message.
 */
export class NativeStreamReply implements ReplyHandle {
  readonly #o: NativeReplyOptions;
  #record: StreamRecord | undefined;
  /** What Slack holds, when this process sent it (a resumed reply knows only its length and hash). */
  #sent: string | undefined;
  #fallback: FallbackReply | undefined;
  #apiCalls = 0;
  /** Renders run one at a time: a notice can follow a render still in flight (its stream not started yet). */
  #queue: Promise<void> = Promise.resolve();
  /** The final call also moved the session out of `processing`. */
  sessionEnded = false;

  constructor(options: NativeReplyOptions) {
    this.#o = options;
    this.#record = options.record;
    if (options.record?.closed) this.#fallback = options.fallback([options.record.ts]);
  }

  get apiCalls(): number {
    return this.#apiCalls + (this.#fallback?.apiCalls ?? 0);
  }

  /** Whether the reply still streams natively (false once it went to the edit path). */
  get streaming(): boolean {
    return this.#fallback === undefined;
  }

  render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void> {
    const run = this.#queue.then(() => this.#render(markdown, final, end));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #render(markdown: string, final: boolean, end?: ReplyEnd): Promise<void> {
    if (this.#fallback) return this.#fallback.render(markdown, final, end);
    // A status is shown whole; the answer so far only up to its last complete word.
    const text = streamableText(markdown, this.#o.askerId, final || end === 'status');
    if (text.length > this.#o.maxChars) return this.#toEdits(markdown, final, end, 'longer than one message');
    const record = this.#record;
    if (!record) {
      if (text === '') return;
      return this.#start(text, markdown, final, end);
    }
    // A resumed reply: Slack shows more than this answer has reached yet; wait for it to catch up.
    if (this.#sent === undefined && text.length < record.acked && !final) return;
    if (record.sending || !this.#extends(text, record)) return this.#toEdits(markdown, final, end, 'the text no longer extends the stream');
    const rest = text.slice(record.acked);
    if (rest !== '' && !(await this.#append(record, text, rest, final))) return this.#toEdits(markdown, final, end, 'the stream is closed');
    if (final && !(await this.#finish(end))) return this.#toEdits(markdown, final, end, 'the stream could not be finished');
  }

  #extends(text: string, record: StreamRecord): boolean {
    if (this.#sent !== undefined) return text.startsWith(this.#sent);
    return text.length >= record.acked && hashOf(text.slice(0, record.acked)) === record.hash;
  }

  async #start(text: string, markdown: string, final: boolean, end: ReplyEnd | undefined): Promise<void> {
    let ts: string;
    try {
      this.#apiCalls += 1;
      ts = await this.#o.calls.start(text);
    } catch (err) {
      const code = this.#o.slackErrorOf(err);
      this.#o.log.info({ code }, 'slack refused a native stream; answering with edits');
      this.#o.onRefused(code);
      return this.#toEdits(markdown, final, end, 'refused');
    }
    this.#sent = text;
    this.#record = { ts, acked: text.length, hash: hashOf(text), sending: false, closed: false };
    await this.#o.saveIds([ts]);
    await this.#save();
    if (final && !(await this.#finish(end))) return this.#toEdits(markdown, final, end, 'the stream could not be finished');
  }

  /** Appends `rest`; false when Slack no longer takes it. A rate-limited intermediate append is skipped. */
  async #append(record: StreamRecord, text: string, rest: string, final: boolean): Promise<boolean> {
    // Written ahead: a worker that dies during the call leaves `sending`, and its successor rewrites the message whole.
    await this.#save({ ...record, sending: true });
    try {
      this.#apiCalls += 1;
      await this.#o.calls.append(record.ts, rest);
    } catch (err) {
      const code = this.#o.slackErrorOf(err);
      if (code === 'ratelimited' && !final) {
        // Not taken: the next render carries this text too.
        await this.#save(record);
        return true;
      }
      this.#o.log.info({ code }, 'a native stream took no more text; finishing the message with edits');
      return false;
    }
    this.#sent = text;
    // Not saved here: the next append's write-ahead, the finish or the hand-over to edits saves it.
    // Until then the job says an append was in flight, which a successor handles safely (it
    // rewrites the message whole) — one job write per append instead of two.
    this.#record = { ...record, acked: text.length, hash: hashOf(text), sending: false };
    return true;
  }

  /** Stops the stream this reply holds (with all the text Slack acknowledged) and records it closed. */
  async #finish(end: ReplyEnd | undefined): Promise<boolean> {
    const record = this.#record;
    if (!record) return false;
    try {
      this.#apiCalls += 1;
      await this.#o.calls.stop(record.ts, {
        ...(end === 'answer' && this.#o.answerBlocks ? { blocks: this.#o.answerBlocks } : {}),
        ...(this.#o.inSession ? { sessionStatus: 'active' as const } : {}),
      });
    } catch (err) {
      this.#o.log.info({ code: this.#o.slackErrorOf(err) }, 'could not stop a native stream');
      return false;
    }
    this.sessionEnded = this.#o.inSession;
    this.#record = { ...record, closed: true };
    await this.#save();
    return true;
  }

  /** Hands the message to the edit path: the stream closed if it is open, the whole text rewritten. */
  async #toEdits(markdown: string, final: boolean, end: ReplyEnd | undefined, why: string): Promise<void> {
    const record = this.#record;
    this.#o.log.debug({ why, ts: record?.ts }, 'native reply continues with edits');
    if (record && !record.closed) {
      // Closed first, so the edit is not racing an open stream; a stream already closed fails here, harmlessly.
      this.#apiCalls += 1;
      await this.#o.calls.stop(record.ts, {}).catch(() => undefined);
      this.#record = { ...record, closed: true, sending: false };
      await this.#save();
    }
    this.#fallback = this.#o.fallback(record ? [record.ts] : []);
    await this.#fallback.render(markdown, final, end);
  }

  async #save(record = this.#record): Promise<void> {
    if (record) await this.#o.saveState?.({ stream: record });
  }
}
