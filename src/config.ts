import { z } from 'zod';
import { readChannelSettingsFile, type ChannelFileEntry } from './channels/settings-file.ts';
import { bool, ConfigError, csv, nonNegativeInt, optionalString, positiveInt, readEnv, url } from './env.ts';
import { REASONING_DISPLAYS, type ReasoningDisplay } from './llm/reasoning-display.ts';
import type { LogRedaction } from './logger.ts';
import type { EnabledPlatform, PageLink, PlatformAdapter } from './platform.ts';

export { ConfigError };

/** The roles one process can run; `npm start` runs both. */
export const ROLES = ['gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Every environment variable the core reads; each platform adapter reads its own. `.env.example`
 * documents them all; keep it in step (test/unit/config.test.ts checks they match).
 */
export const envSchema = z.object({
  ROLES: z
    .string()
    .default('gateway,worker')
    .transform((value) => value.split(',').map((role) => role.trim()))
    .pipe(z.array(z.enum(ROLES)).min(1)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  SHUTDOWN_GRACE_MS: positiveInt(10_000),
  ADMIN_PASSWORD: optionalString,
  METRICS_PORT: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().min(0).max(65_535).optional()),
  METRICS_TOKEN: optionalString,
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_AUTOSTART: bool(true),
  REDIS_DATA_DIR: z.string().min(1).default('.redis'),
  REDIS_CLUSTER: bool(false),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'must be letters, digits, _ - . and {} only')
    .default('hfbot'),

  HF_TOKEN: optionalString,
  HF_BASE_URL: url('https://router.huggingface.co/v1'),
  HF_CHAT_MODEL: z.string().min(1).default('meta-llama/Llama-3.1-8B-Instruct'),
  HF_INFERENCE_URL: url('https://router.huggingface.co/hf-inference'),
  HF_SENTIMENT_MODEL: z.string().min(1).default('cardiffnlp/twitter-roberta-base-sentiment-latest'),
  HF_MAX_TOKENS: positiveInt(1024),
  HF_VISION_MODELS: csv('meta-llama/Llama-3.2-11B-Vision-Instruct,Qwen/Qwen2.5-VL-7B-Instruct,Qwen/Qwen2.5-VL-32B-Instruct,google/gemma-3-27b-it'),
  ATTACHMENT_MAX_TEXT_CHARS: positiveInt(20_000),
  ATTACHMENT_MAX_IMAGES: nonNegativeInt(4),
  ATTACHMENT_MAX_BYTES: positiveInt(5 * 1024 * 1024),
  HF_TIMEOUT_MS: positiveInt(60_000),
  HF_STREAM_IDLE_TIMEOUT_MS: positiveInt(30_000),
  HF_MAX_ATTEMPTS: positiveInt(5),
  HF_LOADING_MAX_WAIT_MS: positiveInt(300_000),
  HF_RATE_LIMIT_MAX: nonNegativeInt(0),
  HF_RATE_LIMIT_WINDOW_MS: positiveInt(60_000),
  REASONING_DISPLAY: z.enum(REASONING_DISPLAYS).default('hidden'),
  SYSTEM_PROMPT: z
    .string()
    .default(
      'You are a helpful assistant in a team chat. Answer clearly and concisely, using Markdown where it helps.',
    ),

  WORKER_CONCURRENCY: positiveInt(50),
  WORKER_LOCK_MS: positiveInt(15_000),
  CONTEXT_MAX_CHARS: positiveInt(12_000),
  CONTEXT_MAX_TURNS: positiveInt(40),
  CONTEXT_TTL_SECONDS: positiveInt(7 * 24 * 3600),
  MAX_INPUT_CHARS: positiveInt(4000),
  USER_RATE_LIMIT: nonNegativeInt(10),
  USER_RATE_WINDOW_SECONDS: positiveInt(60),
  ALLOWED_CHANNELS: csv(),

  CHANNEL_CONFIG_FILE: optionalString,
  ADMIN_USER_IDS: csv(),

  SENTIMENT_ENABLED: bool(true),
  SENTIMENT_ALERT_CHANNEL: csv(),
  SENTIMENT_MOOD_HINT: bool(false),
  SENTIMENT_TTL_SECONDS: positiveInt(14 * 24 * 3600),
  SENTIMENT_CONCURRENCY: positiveInt(8),
  INSIGHTS_RETENTION_DAYS: positiveInt(90),

});

export type Env = z.infer<typeof envSchema>;

export interface SentimentConfig {
  enabled: boolean;
  /** Channels a thread turning negative is announced in, by platform. */
  alertChannels: Map<string, string>;
  moodHint: boolean;
  ttlSeconds: number;
  concurrency: number;
}

