import type { FeedbackStore } from '../answers/feedback.ts';
import type { ChannelSettingsStore } from '../channels/settings.ts';
import type { ConversationHistory } from '../conversation/history.ts';
import type { SentimentLabel } from '../sentiment/labels.ts';
import type { SentimentStore } from '../sentiment/store.ts';

/** Where and by whom a command was run, as the adapter parsed it from its platform's payload. */
export interface CommandInvocation {
  platform: string;
  workspaceId: string;
  channelId: string;
  /** The thread it was typed in, when the platform says. */
  threadId?: string | undefined;
  /** A direct conversation with the bot (its history is stored, so /reset can forget it). */
  isDm: boolean;
  userId: string;
  /** The words after the command's name. */
  argument: string;
  /** The platform's own admin check (workspace admin, Manage Server…); asked only to change settings. */
  isPlatformAdmin(): Promise<boolean>;
  /** A sentiment label as the platform shows its tag (emoji). */
  sentimentTag(label: SentimentLabel): string;
}

/** What the commands use of the core. */
export interface CommandServices {
  history: Pick<ConversationHistory, 'clear'>;
  sentiment: Pick<SentimentStore, 'read'>;
  /** 👍 / 👎 on the bot's answers, per channel. */
  feedback: Pick<FeedbackStore, 'recent'>;
  channelSettings: Pick<ChannelSettingsStore, 'resolve' | 'update'>;
  /** ADMIN_USER_IDS, by platform. */
  admins: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface CommandContext extends CommandInvocation {
  services: CommandServices;
  /** ADMIN_USER_IDS or the platform's own admins. */
  isAdmin(): Promise<boolean>;
}

/** A free-text argument, for platforms that declare their commands' options. */
export interface CommandArgument {
  name: string;
  description: string;
  maxLength?: number;
}

/** One slash command of the core. Its answer is Markdown shown only to the person who ran it. */
export interface Command {
  name: string;
  description: string;
  argument?: CommandArgument;
  run(context: CommandContext): Promise<string>;
}
