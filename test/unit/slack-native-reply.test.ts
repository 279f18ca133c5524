import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { NativeStreamReply, readStreamRecord, streamableText, type FallbackReply, type NativeReplyOptions } from '../../adapters/slack/native-reply.ts';

const log = pino({ level: 'silent' });

/** A native reply over recorded calls; `failAppend` makes appends fail with that Slack error. */
function harness(overrides: Partial<NativeReplyOptions> = {}, failAppend?: string) {
  const calls: string[] = [];
  const edits: string[] = [];
  const states: Array<Record<string, unknown>> = [];
  const fallback = (ids: string[]): FallbackReply => ({
    messageIds: ids,
    apiCalls: 0,
    render: async (markdown) => void edits.push(`${ids.join(',') || 'new'}:${markdown}`),
  });
  const reply = new NativeStreamReply({
    calls: {
      start: async (markdown) => (calls.push(`start:${markdown}`), '111.000100'),
      append: async (ts, markdown) => {
        if (failAppend) throw Object.assign(new Error(failAppend), { slackError: failAppend });
        calls.push(`append:${ts}:${markdown}`);
      },
      stop: async (ts, finish) => void calls.push(`stop:${ts}:${finish.blocks ? 'buttons' : ''}:${finish.sessionStatus ?? ''}`),
    },
    fallback,
    saveIds: async () => undefined,
    saveState: async (state) => void states.push(state),
    record: undefined,
    askerId: 'U0ASKER',
    maxChars: 200,
    answerBlocks: [{ type: 'divider' }],
    inSession: true,
    onRefused: () => undefined,
    slackErrorOf: (err) => (err as { slackError?: string }).slackError,
    log,
    ...overrides,
  });
  return { reply, calls, edits, states };
}

describe('the text a native stream may append', () => {
  it('holds back a word still being written, and an unclosed <…', () => {
    expect(streamableText('Hello wor', 'U1', false)).toBe('Hello ');
    expect(streamableText('Ask <@U0OTH', 'U1', false)).toBe('Ask ');
    expect(streamableText('Hello world', 'U1', true)).toBe('Hello world');
  });

  it('never lets a broadcast or another person’s mention through', () => {
    expect(streamableText('Hey <!here> and <@U2> and <@U1> ', 'U1', false)).toBe('Hey @\u200Bhere and @\u200BU2 and <@U1> ');
  });
});

describe('a native reply', () => {
  it('starts, appends only what is new, and finishes with buttons and the session’s end', async () => {
    const { reply, calls, edits } = harness();
    await reply.render('Hello wor', false);
    await reply.render('Hello world and more', false);
    await reply.render('Hello world and more.', true, 'answer');
    expect(calls).toEqual(['start:Hello ', 'append:111.000100:world and ', 'append:111.000100:more.', 'stop:111.000100:buttons:active']);
    expect(edits).toEqual([]);
    expect(reply.sessionEnded).toBe(true);
  });

  it('writes the job once per append, ahead of the call; the finish records all Slack holds', async () => {
    const { reply, states } = harness();
    await reply.render('Hello ', false);
    await reply.render('Hello world ', false);
    // After the start: what Slack holds. After an append: only the write-ahead (an append in flight),
    // which a successor treats as unknown and rewrites whole.
    expect(states.map((state) => readStreamRecord(state))).toEqual([
      expect.objectContaining({ acked: 'Hello '.length, sending: false }),
      expect.objectContaining({ acked: 'Hello '.length, sending: true }),
    ]);
    await reply.render('Hello world and done.', true, 'answer');
    expect(states).toHaveLength(4);
    expect(readStreamRecord(states.at(-2))).toMatchObject({ acked: 'Hello world '.length, sending: true });
    expect(readStreamRecord(states.at(-1))).toMatchObject({ acked: 'Hello world and done.'.length, sending: false, closed: true });
  });

  it('hands the message to edits when the text diverges, and stays there', async () => {
    const { reply, calls, edits, states } = harness();
    await reply.render('⏳ _Warming up._', false, 'status');
    await reply.render('The answer ', false);
    await reply.render('The answer, whole.', true, 'answer');
    expect(calls).toEqual(['start:⏳ _Warming up._', 'stop:111.000100::']);
    expect(edits).toEqual(['111.000100:The answer ', '111.000100:The answer, whole.']);
    expect(readStreamRecord(states.at(-1))).toMatchObject({ ts: '111.000100', closed: true });
  });

  it('finishes with edits when Slack no longer takes the stream (expired)', async () => {
    const { reply, edits } = harness({}, 'message_not_in_streaming_state');
    await reply.render('First words ', false);
    await reply.render('First words and the rest.', true, 'answer');
    expect(edits).toEqual(['111.000100:First words and the rest.']);
  });

  it('resumed: appends the rest when the new answer begins with what Slack holds, edits when an append was in flight', async () => {
    const first = harness();
    await first.reply.render('Same answer ', false);
    const record = readStreamRecord(first.states.at(-1));
    expect(record).toMatchObject({ acked: 'Same answer '.length, sending: false });

    const resumed = harness({ record });
    await resumed.reply.render('Same ', false);
    await resumed.reply.render('Same answer again.', true, 'answer');
    expect(resumed.calls).toEqual(['append:111.000100:again.', 'stop:111.000100:buttons:active']);

    const uncertain = harness({ record: { ...record!, sending: true } });
    await uncertain.reply.render('Same answer again.', true, 'answer');
    expect(uncertain.edits).toEqual(['111.000100:Same answer again.']);
  });

  it('runs renders one at a time: a notice right behind a render still starting its stream is not a second stream', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    const { reply, edits } = harness({
      calls: {
        start: async (markdown) => {
          calls.push(`start:${markdown}`);
          await gate;
          return '222.000100';
        },
        append: async () => undefined,
        stop: async (ts) => void calls.push(`stop:${ts}`),
      },
    });
    const first = reply.render('Half an answer ', false);
    const notice = reply.render('Half an answer\n\n_Retrying…_', false, 'status');
    release();
    await Promise.all([first, notice]);
    expect(calls).toEqual(['start:Half an answer ', 'stop:222.000100']);
    expect(edits).toEqual(['222.000100:Half an answer\n\n_Retrying…_']);
  });

  it('goes to edits (and further messages) once the answer outgrows one message', async () => {
    const { reply, edits } = harness({ maxChars: 20 });
    await reply.render('Short start ', false);
    await reply.render('Short start and then a great deal more text ', false);
    expect(edits).toEqual(['111.000100:Short start and then a great deal more text ']);
  });
});