export interface Config {
  roles: ReadonlySet<Role>;
  logLevel: Env['LOG_LEVEL'];
  port: number;
  /** How long a stopping worker lets answers finish before handing the rest back to the queue. */
  shutdownGraceMs: number;
  /** Password of the queue dashboard; the dashboard is off without one. */
  adminPassword: string | undefined;
  /** /metrics on a listener of its own (`port`) and/or behind a bearer token. */
  metrics: { port: number | undefined; token: string | undefined };
  /** The platforms switched on, each created once per process by the service. */
  platforms: EnabledPlatform[];
  /** No HF token, and only platforms that accept it: answers come from the offline demo model. */
  demoModel: boolean;
  /** `dataDir`: where an autostarted redis-server keeps its append-only file. */
  redis: { url: string; autostart: boolean; dataDir: string; cluster: boolean; prefix: string };
  hf: {
    token: string | undefined;
    baseUrl: string;
    chatModel: string;
    inferenceUrl: string;
    sentimentModel: string;
    maxTokens: number;
    timeoutMs: number;
    streamIdleTimeoutMs: number;
    maxAttempts: number;
    loadingMaxWaitMs: number;
    rateLimit: { max: number; windowMs: number } | undefined;
  };
  systemPrompt: string;
  /** How a reasoning model's thoughts are shown: hidden, an excerpt, or in full after the answer. */
  reasoningDisplay: ReasoningDisplay;
  attachments: {
    /** Models that take images (the part before any :provider suffix is compared). */
    visionModels: ReadonlySet<string>;
    maxTextChars: number;
    maxImages: number;
    maxBytes: number;
  };
  channels: {
    /** Entries of CHANNEL_CONFIG_FILE, validated at start-up. */
    file: ChannelFileEntry[];
    /** Who may change channel settings besides the platform's own admins, by platform. */
    admins: Map<string, Set<string>>;
  };
  sentiment: SentimentConfig;
  /** Days the /insights page's daily aggregates are kept. */
  insights: { retentionDays: number };
  worker: { concurrency: number; lockMs: number };
  context: { maxChars: number; maxTurns: number; ttlSeconds: number };
  limits: {
    maxInputChars: number;
    userRate: { max: number; windowSeconds: number } | undefined;
    allowedChannels: ReadonlySet<string>;
  };
  /** Every secret value, so the logger can scrub them wherever they appear. */
  secrets: string[];
  /** Every platform's secret shapes and fields, for the logger. */
  redaction: LogRedaction;
  /** Where each platform the service speaks is set up (all of them, on or not), for the landing page. */
  setupLinks: PageLink[];
}

