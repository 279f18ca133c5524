import { z } from 'zod';
import { readChannelSettingsFile, type ChannelFileEntry } from './channels/settings-file.ts';
import { REASONING_DISPLAYS, type ReasoningDisplay } from './llm/reasoning-display.ts';

/** The roles one process can run; `npm start` runs both. */
export const ROLES = ['gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => ['true', '1', 'yes', 'on'].includes(value));
const csv = (fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );
const url = (fallback: string) => z.url().default(fallback);
const slashCommand = (fallback: string) =>
  z
    .string()
    .regex(/^\/[a-z0-9_-]{1,31}$/, 'must look like /name (lowercase letters, digits, - or _)')
    .default(fallback);

/** Three emoji, for positive, neutral and negative threads. */
const sentimentEmoji = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim().replace(/^:|:$/g, '')))
    .pipe(z.tuple([z.string().min(1), z.string().min(1), z.string().min(1)], 'three comma-separated emoji: positive,neutral,negative'))
    .transform(([positive, neutral, negative]) => ({ positive, neutral, negative }));

/**
 * Every environment variable the service reads. `.env.example` documents each one;
 * keep the two in step (test/config.test.ts checks they match).
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
  NODE_ENV: z.string().default('development'),
  PLAYGROUND_ENABLED: z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).optional(),
  PLAYGROUND_STYLE: z.enum(['slack', 'discord']).default('slack'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_AUTOSTART: bool(true),
  REDIS_CLUSTER: bool(false),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'letters, digits, _ - . and {} only')
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

  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: url('https://slack.com/api/'),
  SLACK_EDIT_INTERVAL_MS: positiveInt(1000),
  SLACK_MAX_MESSAGE_CHARS: z.coerce.number().int().min(500).max(12_000).default(3900),
  SLACK_ASK_COMMAND: slashCommand('/ask'),
  SLACK_RESET_COMMAND: slashCommand('/reset'),
  SLACK_SENTIMENT_COMMAND: slashCommand('/sentiment'),
  SLACK_MODEL_COMMAND: slashCommand('/model'),
  SLACK_PROMPT_COMMAND: slashCommand('/prompt'),
  SLACK_SENTIMENT_EMOJI: sentimentEmoji('large_green_circle,white_circle,red_circle'),

  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString,
  DISCORD_API_URL: z.url().optional(),
  DISCORD_EDIT_INTERVAL_MS: positiveInt(1000),
  DISCORD_SENTIMENT_EMOJI: sentimentEmoji('🟢,⚪,🔴'),
});

export type Env = z.infer<typeof envSchema>;

export interface SlackConfig {
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  apiUrl: string;
  editIntervalMs: number;
  maxMessageChars: number;
  askCommand: string;
  resetCommand: string;
  sentimentCommand: string;
  modelCommand: string;
  promptCommand: string;
  sentimentEmoji: SentimentEmoji;
}

export interface SentimentEmoji {
  positive: string;
  neutral: string;
  negative: string;
}

export interface SentimentConfig {
  enabled: boolean;
  /** Channels a thread turning negative is announced in, by platform. */
  alertChannels: Map<string, string>;
  moodHint: boolean;
  ttlSeconds: number;
  concurrency: number;
}

export interface DiscordConfig {
  token: string;
  applicationId: string;
  /** REST base (`https://discord.com/api` when unset); the gateway URL is discovered through it. */
  apiUrl: string | undefined;
  editIntervalMs: number;
  sentimentEmoji: SentimentEmoji;
}

