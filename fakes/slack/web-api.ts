/**
 * The Web API methods a chat bot uses, with Slack's checks: tokens aside (the server checks those),
 * blocks must be typed objects (at most 50, a section's text at most 3,000 chars), text over 40,000
 * chars is truncated, only the bot's own messages can be changed, and native streams follow
 * `chat.startStream` / `appendStream` / `stopStream` rules (an idle stream expires; a refusal can be
 * switched on), and agent sessions and suggested prompts keep what they were set to.
 */
import { isRecord } from '../http.ts';
import { SLACK_FAKE_DEFAULTS } from './signing.ts';
import { fail, flag, int, str, type ApiResult, type Args } from './request.ts';
import type { FakeAgentSession, FakeEphemeral, FakeMessage, FakeMessageMetadata } from './types.ts';
import { byTs, isMessage, TEXT_LIMIT, tsToMicros, type Workspace } from './workspace.ts';

const SECTION_TEXT_LIMIT = 3_000;
/** `chat.appendStream`'s `markdown_text` per call. */
const STREAM_APPEND_LIMIT = 12_000;
const SESSION_STATUSES = new Set(['active', 'processing', 'suspended', 'closed']);

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
const MAX_BLOCKS = 50;

/** Error code when `blocks` is not something Slack would accept, else undefined. */
function checkBlocks(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > MAX_BLOCKS) return 'invalid_blocks';
  for (const block of blocks) {
    if (!isRecord(block) || typeof block.type !== 'string') return 'invalid_blocks';
    const text = block.text;
    if (block.type === 'section' && isRecord(text) && typeof text.text === 'string') {
      if (text.text.length > SECTION_TEXT_LIMIT) return 'invalid_blocks';
    }
  }
  return undefined;
}

/** `metadata` as chat.postMessage and chat.update take it (event_type and an event_payload object); null when malformed. */
function messageMetadata(raw: unknown): FakeMessageMetadata | undefined | null {
  if (raw === undefined) return undefined;
  if (!isRecord(raw) || typeof raw.event_type !== 'string' || !/^\w{1,255}$/.test(raw.event_type) || !isRecord(raw.event_payload)) return null;
  return { event_type: raw.event_type, event_payload: raw.event_payload };
}

/** The markdown a stream call adds: `markdown_text` plus any `markdown_text` chunks. */
function streamText(args: Args): string {
  let text = str(args, 'markdown_text') ?? '';
  const chunks = args.chunks;
  if (Array.isArray(chunks)) {
    for (const chunk of chunks) {
      if (isRecord(chunk) && chunk.type === 'markdown_text' && typeof chunk.text === 'string') text += chunk.text;
    }
  }
  return text;
}

export type WebApiMethod = (args: Args) => ApiResult;

/**
 * The Web API methods the fake serves, by name. `openSocketUrl` hands out a one-use Socket Mode
 * URL for `apps.connections.open`.
 */
