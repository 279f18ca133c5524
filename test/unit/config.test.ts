import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adapters } from '../../adapters/index.ts';
import { playgroundAdapter } from '../../adapters/playground/index.ts';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { ConfigError, envSchema, loadConfig, type Role } from '../../src/config.ts';

const slackEnv = { HF_TOKEN: 'hf_abcdefghijkl', SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'secret-123456' };

const load = (env: Record<string, string>, roles?: Role[]) => loadConfig(env, adapters, roles);
const platformsOf = (env: Record<string, string>) => load(env).platforms.map((platform) => platform.platform);

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = load(slackEnv);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', autostart: true, dataDir: '.redis', cluster: false, prefix: 'hfbot' });
    expect(config.port).toBe(3000);
    expect(config.hf.baseUrl).toBe('https://router.huggingface.co/v1');
    expect(config.hf.inferenceUrl).toBe('https://router.huggingface.co/hf-inference');
    expect(slackAdapter.settingsFrom(slackEnv)?.apiUrl).toBe('https://slack.com/api/');
    expect([...config.roles]).toEqual(['gateway', 'worker']);
    expect(platformsOf(slackEnv)).toContain('slack');
    expect(platformsOf(slackEnv)).not.toContain('discord');
  });

  it('names every problem at once', () => {
    const problems = problemsOf({ PORT: 'abc', LOG_LEVEL: 'loud', HF_BASE_URL: 'not a url' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
    expect(problems.join('\n')).toMatch(/HF_BASE_URL/);
  });

  it('starts with nothing set: the playground and its offline demo model, in development only', () => {
    expect(platformsOf({})).toEqual(['playground']);
    expect(load({}).demoModel).toBe(true);
    expect(playgroundAdapter.settingsFrom({})?.style).toBe('slack');
    expect(load({ HF_TOKEN: 'hf_abcdefghijkl' }).demoModel).toBe(false);
    expect(platformsOf({ HF_TOKEN: 'hf_abcdefghijkl' })).toEqual(['playground']);
    expect(platformsOf({ ...slackEnv, NODE_ENV: 'production' })).toEqual(['slack']);
    // Real users are never answered by the demo model.
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).some((p) => p.startsWith('HF_TOKEN'))).toBe(true);
  });

  it('explains missing credentials', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.some((p) => p.startsWith('HF_TOKEN'))).toBe(true);
    expect(problems).toContain('no platform configured: set the SLACK_* variables, the DISCORD_* variables, or PLAYGROUND_ENABLED=true');
    expect(problemsOf({ ...slackEnv, SLACK_SIGNING_SECRET: '' })[0]).toMatch(/SLACK_SIGNING_SECRET or SLACK_APP_TOKEN/);
  });

  it('lets a gateway run without an HF token, but not a worker', () => {
    const env = { ...slackEnv, HF_TOKEN: '' };
    expect(load(env, ['gateway']).roles.has('worker')).toBe(false);
    expect(() => load(env, ['worker'])).toThrow(ConfigError);
  });

  it('collects the secrets the logger must scrub', () => {
    expect(load(slackEnv).secrets).toEqual(expect.arrayContaining(['hf_abcdefghijkl', 'xoxb-1-2-3', 'secret-123456']));
    expect(load({ ...slackEnv, DISCORD_TOKEN: 'discord-secret-1', DISCORD_APPLICATION_ID: '1' }).secrets).toContain('discord-secret-1');
    expect(load({ ...slackEnv, METRICS_TOKEN: 'metrics-token-1' }).secrets).toContain('metrics-token-1');
  });

  it('reads METRICS_PORT as a second listener that cannot be PORT, and an empty one as unset', () => {
    expect(load(slackEnv).metrics).toEqual({ port: undefined, token: undefined });
    expect(load({ ...slackEnv, METRICS_PORT: '' }).metrics.port).toBeUndefined();
    expect(load({ ...slackEnv, METRICS_PORT: '9100' }).metrics.port).toBe(9100);
    expect(problemsOf({ ...slackEnv, PORT: '9100', METRICS_PORT: '9100' })[0]).toMatch(/^METRICS_PORT: must differ from PORT/);
  });

  it('gives each id to its platform: by prefix, or by the shape each platform claims', () => {
    const config = load({ ...slackEnv, ADMIN_USER_IDS: 'slack:U1,W2,123456,discord:42,playground:local-user', SENTIMENT_ALERT_CHANNEL: 'C9,987654' });
    expect(config.channels.admins).toEqual(
      new Map([
        ['slack', new Set(['U1', 'W2'])],
        ['discord', new Set(['123456', '42'])],
        ['playground', new Set(['local-user'])],
      ]),
    );
    expect(config.sentiment.alertChannels).toEqual(new Map([['slack', 'C9'], ['discord', '987654']]));
    expect(problemsOf({ ...slackEnv, SENTIMENT_ALERT_CHANNEL: 'C1,C2' })).toEqual([
      'SENTIMENT_ALERT_CHANNEL: "C2" is not a channel id (or is a second one for slack)',
    ]);
  });
});

