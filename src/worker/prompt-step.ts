import { prepareAttachments, type PreparedMessage } from '../attachments/prepare.ts';
import type { ChannelSettingsStore, EffectiveSettings } from '../channels/settings.ts';
import type { Config } from '../config.ts';
import type { ConversationHistory } from '../conversation/history.ts';
import { buildPrompt } from '../conversation/prompt.ts';
import type { ChatJob } from '../jobs/chat-job.ts';
import type { ChatTurn, ModelTurn } from '../llm/hf-chat.ts';
import { stripReasoningAppendix } from '../llm/reasoning-display.ts';
import type { Logger } from '../logger.ts';
import type { SentimentSummary } from '../sentiment/store.ts';
import type { Surface } from '../surface.ts';

/** Added to the system prompt when a conversation has turned negative (SENTIMENT_MOOD_HINT). */
const FRUSTRATED_HINT =
  'The person in this conversation seems frustrated. Stay calm and brief, acknowledge the problem in one sentence, then give the most direct way to solve it.';

export interface PromptSources {
  history: Pick<ConversationHistory, 'read'>;
  /** The conversation's running sentiment, when the mood hint is on. */
  moodOf: ((conversation: string) => Promise<SentimentSummary | undefined>) | undefined;
  /** Per-channel model and system prompt. */
  channelSettings: Pick<ChannelSettingsStore, 'resolve'>;
}

export interface PromptLimits {
  contextMaxChars: number;
  attachments: Config['attachments'];
}

/** What the model is asked, with which model, and the notes that go under the answer. */
export interface Prompt {
  turns: ModelTurn[];
  settings: EffectiveSettings;
  notes: string[];
}

/** The Redis reads a prompt needs, started together (one round trip with auto-pipelining). */
export interface PromptReads {
  settings: Promise<EffectiveSettings>;
  mood: Promise<SentimentSummary | undefined>;
  /** The stored history, unless the context comes from the platform's thread (then read only as its fallback). */
  stored: Promise<ChatTurn[]> | undefined;
}

/**
 * Starts the prompt's reads of our own stores. They are cheap and side-effect free, so the worker
 * starts them beside its turn check instead of after it; a job that turns out not to run drops them.
 */
export function startPromptReads(job: ChatJob, conversation: string, surface: Surface, sources: PromptSources): PromptReads {
  const reads: PromptReads = {
    settings: sources.channelSettings.resolve({ platform: job.platform, workspaceId: job.workspaceId, channelId: job.channelId }),
    mood: sources.moodOf?.(conversation) ?? Promise.resolve(undefined),
    stored: job.fetchThreadContext && surface.conversationContext ? undefined : sources.history.read(conversation, { before: job.replaces }),
  };
  // A read that fails is reported where it is awaited; one that is never awaited must not crash the process.
  for (const read of [reads.settings, reads.mood, reads.stored]) read?.catch(() => undefined);
  return reads;
}

/** The channel's settings, the conversation so far, the mood hint and the message's files, as the model's turns. */
export async function buildChatPrompt(
  job: ChatJob,
  conversation: string,
  surface: Surface,
  sources: PromptSources,
  limits: PromptLimits,
  log: Logger,
  reads: PromptReads = startPromptReads(job, conversation, surface, sources),
): Promise<Prompt> {
  const [context, mood, settings] = await Promise.all([
    reads.stored ?? readContext(job, conversation, surface, sources.history, log),
    reads.mood,
    reads.settings,
  ]);
  const prepared = await readAttachments(job, settings.model, surface, limits.attachments);
  const hints = [...(job.systemNote ? [job.systemNote] : []), ...(mood?.label === 'negative' ? [FRUSTRATED_HINT] : [])];
  const systemPrompt = [settings.systemPrompt, ...hints].join('\n\n');
  const turns: ModelTurn[] = buildPrompt(systemPrompt, context, prepared.text, limits.contextMaxChars);
  if (prepared.images.length > 0) turns[turns.length - 1] = { role: 'user', content: [{ type: 'text', text: prepared.text }, ...prepared.images] };
  return { turns, settings, notes: prepared.notes };
}

/**
 * A thread the bot was mentioned into is read from the platform: it holds what other people said
 * between mentions, which no store of ours sees. DMs and commands use the stored history, which
 * `/reset` can forget; it is also the fallback when the platform cannot be read.
 */
async function readContext(
  job: ChatJob,
  conversation: string,
  surface: Surface,
  history: Pick<ConversationHistory, 'read'>,
  log: Logger,
): Promise<ChatTurn[]> {
  if (job.fetchThreadContext && surface.conversationContext) {
    try {
      // Replies read back from the platform may carry shown reasoning: the model never gets it back.
      return stripReasoningAppendix(await surface.conversationContext(job));
    } catch (err) {
      log.warn({ err }, 'could not read the thread for context; using the stored history');
    }
  }
  // An answer asked again sees the conversation as it was when the question was first asked.
  return history.read(conversation, { before: job.replaces });
}

/** The message's files, read for the model: text inlined, images for a vision model, notes for the rest. */
async function readAttachments(job: ChatJob, model: string, surface: Surface, options: Config['attachments']): Promise<PreparedMessage> {
  if (job.attachments.length === 0) return { text: job.text, images: [], notes: [] };
  const { visionModels, ...limits } = options;
  return prepareAttachments(job.text, job.attachments, {
    model,
    vision: visionModels.has(model.split(':')[0] ?? model),
    limits,
    download: (attachment) =>
      surface.download ? surface.download(attachment, limits.maxBytes) : Promise.reject(new Error('this platform cannot download files')),
  });
}