export function webApiMethods(workspace: Workspace, openSocketUrl: () => string): Record<string, WebApiMethod> {
  const ids = workspace.ids;
  return {
    'auth.test': () => ({
      ok: true,
      url: `https://${SLACK_FAKE_DEFAULTS.teamDomain}.slack.com/`,
      team: 'Fake Team',
      user: 'fakebot',
      team_id: ids.teamId,
      user_id: ids.botUserId,
      bot_id: ids.botId,
      is_enterprise_install: false,
    }),

    'apps.connections.open': () => ({ ok: true, url: openSocketUrl() }),

    'chat.postMessage': (args) => {
      const channel = str(args, 'channel');
      if (!channel) return fail('channel_not_found');
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const text = str(args, 'text') ?? '';
      if (text === '' && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
      const metadata = messageMetadata(args.metadata);
      if (metadata === null) return fail('invalid_metadata_format');
      const message = workspace.botMessage(channel, text, args, workspace.threadRoot(channel, str(args, 'thread_ts')), metadata);
      return { ok: true, channel, ts: message.ts, message: workspace.toSlack(message) };
    },

    'chat.update': (args) => {
      const found = workspace.ownMessage(args, 'cant_update_message');
      if (!isMessage(found)) return found;
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const text = str(args, 'text');
      if (text === undefined && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
      const metadata = messageMetadata(args.metadata);
      if (metadata === null) return fail('invalid_metadata_format');
      if (metadata !== undefined) found.metadata = metadata;
      workspace.edit(found, (text ?? found.text).slice(0, TEXT_LIMIT), Array.isArray(args.blocks) ? args.blocks : undefined);
      return { ok: true, channel: found.channel, ts: found.ts, text: found.text, message: workspace.toSlack(found) };
    },

    'chat.delete': (args) => {
      const found = workspace.ownMessage(args, 'cant_delete_message');
      if (!isMessage(found)) return found;
      found.deleted = true;
      return { ok: true, channel: found.channel, ts: found.ts };
    },

    'users.info': (args) => {
      const user = str(args, 'user');
      if (!user) return fail('user_not_found');
      return { ok: true, user: { id: user, team_id: ids.teamId, name: user.toLowerCase(), is_admin: workspace.workspaceAdmins.has(user), is_owner: false, is_bot: false } };
    },

    'chat.getPermalink': (args) => {
      const channel = str(args, 'channel');
      const ts = str(args, 'message_ts');
      const found = channel && ts ? workspace.find(channel, ts) : undefined;
      if (!channel || !found) return fail('message_not_found');
      const thread = found.thread_ts ? `?thread_ts=${found.thread_ts}&cid=${channel}` : '';
      return { ok: true, channel, permalink: `https://fake.slack.com/archives/${channel}/p${found.ts.replace('.', '')}${thread}` };
    },

    'chat.postEphemeral': (args) => {
      const channel = str(args, 'channel');
      const user = str(args, 'user');
      if (!channel) return fail('channel_not_found');
      if (!user) return fail('user_not_in_channel');
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const text = str(args, 'text') ?? '';
      if (text === '' && args.blocks === undefined && args.attachments === undefined) return fail('no_text');
      const threadTs = str(args, 'thread_ts');
      const ephemeral: FakeEphemeral = {
        channel,
        user,
        text,
        message_ts: workspace.nextTs(),
        via: 'api',
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
      };
      workspace.ephemerals.push(ephemeral);
      return { ok: true, message_ts: ephemeral.message_ts };
    },

    'conversations.replies': (args) => {
      const root = workspace.messageAt(args, 'ts', 'thread_not_found');
      if (!isMessage(root)) return root;
      // A reply's ts gives just that reply; a parent's gives the whole thread.
      const all = root.thread_ts !== undefined ? [root] : [root, ...workspace.replies(root.channel, root.ts)];
      return workspace.messagePage(all, int(args, 'limit') ?? 1000, flag(args, 'include_all_metadata') ?? false);
    },

    'conversations.history': (args) => {
      const channel = str(args, 'channel');
      if (!channel) return fail('channel_not_found');
      const inclusive = flag(args, 'inclusive') ?? false;
      const oldest = tsToMicros(str(args, 'oldest') ?? '');
      const latest = tsToMicros(str(args, 'latest') ?? '');
      const within = (m: FakeMessage): boolean => {
        const at = tsToMicros(m.ts) ?? 0;
        if (oldest !== undefined && (inclusive ? at < oldest : at <= oldest)) return false;
        if (latest !== undefined && (inclusive ? at > latest : at >= latest)) return false;
        return true;
      };
      const all = workspace.store
        .filter((m) => m.channel === channel && m.thread_ts === undefined && !m.deleted && within(m))
        .sort(byTs)
        .reverse();
      return workspace.messagePage(all, int(args, 'limit') ?? 100, flag(args, 'include_all_metadata') ?? false);
    },

    'reactions.add': (args) => reactionChange(workspace, args, 'add'),
    'reactions.remove': (args) => reactionChange(workspace, args, 'remove'),

    'reactions.get': (args) => {
      const message = workspace.messageAt(args, 'timestamp');
      if (!isMessage(message)) return message;
      return { ok: true, type: 'message', channel: message.channel, message: workspace.toSlack(message) };
    },

    'chat.startStream': (args) => {
      const channel = str(args, 'channel');
      if (!channel) return fail('channel_not_found');
      const threadTs = str(args, 'thread_ts');
      if (!threadTs) return fail('invalid_arguments');
      if (workspace.streamRefusal) return fail(workspace.streamRefusal);
      // Outside DMs Slack needs to know whom the stream is for.
      if (!channel.startsWith('D')) {
        if (!str(args, 'recipient_team_id')) return fail('missing_recipient_team_id');
        if (!str(args, 'recipient_user_id')) return fail('missing_recipient_user_id');
      }
      const text = streamText(args);
      if (text === '' && !Array.isArray(args.chunks)) return fail('invalid_arguments');
      const message = workspace.botMessage(channel, text, args, workspace.threadRoot(channel, threadTs));
      message.stream = 'streaming';
      message.streamTouchedAt = Date.now();
      return { ok: true, channel, ts: message.ts };
    },

    'chat.appendStream': (args) => {
      const found = workspace.ownMessage(args, 'message_not_in_streaming_state');
      if (!isMessage(found)) return found;
      if (found.streamStoppedByUser) return fail('stopped_by_user');
      if (!workspace.streamOpen(found)) return fail('message_not_in_streaming_state');
      const added = streamText(args);
      if (added === '' && !Array.isArray(args.chunks)) return fail('invalid_arguments');
      if (added.length > STREAM_APPEND_LIMIT) return fail('msg_too_long');
      if (added !== '') workspace.edit(found, (found.text + added).slice(0, TEXT_LIMIT));
      found.streamTouchedAt = Date.now();
      return { ok: true, channel: found.channel, ts: found.ts };
    },

    'chat.stopStream': (args) => {
      const found = workspace.ownMessage(args, 'message_not_in_streaming_state');
      if (!isMessage(found)) return found;
      if (found.streamStoppedByUser) return fail('stopped_by_user');
      if (!workspace.streamOpen(found)) return fail('message_not_in_streaming_state');
      const blocksError = checkBlocks(args.blocks);
      if (blocksError) return fail(blocksError);
      const sessionStatus = str(args, 'session_status');
      if (sessionStatus !== undefined && !SESSION_STATUSES.has(sessionStatus)) return fail('invalid_arguments');
      const added = streamText(args);
      const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
      if (added !== '' || blocks !== undefined) workspace.edit(found, (found.text + added).slice(0, TEXT_LIMIT), blocks);
      found.stream = 'stopped';
      if (sessionStatus !== undefined && found.thread_ts) workspace.setSessionStatus(found.channel, found.thread_ts, sessionStatus as FakeAgentSession['status']);
      return { ok: true, channel: found.channel, ts: found.ts, message: workspace.toSlack(found) };
    },

    'agents.sessions.setStatus': (args) => {
      const channel = str(args, 'channel_id');
      if (!channel) return fail('channel_not_found');
      const threadTs = str(args, 'thread_ts');
      const status = str(args, 'status') ?? '';
      // Only the four lifecycle values: free text is refused.
      if (!threadTs || !SESSION_STATUSES.has(status)) return fail('invalid_arguments');
      const title = str(args, 'title');
      if (title !== undefined && title.length > 200) return fail('invalid_arguments');
      const initiator = str(args, 'initiator_user_id');
      workspace.setSessionStatus(channel, threadTs, status as FakeAgentSession['status'], { ...(title ? { title } : {}), ...(initiator ? { initiator } : {}) });
      return { ok: true };
    },

    'assistant.threads.setSuggestedPrompts': (args) => {
      const channel = str(args, 'channel_id');
      if (!channel) return fail('channel_not_found');
      const threadTs = str(args, 'thread_ts');
      const prompts = typeof args.prompts === 'string' ? safeJson(args.prompts) : args.prompts;
      if (!threadTs || !Array.isArray(prompts) || prompts.length === 0 || prompts.length > 4) return fail('invalid_arguments');
      const valid = prompts.every((prompt) => isRecord(prompt) && typeof prompt.title === 'string' && prompt.title !== '' && typeof prompt.message === 'string' && prompt.message !== '');
      if (!valid) return fail('invalid_arguments');
      const title = str(args, 'title');
      workspace.suggestedPrompts.push({ channel, thread_ts: threadTs, prompts: prompts as Array<{ title: string; message: string }>, ...(title ? { title } : {}) });
      return { ok: true };
    },
  };
}

function reactionChange(workspace: Workspace, args: Args, change: 'add' | 'remove'): ApiResult {
  const ids = workspace.ids;
  const channel = str(args, 'channel');
  const ts = str(args, 'timestamp');
  const name = (str(args, 'name') ?? '').replace(/^:|:$/g, '');
  if (!channel) return fail('channel_not_found');
  if (name === '') return fail('invalid_name');
  const message = ts ? workspace.find(channel, ts) : undefined;
  if (!message) return fail('message_not_found');
  const reaction = message.reactions.find((r) => r.name === name);
  if (change === 'add') {
    if (reaction?.users.includes(ids.botUserId)) return fail('already_reacted');
    if (reaction) reaction.users.push(ids.botUserId);
    else message.reactions.push({ name, users: [ids.botUserId] });
  } else {
    if (!reaction?.users.includes(ids.botUserId)) return fail('no_reaction');
    reaction.users = reaction.users.filter((u) => u !== ids.botUserId);
    if (reaction.users.length === 0) message.reactions = message.reactions.filter((r) => r !== reaction);
  }
  return { ok: true };
}