describe('configuration problems', () => {
  it('come in one pass: a bad number does not hide a missing secret', () => {
    const problems = problemsOf({ HF_TOKEN: 'hf_x', SLACK_BOT_TOKEN: 'xoxb-x', WORKER_CONCURRENCY: 'abc' });
    expect(problems).toEqual([
      'WORKER_CONCURRENCY: "abc" is not a whole number',
      'SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: one is required with SLACK_BOT_TOKEN (HTTP Events API or Socket Mode)',
    ]);
    // Within one platform too: its checks across variables still run.
    expect(problemsOf({ HF_TOKEN: 'hf_x', SLACK_BOT_TOKEN: 'xoxb-x', SLACK_EDIT_INTERVAL_MS: 'soon' })).toEqual([
      'SLACK_EDIT_INTERVAL_MS: "soon" is not a whole number',
      'SLACK_SIGNING_SECRET or SLACK_APP_TOKEN: one is required with SLACK_BOT_TOKEN (HTTP Events API or Socket Mode)',
    ]);
  });

  it('echo the value given and say what is allowed, in our words', () => {
    const problems = problemsOf({
      ...slackEnv,
      ROLES: 'gateway,foo',
      SLACK_API_URL: 'x',
      PORT: '70000',
      WORKER_CONCURRENCY: '0',
      LOG_LEVEL: 'loud',
      REDIS_AUTOSTART: 'maybe',
      SLACK_SENTIMENT_EMOJI: 'a,b',
      SLACK_ASK_COMMAND: 'ask',
      QUEUE_PREFIX: 'a b',
      HF_CHAT_MODEL: '',
    });
    expect(problems.sort()).toEqual(
      [
        'ROLES: "foo" is not one of gateway, worker',
        'SLACK_API_URL: "x" is not a URL',
        'PORT: "70000" is too large: the most is 65535',
        'WORKER_CONCURRENCY: "0" is too small: the least is 1',
        'LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
        'REDIS_AUTOSTART: "maybe" is not true or false (yes/no, on/off and 1/0 work too)',
        'SLACK_SENTIMENT_EMOJI: "a,b" must be three comma-separated emoji: positive,neutral,negative',
        'SLACK_ASK_COMMAND: "ask" must look like /name (lowercase letters, digits, - or _)',
        'QUEUE_PREFIX: "a b" must be letters, digits, _ - . and {} only',
        'HF_CHAT_MODEL: must not be empty',
      ].sort(),
    );
    for (const problem of problems) expect(problem).not.toMatch(/expected|received|Invalid/);
  });
});

describe('.env.example', () => {
  it('documents exactly the variables the core and every platform read', () => {
    const documented = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    const read = [...Object.keys(envSchema.shape), ...adapters.flatMap((adapter) => adapter.variables)];
    expect(new Set(documented)).toEqual(new Set(read));
  });
});
