/**
 * The bench's fake Hugging Face router and fake Slack, in a process of their own so that at a
 * thousand concurrent streams they do not take CPU from the process that sends events (or the
 * reverse). This is also where text becomes "visible": the time the Slack fake receives the
 * chat.update carrying it. Run by `fakes-client.ts` through `fork`; it speaks over the IPC channel.
 *
 * It watches the Slack fake's call log as it grows and reports, for each reply, when its first
 * model text and its final text arrived, and how many Web API calls and edits it took.
 */
import { startHfFake, type ChatStep } from '../../fakes/hf/server.ts';
import { startSlackFake, type FakeCall } from '../../fakes/slack/server.ts';
import { usePreciseDateNow } from './clock.ts';
import { answerTokens, finalText, type ModelProfile } from './model-profile.ts';
import type { HostCommand, HostMessage, ReplyRecord } from './fakes-protocol.ts';

usePreciseDateNow();

const botToken = process.env.BENCH_SLACK_BOT_TOKEN ?? 'xoxb-bench-bot-token';
const hf = await startHfFake();
const slack = await startSlackFake({ botToken });

let profile: ModelProfile = { name: 'default', ttftMs: 0, tokenDelayMs: 0, tokens: 10 };

/** The question is the last user message; the answer streams with the profile's timing. */
function applyModel(): void {
  hf.setDefaultChat((request): ChatStep => {
    const last = request.messages.findLast((message) => message.role === 'user');
    const question = typeof last?.content === 'string' ? last.content : '';
    return {
      kind: 'stream',
      tokens: answerTokens(question, profile),
      firstTokenDelayMs: profile.ttftMs,
      tokenDelayMs: profile.tokenDelayMs,
    };
  });
}
applyModel();

/** What one reply has done so far, keyed by its channel (one conversation, one reply at a time). */
interface Track {
  marker: string | undefined;
  calls: number;
  edits: number;
  postedAt: number | undefined;
  lastEditAt: number | undefined;
  firstVisibleAt: number | undefined;
  editGaps: number[];
  postToFirstEditMs: number | undefined;
  /** A native stream's text so far (what its start and appends carried). */
  streamed: string | undefined;
  /** When the whole answer was first visible; the reply ends with the call that closes it. */
  completedAt: number | undefined;
}

const newTrack = (): Track => ({
  marker: undefined,
  calls: 0,
  edits: 0,
  postedAt: undefined,
  lastEditAt: undefined,
  firstVisibleAt: undefined,
  editGaps: [],
  postToFirstEditMs: undefined,
  streamed: undefined,
  completedAt: undefined,
});

const tracks = new Map<string, Track>();
let cursor = 0;
const REPLY_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.delete', 'chat.startStream', 'chat.appendStream', 'chat.stopStream']);
const STREAM_METHODS = new Set(['chat.startStream', 'chat.appendStream', 'chat.stopStream']);

/** Folds one Web API call into its reply's track; returns the finished reply, if this call ended it. */
function observe(call: FakeCall): ReplyRecord | undefined {
  if (!REPLY_METHODS.has(call.method)) return undefined;
  const channel = typeof call.args.channel === 'string' ? call.args.channel : '';
  let track = tracks.get(channel);
  if (!track) {
    track = newTrack();
    tracks.set(channel, track);
  }
  track.calls += 1;
  let text = typeof call.args.text === 'string' ? call.args.text : '';
  if (STREAM_METHODS.has(call.method)) {
    // A native stream shows what its calls appended so far (Slack does not show trailing spaces).
    track.streamed = (track.streamed ?? '') + (typeof call.args.markdown_text === 'string' ? call.args.markdown_text : '');
    text = track.streamed.trimEnd();
  }
  let gap: number | undefined;
  if (call.method === 'chat.postMessage' || call.method === 'chat.startStream') track.postedAt ??= call.at;
  if (call.method === 'chat.update' || call.method === 'chat.appendStream') {
    track.edits += 1;
    if (track.lastEditAt !== undefined) gap = call.at - track.lastEditAt;
    else if (track.postedAt !== undefined) track.postToFirstEditMs = call.at - track.postedAt;
    track.lastEditAt = call.at;
  }
  // Model text starts with the question, a marker without spaces; the placeholder does not.
  const marker = /^(bq\d+x\d+)\b/.exec(text)?.[1];
  if (!marker) {
    if (gap !== undefined) track.editGaps.push(gap);
    return undefined;
  }
  track.marker = marker;
  track.firstVisibleAt ??= call.at;
  if (text !== finalText(marker, profile)) {
    if (gap !== undefined) track.editGaps.push(gap);
    return undefined;
  }
  track.completedAt ??= call.at;
  // The reply is over with the call that closes it: the stream's stop, or the edit carrying the feedback buttons.
  if (call.method !== 'chat.stopStream' && call.args.blocks === undefined) return undefined;
  tracks.delete(channel);
  return {
    marker,
    channel,
    firstVisibleAt: track.firstVisibleAt,
    finalAt: track.completedAt,
    calls: track.calls,
    edits: track.edits,
    editGaps: track.editGaps,
    finalGapMs: gap,
    postToFirstEditMs: track.postToFirstEditMs,
  };
}

function send(message: HostMessage): void {
  process.send?.(message);
}

// Watch the call log: cheap when idle, and only the visibility of the next event depends on it
// (every time reported comes from the fake's own stamp on the call).
setInterval(() => {
  const finished: ReplyRecord[] = [];
  for (; cursor < slack.calls.length; cursor++) {
    const call = slack.calls[cursor];
    const record = call ? observe(call) : undefined;
    if (record) finished.push(record);
  }
  if (finished.length > 0) send({ op: 'replies', replies: finished });
}, 1);

process.on('message', (raw: HostCommand) => {
  switch (raw.op) {
    case 'configure':
      profile = raw.profile;
      applyModel();
      break;
    case 'reset':
      slack.reset();
      hf.reset();
      applyModel();
      cursor = 0;
      tracks.clear();
      break;
  }
  send({ op: 'done', id: raw.id });
});

process.on('disconnect', () => {
  void Promise.all([hf.close(), slack.close()]).finally(() => process.exit(0));
});

send({ op: 'ready', hfBaseUrl: hf.baseUrl, slackApiUrl: slack.apiUrl, botUserId: slack.botUserId });
