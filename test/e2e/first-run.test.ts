import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { adapters } from '../../adapters/index.ts';
import { loadConfig } from '../../src/config.ts';
import { eventually, secrets, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const ENTRY = fileURLToPath(new URL('../../bin/hfbot.ts', import.meta.url));

/** The links of a page, as `href`s. */
const hrefs = (html: string) => [...html.matchAll(/<a href="([^"]+)"/g)].map((match) => match[1] ?? '');

/** Posts to the playground's API, as the page's composer does. */
async function compose(baseUrl: string, body: { channel: string; text: string; threadId?: string }): Promise<Response> {
  return fetch(`${baseUrl}/playground/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function messages(baseUrl: string, channel: string): Promise<Array<{ text: string; ephemeral?: boolean; author: string }>> {
  const response = await fetch(`${baseUrl}/playground/api/messages?channel=${channel}`);
  return ((await response.json()) as { messages: Array<{ text: string; ephemeral?: boolean; author: string }> }).messages;
}

describe('npm start with no credentials at all', () => {
  let child: ChildProcess;
  let output = '';
  let baseUrl: string;

  beforeAll(async () => {
    child = spawn(process.execPath, [ENTRY], {
      // Only what a fresh checkout has: no token, no platform; the playground is on outside production.
      env: { PATH: process.env.PATH ?? '', REDIS_URL: inject('redisUrl'), PORT: '0', LOG_LEVEL: 'info', QUEUE_PREFIX: uniquePrefix('first-run') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const port = await eventually(() => /^Playground: http:\/\/localhost:(\d+)\/playground\/$/m.exec(output)?.[1], 'the playground line', 20_000);
    baseUrl = `http://127.0.0.1:${port}`;
  }, 30_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('prints where the playground and the status page are, as plain lines besides the JSON logs', async () => {
    expect(output.split('\n')).toContain(`hfbot is running: http://localhost:${new URL(baseUrl).port}/`);
    await eventually(() => output.split('\n').some((line) => line.startsWith('{') && line.includes('"msg":"ready"')), 'the JSON "ready" log');
  });

  it('serves a landing page at / saying what runs, with links that work', async () => {
    const response = await fetch(`${baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<dt>Roles</dt><dd>gateway, worker</dd>');
    expect(html).toContain('<dt>Platforms</dt><dd>playground</dd>');
    expect(html).toContain('hfbot/offline-demo-model: the offline demo model (no HF_TOKEN is set), not a real model');
    expect(html).toContain('<dt>Sentiment</dt><dd>the built-in word list (lexicon)</dd>');
    expect(html).toContain('README.md');
    const local = hrefs(html).filter((href) => href.startsWith('/'));
    expect(local).toEqual(['/playground/', '/healthz', '/readyz', '/metrics']);
    for (const href of local.filter((href) => href !== '/readyz')) expect((await fetch(`${baseUrl}${href}`)).status, href).toBe(200);
    // Ready once the worker has verified the playground (immediately) and the gateway subscribed.
    await eventually(async () => (await fetch(`${baseUrl}/readyz`)).status === 200, '/readyz');
  });

  it('names the demo model, not a real one, in its cold start, and says the lexicon scored sentiment', async () => {
    const realDefault = loadConfig({ PLAYGROUND_ENABLED: 'true' }, adapters).hf.chatModel;
    expect((await compose(baseUrl, { channel: 'dm', text: 'are you there?' })).status).toBe(201);
    // The demo model's first answer comes after a short cold start.
    await eventually(async () => (await messages(baseUrl, 'dm')).some((message) => message.author === 'bot' && message.text.includes('offline demo model')), 'the demo answer', 20_000);
    expect(output).toContain('Model hfbot/offline-demo-model is currently loading');
    expect(output).not.toContain(realDefault);

    expect((await compose(baseUrl, { channel: 'dm', text: '/sentiment' })).status).toBe(202);
    const report = await eventually(async () => (await messages(baseUrl, 'dm')).find((message) => message.ephemeral && message.text.includes('Latest scored by')), '/sentiment');
    expect(report.text).toContain('Latest scored by the built-in word list (lexicon), not a model.');
    expect(report.text).not.toContain('hf:');
  }, 30_000);
});

describe('the landing page with a token and the dashboard on', () => {
  let hf: HfFake;
  let service: RunningTestService;

  beforeAll(async () => {
    hf = await startHfFake();
    service = await startTestService({
      QUEUE_PREFIX: uniquePrefix('landing'),
      PLAYGROUND_ENABLED: 'true',
      HF_TOKEN: secrets.hfToken,
      HF_BASE_URL: hf.baseUrl,
      HF_INFERENCE_URL: hf.inferenceUrl,
      HF_CHAT_MODEL: 'org/<b>"model"</b>',
      ADMIN_PASSWORD: 'landing-admin-password',
    });
  });

  afterAll(async () => {
    await service?.stop();
    await hf?.close();
  });

  it('names the configured models, escaped, links the dashboard, and never shows a secret', async () => {
    const html = await (await fetch(`${service.baseUrl}/`)).text();
    expect(html).toContain('<dt>Chat model</dt><dd>org/&lt;b&gt;&quot;model&quot;&lt;/b&gt; on Hugging Face</dd>');
    expect(html).not.toContain('<b>');
    expect(html).toContain(`<dt>Sentiment</dt><dd>${service.config.hf.sentimentModel} on Hugging Face</dd>`);
    expect(html).not.toContain('offline demo');
    expect(hrefs(html)).toContain('/admin/queues');
    expect(hrefs(html)).toContain('/insights/');
    // Where each platform is set up, on or not.
    expect(hrefs(html)).toEqual(expect.arrayContaining(['https://api.slack.com/apps', 'https://discord.com/developers/applications']));
    for (const secret of [secrets.hfToken, 'landing-admin-password']) expect(html).not.toContain(secret);
  });
});