export interface Config {
  roles: ReadonlySet<Role>;
  logLevel: Env['LOG_LEVEL'];
  port: number;
  /** How long a stopping worker lets answers finish before handing the rest back to the queue. */
  shutdownGraceMs: number;
  /** Password of the queue dashboard; the dashboard is off without one. */
  adminPassword: string | undefined;
  /** The local chat page; `demoModel` when there is no HF token (offline demo answers). */
  playground: { style: 'slack' | 'discord'; demoModel: boolean } | undefined;
  redis: { url: string; autostart: boolean; cluster: boolean; prefix: string };
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
  slack: SlackConfig | undefined;
  discord: DiscordConfig | undefined;
  /** Every secret value, so the logger can scrub them wherever they appear. */
  secrets: string[];
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses the environment into a Config, or throws one ConfigError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, rolesOverride?: Role[]): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const roles = new Set<Role>(rolesOverride ?? e.ROLES);
  const problems: string[] = [];

  // The playground is on in development unless switched off, and off in production unless switched on.
  const playground = e.PLAYGROUND_ENABLED ? ['true', '1', 'yes', 'on'].includes(e.PLAYGROUND_ENABLED) : e.NODE_ENV !== 'production';
  const realPlatform = Boolean(e.SLACK_BOT_TOKEN || e.DISCORD_TOKEN);
  // Without a token the playground answers with the offline demo model; real users never get it.
  if (roles.has('worker') && !e.HF_TOKEN && (realPlatform || !playground)) {
    problems.push('HF_TOKEN: required by the worker role (a Hugging Face access token, hf_...)');
  }
  if (e.SLACK_BOT_TOKEN && roles.has('gateway') && !e.SLACK_SIGNING_SECRET && !e.SLACK_APP_TOKEN) {
    problems.push(
      'SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: one is required with SLACK_BOT_TOKEN (HTTP Events API or Socket Mode)',
    );
  }
  if (!e.SLACK_BOT_TOKEN && (e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN)) {
    problems.push('SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set');
  }
  if (e.REDIS_CLUSTER && !/^\{[^{}]+\}$/.test(e.QUEUE_PREFIX)) {
    problems.push('QUEUE_PREFIX: on a Redis Cluster it must be a hash tag such as {hfbot}, so each job\'s keys share a slot');
  }
  if (e.SLACK_APP_TOKEN && !e.SLACK_APP_TOKEN.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN: must be an app-level token starting with xapp-');
  }
  if (Boolean(e.DISCORD_TOKEN) !== Boolean(e.DISCORD_APPLICATION_ID)) {
    problems.push('DISCORD_TOKEN and DISCORD_APPLICATION_ID: set both or neither');
  }
  if (!realPlatform && !playground) {
    problems.push('no platform configured: set the SLACK_* variables, the DISCORD_* variables, or PLAYGROUND_ENABLED=true');
  }
  let channelFile: ChannelFileEntry[] = [];
  if (e.CHANNEL_CONFIG_FILE) {
    const read = readChannelSettingsFile(e.CHANNEL_CONFIG_FILE);
    if ('problems' in read) problems.push(...read.problems);
    else channelFile = read.entries;
  }
  const admins = new Map<string, Set<string>>();
  for (const entry of e.ADMIN_USER_IDS) {
    const [, prefixed, id = entry] = /^(?:(slack|discord|playground):)?(.+)$/.exec(entry) ?? [];
    // A bare id names its platform by its shape, as for alert channels.
    const platform = prefixed ?? (/^\d+$/.test(id) ? 'discord' : 'slack');
    admins.set(platform, new Set([...(admins.get(platform) ?? []), id]));
  }
  const alertChannels = new Map<string, string>();
  for (const entry of e.SENTIMENT_ALERT_CHANNEL) {
    const match = /^(?:(slack|discord):)?(\S+)$/.exec(entry);
    // A bare id names its platform by its shape: Discord ids are all digits, Slack's are not.
    const platform = match?.[1] ?? (/^\d+$/.test(entry) ? 'discord' : 'slack');
    if (match?.[2] && !alertChannels.has(platform)) alertChannels.set(platform, match[2]);
    else problems.push(`SENTIMENT_ALERT_CHANNEL: "${entry}" is not a channel id (or is a second one for ${platform})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    roles,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    adminPassword: e.ADMIN_PASSWORD,
    playground: playground ? { style: e.PLAYGROUND_STYLE, demoModel: !e.HF_TOKEN } : undefined,
    redis: { url: e.REDIS_URL, autostart: e.REDIS_AUTOSTART && !e.REDIS_CLUSTER, cluster: e.REDIS_CLUSTER, prefix: e.QUEUE_PREFIX },
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
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          appToken: e.SLACK_APP_TOKEN,
          apiUrl: e.SLACK_API_URL,
          editIntervalMs: e.SLACK_EDIT_INTERVAL_MS,
          maxMessageChars: e.SLACK_MAX_MESSAGE_CHARS,
          askCommand: e.SLACK_ASK_COMMAND,
          resetCommand: e.SLACK_RESET_COMMAND,
          sentimentCommand: e.SLACK_SENTIMENT_COMMAND,
          modelCommand: e.SLACK_MODEL_COMMAND,
          promptCommand: e.SLACK_PROMPT_COMMAND,
          sentimentEmoji: e.SLACK_SENTIMENT_EMOJI,
        }
      : undefined,
    discord:
      e.DISCORD_TOKEN && e.DISCORD_APPLICATION_ID
        ? {
            token: e.DISCORD_TOKEN,
            applicationId: e.DISCORD_APPLICATION_ID,
            apiUrl: e.DISCORD_API_URL,
            editIntervalMs: e.DISCORD_EDIT_INTERVAL_MS,
            sentimentEmoji: e.DISCORD_SENTIMENT_EMOJI,
          }
        : undefined,
    secrets: [e.HF_TOKEN, e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_APP_TOKEN, e.DISCORD_TOKEN, e.ADMIN_PASSWORD].filter(
      (value): value is string => Boolean(value),
    ),
  };
}
