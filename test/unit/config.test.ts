import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig } from '../../src/config.ts';

const slackEnv = { HF_TOKEN: 'hf_abcdefghijkl', SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'secret-123456' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(slackEnv);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', autostart: true, dataDir: '.redis', cluster: false, prefix: 'hfbot' });
    expect(config.port).toBe(3000);
    expect(config.hf.baseUrl).toBe('https://router.huggingface.co/v1');
    expect(config.hf.inferenceUrl).toBe('https://router.huggingface.co/hf-inference');
    expect(config.slack?.apiUrl).toBe('https://slack.com/api/');
    expect([...config.roles]).toEqual(['gateway', 'worker']);
    expect(config.discord).toBeUndefined();
  });

  it('names every problem at once', () => {
    const problems = problemsOf({ PORT: 'abc', LOG_LEVEL: 'loud', HF_BASE_URL: 'not a url' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
    expect(problems.join('\n')).toMatch(/HF_BASE_URL/);
  });

  it('starts with nothing set: the playground and its offline demo model, in development only', () => {
    expect(loadConfig({}).playground).toEqual({ style: 'slack', demoModel: true });
    expect(loadConfig({ HF_TOKEN: 'hf_abcdefghijkl' }).playground).toEqual({ style: 'slack', demoModel: false });
    expect(loadConfig({ ...slackEnv, NODE_ENV: 'production' }).playground).toBeUndefined();
    // Real users are never answered by the demo model.
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).some((p) => p.startsWith('HF_TOKEN'))).toBe(true);
  });

  it('explains missing credentials', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.some((p) => p.startsWith('HF_TOKEN'))).toBe(true);
    expect(problems.some((p) => p.includes('no platform configured'))).toBe(true);
    expect(problemsOf({ ...slackEnv, SLACK_SIGNING_SECRET: '' })[0]).toMatch(/SLACK_SIGNING_SECRET or SLACK_APP_TOKEN/);
  });

  it('lets a gateway run without an HF token, but not a worker', () => {
    const env = { ...slackEnv, HF_TOKEN: '' };
    expect(loadConfig(env, ['gateway']).roles.has('worker')).toBe(false);
    expect(() => loadConfig(env, ['worker'])).toThrow(ConfigError);
  });

  it('collects the secrets the logger must scrub', () => {
    expect(loadConfig(slackEnv).secrets).toEqual(expect.arrayContaining(['hf_abcdefghijkl', 'xoxb-1-2-3', 'secret-123456']));
    expect(loadConfig({ ...slackEnv, METRICS_TOKEN: 'metrics-token-1' }).secrets).toContain('metrics-token-1');
  });

  it('reads METRICS_PORT as a second listener that cannot be PORT, and an empty one as unset', () => {
    expect(loadConfig(slackEnv).metrics).toEqual({ port: undefined, token: undefined });
    expect(loadConfig({ ...slackEnv, METRICS_PORT: '' }).metrics.port).toBeUndefined();
    expect(loadConfig({ ...slackEnv, METRICS_PORT: '9100' }).metrics.port).toBe(9100);
    expect(problemsOf({ ...slackEnv, PORT: '9100', METRICS_PORT: '9100' })[0]).toMatch(/^METRICS_PORT: must differ from PORT/);
  });
});

describe('.env.example', () => {
  it('documents exactly the variables the service reads', () => {
    const documented = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect(new Set(documented)).toEqual(new Set(Object.keys(envSchema.shape)));
  });
});