/** `a, b, or c` */
const either = (items: string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')}, or ${items.at(-1)}` : (items[0] ?? ''));

/**
 * Assigns each id of a list variable to a platform: `platform:id`, or a bare id the platform that
 * claims its shape (the first adapter whose `ownsId` says so).
 */
function byPlatform(name: string, entries: string[], adapters: readonly PlatformAdapter[], problems: string[]): Array<[platform: string, id: string]> {
  return entries.flatMap((entry): Array<[string, string]> => {
    const colon = entry.indexOf(':');
    const prefixed = colon > 0 ? adapters.find((adapter) => adapter.platform === entry.slice(0, colon)) : undefined;
    if (prefixed) return [[prefixed.platform, entry.slice(colon + 1)]];
    const owner = adapters.find((adapter) => adapter.ownsId(entry));
    if (owner) return [[owner.platform, entry]];
    problems.push(`${name}: "${entry}" is no platform's id: prefix it with the platform (${adapters.map((adapter) => `${adapter.platform}:`).join(', ')})`);
    return [];
  });
}

/**
 * Reads the environment into a Config: the core's variables and every adapter's, then the checks
 * across them, in one pass. Throws one ConfigError naming every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv, adapters: readonly PlatformAdapter[], rolesOverride?: Role[]): Config {
  const { values: e, problems } = readEnv(envSchema, env);
  if (!e) throw new ConfigError(problems);
  const roles = new Set<Role>(rolesOverride ?? e.ROLES);
  const platforms = adapters.map((adapter) => ({ adapter, ...adapter.configure(env, roles) }));
  for (const platform of platforms) problems.push(...platform.problems);

  const on = platforms.filter((platform) => platform.on);
  const demoModel = !e.HF_TOKEN && on.length > 0 && on.every((platform) => platform.adapter.acceptsDemoModel);
  // Without a token a local page may answer with the offline demo model; real users never get it.
  if (roles.has('worker') && !e.HF_TOKEN && !demoModel) {
    problems.push('HF_TOKEN: required by the worker role (a Hugging Face access token, hf_...)');
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (it is a second listener, for scrapers inside your network)');
  }
  if (e.REDIS_CLUSTER && !/^\{[^{}]+\}$/.test(e.QUEUE_PREFIX)) {
    problems.push('QUEUE_PREFIX: on a Redis Cluster it must be a hash tag such as {hfbot}, so each job\'s keys share a slot');
  }
  if (on.length === 0) {
    problems.push(`no platform configured: set ${either(adapters.map((adapter) => adapter.howToEnable))}`);
  }
  let channelFile: ChannelFileEntry[] = [];
  if (e.CHANNEL_CONFIG_FILE) {
    const read = readChannelSettingsFile(e.CHANNEL_CONFIG_FILE, adapters.map((adapter) => adapter.platform));
    if ('problems' in read) problems.push(...read.problems);
    else channelFile = read.entries;
  }
  const admins = new Map<string, Set<string>>();
  for (const [platform, id] of byPlatform('ADMIN_USER_IDS', e.ADMIN_USER_IDS, adapters, problems)) {
    admins.set(platform, new Set([...(admins.get(platform) ?? []), id]));
  }
  const alertChannels = new Map<string, string>();
  for (const [platform, id] of byPlatform('SENTIMENT_ALERT_CHANNEL', e.SENTIMENT_ALERT_CHANNEL, adapters, problems)) {
    if (/^\S+$/.test(id) && !alertChannels.has(platform)) alertChannels.set(platform, id);
    else problems.push(`SENTIMENT_ALERT_CHANNEL: "${id}" is not a channel id (or is a second one for ${platform})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    roles,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    adminPassword: e.ADMIN_PASSWORD,
    metrics: { port: e.METRICS_PORT, token: e.METRICS_TOKEN },
    platforms: platforms.flatMap((platform) => (platform.enabled ? [platform.enabled] : [])),
    demoModel,
    redis: { url: e.REDIS_URL, autostart: e.REDIS_AUTOSTART && !e.REDIS_CLUSTER, dataDir: e.REDIS_DATA_DIR, cluster: e.REDIS_CLUSTER, prefix: e.QUEUE_PREFIX },
    hf: {
      token: e.HF_TOKEN,
      baseUrl: e.HF_BASE_URL,
      chatModel: e.HF_CHAT_MODEL,
      inferenceUrl: e.HF_INFERENCE_URL,
      sentimentModel: e.HF_SENTIMENT_MODEL,
      maxTokens: e.HF_MAX_TOKENS,
      timeoutMs: e.HF_TIMEOUT_MS,
      streamIdleTimeoutMs: e.HF_STREAM_IDLE_TIMEOUT_MS,
      maxAttempts: e.HF_MAX_ATTEMPTS,
      loadingMaxWaitMs: e.HF_LOADING_MAX_WAIT_MS,
      rateLimit: e.HF_RATE_LIMIT_MAX > 0 ? { max: e.HF_RATE_LIMIT_MAX, windowMs: e.HF_RATE_LIMIT_WINDOW_MS } : undefined,
    },
    systemPrompt: e.SYSTEM_PROMPT,
    reasoningDisplay: e.REASONING_DISPLAY,
    attachments: {
      visionModels: new Set(e.HF_VISION_MODELS),
      maxTextChars: e.ATTACHMENT_MAX_TEXT_CHARS,
      maxImages: e.ATTACHMENT_MAX_IMAGES,
      maxBytes: e.ATTACHMENT_MAX_BYTES,
    },
    channels: { file: channelFile, admins },
    sentiment: {
      enabled: e.SENTIMENT_ENABLED,
      alertChannels: alertChannels,
      moodHint: e.SENTIMENT_MOOD_HINT,
      ttlSeconds: e.SENTIMENT_TTL_SECONDS,
      concurrency: e.SENTIMENT_CONCURRENCY,
    },
    insights: { retentionDays: e.INSIGHTS_RETENTION_DAYS },
    worker: { concurrency: e.WORKER_CONCURRENCY, lockMs: e.WORKER_LOCK_MS },
    context: { maxChars: e.CONTEXT_MAX_CHARS, maxTurns: e.CONTEXT_MAX_TURNS, ttlSeconds: e.CONTEXT_TTL_SECONDS },
    limits: {
      maxInputChars: e.MAX_INPUT_CHARS,
      userRate:
        e.USER_RATE_LIMIT > 0 ? { max: e.USER_RATE_LIMIT, windowSeconds: e.USER_RATE_WINDOW_SECONDS } : undefined,
      allowedChannels: new Set(e.ALLOWED_CHANNELS),
    },
    secrets: [e.HF_TOKEN, e.ADMIN_PASSWORD, e.METRICS_TOKEN, ...platforms.flatMap((platform) => platform.secrets)].filter((value): value is string => Boolean(value)),
    redaction: {
      paths: adapters.flatMap((adapter) => adapter.logRedaction.paths ?? []),
      patterns: adapters.flatMap((adapter) => adapter.logRedaction.patterns ?? []),
    },
    setupLinks: adapters.flatMap((adapter) => (adapter.setup ? [adapter.setup] : [])),
  };
}
