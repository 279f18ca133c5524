/** Messages between the bench and its fakes' host process (see fakes-host.ts). */
import type { ModelProfile } from './model-profile.ts';

/** One finished reply as the fake Slack saw it; times are the fake's stamps (precise clock). */
export interface ReplyRecord {
  /** The question, which is also the first token of the answer. */
  marker: string;
  channel: string;
  /** The first chat.update carrying model text (not the placeholder). */
  firstVisibleAt: number;
  /** The chat.update carrying the complete answer. */
  finalAt: number;
  /** Web API calls for this reply: the placeholder post, every edit, any delete. */
  calls: number;
  edits: number;
  /** Time between consecutive edits of the reply, not counting the final one. */
  editGaps: number[];
  /** Time between the last intermediate edit and the final one (none when the final is the first edit). */
  finalGapMs: number | undefined;
  /** Time between posting the placeholder and the first edit. */
  postToFirstEditMs: number | undefined;
}

export type HostCommand = { id: number; op: 'configure'; profile: ModelProfile } | { id: number; op: 'reset' };

export type HostMessage =
  | { op: 'ready'; hfBaseUrl: string; slackApiUrl: string; botUserId: string }
  | { op: 'done'; id: number }
  | { op: 'replies'; replies: ReplyRecord[] };
