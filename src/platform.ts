import type { Application } from 'express';
import type { AnswerControls } from './answers/controls.ts';
import type { z } from 'zod';
import type { ChannelSettingsStore } from './channels/settings.ts';
import type { CommandRunner } from './commands/registry.ts';
import type { Config, Role } from './config.ts';
import type { ReplyIndex } from './conversation/reply-index.ts';
import { readEnv } from './env.ts';
import type { Intake } from './intake.ts';
import type { Logger, LogRedaction } from './logger.ts';
import type { Keyspace, RedisConnection } from './queue/redis.ts';
import type { Surface } from './surface.ts';

/** What every adapter may use, gateway or surface. */
export interface AdapterContext {
  config: Config;
  logger: Logger;
  /** The service's Redis, for adapters that keep state of their own. */
  redis: RedisConnection;
  keys: Keyspace;
}

export interface GatewayContext extends AdapterContext {
  intake: Intake;
  /** Which conversation an answer message belongs to (reply chains). */
  replies: ReplyIndex;
  /** Per-channel model, prompt and mention policy (answers in threads without a mention). */
  channelSettings: ChannelSettingsStore;
  /** The core's slash commands (/reset, /sentiment, /model, /prompt, …): adapters parse and render. */
  commands: CommandRunner;
  /** Stop and rate answers from a platform's buttons. */
  controls: AnswerControls;
  /** The service's HTTP app, for adapters that receive webhooks (mounted before it listens). */
  http: Application;
}

/**
 * A platform could not start for a reason its operator can fix (unreachable, credentials refused).
 * The message is the whole story in one line: which platform, which URL, what to check.
 */
export class PlatformStartError extends Error {
  readonly platform: string;
  constructor(platform: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlatformStartError';
    this.platform = platform;
  }
}

export interface RunningGateway {
  /** Connected to the platform (or, for webhooks, listening) and taking events. */
  ready(): boolean;
  /** Stop taking events; in-flight acks finish. */
  stop(): Promise<void>;
}

/** One platform in one process: its outbound surface, and its inbound gateway when the process runs one. */
/** A link the landing page at `/` shows. */
export interface PageLink {
  href: string;
  label: string;
  what: string;
}

export interface PlatformInstance {
  surface: Surface;
  startGateway(context: GatewayContext): Promise<RunningGateway>;
  /** Pages this platform serves in this process (a local chat page), for the landing page. */
  pages?: PageLink[];
}

/** A platform whose variables are set and valid: ready to be created once per process. */
export interface EnabledPlatform {
  readonly platform: string;
  create(context: AdapterContext): Promise<PlatformInstance>;
}

/** What one platform's variables say. */
export interface PlatformConfiguration {
  /** The variables that switch it on are set (even if others are wrong). */
  on: boolean;
  problems: string[];
  /** Secret values, scrubbed from every log line. */
  secrets: string[];
  /** Present when on and without problems. */
  enabled: EnabledPlatform | undefined;
}

/**
 * What a platform plugs into the core. The core knows only this shape; each adapter owns its
 * environment variables, their checks, its reply targets and its ids.
 */
export interface PlatformAdapter {
  readonly platform: string;
  /** The environment variables it reads (public names: `.env.example` documents each). */
  readonly variables: readonly string[];
  /** How an operator switches it on, for the "no platform configured" problem. */
  readonly howToEnable: string;
  /** A local page may answer with the offline demo model; real users never are. */
  readonly acceptsDemoModel: boolean;
  /** Secret shapes and fields of this platform, kept out of logs. */
  readonly logRedaction: LogRedaction;
  /** Where an operator sets the platform up (its app console), shown on the landing page. */
  readonly setup: PageLink | undefined;
  /** Whether an unprefixed id (in ADMIN_USER_IDS, SENTIMENT_ALERT_CHANNEL) is this platform's. */
  ownsId(id: string): boolean;
  configure(env: Readonly<Record<string, string | undefined>>, roles: ReadonlySet<Role>): PlatformConfiguration;
}

export interface PlatformDefinition<Schema extends z.ZodObject, Settings> {
  platform: string;
  env: Schema;
  howToEnable: string;
  acceptsDemoModel?: boolean;
  logRedaction?: LogRedaction;
  setup?: PageLink;
  ownsId?: (id: string) => boolean;
  /**
   * The platform's own checks across its variables, given values that each passed the schema (a
   * bad one reads as unset). No settings: the platform is off, or (`on`) switched on but incomplete.
   */
  settings(values: z.output<Schema>, roles: ReadonlySet<Role>): { settings: Settings | undefined; problems?: string[]; on?: boolean };
  /** Its secret values (tokens, signing secrets), scrubbed from every log line. */
  secrets?: (values: z.output<Schema>) => Array<string | undefined>;
  /** Its SDK and surface are imported here, so a process loads only the platforms switched on. */
  create(context: AdapterContext, settings: Settings): Promise<PlatformInstance>;
}

/** A platform adapter with its settings typed, for its own scripts and tests. */
export interface TypedPlatformAdapter<Settings> extends PlatformAdapter {
  /** The settings `env` gives; undefined when the platform is off or its variables have problems. */
  settingsFrom(env: Readonly<Record<string, string | undefined>>, roles?: ReadonlySet<Role>): Settings | undefined;
}

/** Builds an adapter from its schema, checks and constructor; variables are read in one pass. */
export function definePlatform<Schema extends z.ZodObject, Settings>(definition: PlatformDefinition<Schema, Settings>): TypedPlatformAdapter<Settings> {
  const read = (env: Readonly<Record<string, string | undefined>>, roles: ReadonlySet<Role>) => {
    const { values, problems } = readEnv(definition.env, env);
    if (!values) return { values, settings: undefined, on: false, problems };
    const checked = definition.settings(values, roles);
    const on = checked.on ?? checked.settings !== undefined;
    return { values, settings: checked.settings, on, problems: [...problems, ...(checked.problems ?? [])] };
  };
  return {
    platform: definition.platform,
    variables: Object.keys(definition.env.shape),
    howToEnable: definition.howToEnable,
    acceptsDemoModel: definition.acceptsDemoModel ?? false,
    logRedaction: definition.logRedaction ?? {},
    setup: definition.setup,
    ownsId: definition.ownsId ?? (() => false),
    configure(env, roles) {
      const { values, settings, on, problems } = read(env, roles);
      const secrets = values ? (definition.secrets?.(values) ?? []).filter((value): value is string => Boolean(value)) : [];
      const enabled =
        settings !== undefined && problems.length === 0
          ? { platform: definition.platform, create: (context: AdapterContext) => definition.create(context, settings) }
          : undefined;
      return { on, problems, secrets, enabled };
    },
    settingsFrom(env, roles = new Set<Role>(['gateway', 'worker'])) {
      const { settings, problems } = read(env, roles);
      return problems.length === 0 ? settings : undefined;
    },
  };
}
