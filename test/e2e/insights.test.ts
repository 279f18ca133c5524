import { copyFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayOf } from '../../src/insights/days.ts';
import { InsightsStore } from '../../src/insights/store.ts';
import { keyspace } from '../../src/queue/redis.ts';
import { channelScope, SentimentStore } from '../../src/sentiment/store.ts';
import { ARTIFACTS, haveChromium, launchChromium } from '../support/browser.ts';
import { eventually, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const DOCS_SCREENSHOT = new URL('../../docs/insights.png', import.meta.url);
const PASSWORD = 'insights-admin-password-do-not-log';
const DAY = 24 * 3600 * 1000;
const browserTests = haveChromium('insights');

let browser: Browser;
let service: RunningTestService;

const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

async function shot(page: Page, name: string): Promise<string> {
  const path = new URL(`insights-${name}.png`, ARTIFACTS).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}

async function say(page: Page, selector: string, text: string): Promise<void> {
  await page.focus(selector);
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

/**
 * Earlier days, written the way the sentiment worker writes them, with the clock moved back: the
 * charts then show a month, as they would in a running deployment. Today is left to the browser.
 */
async function scriptHistory(run: RunningTestService): Promise<void> {
  const keys = keyspace(run.config.redis.prefix);
  const clock = { now: 0 };
  const insights = new InsightsStore(run.redis, keys, { retentionDays: 90, threadTtlSeconds: 3600, now: () => clock.now });
  const sentiment = new SentimentStore(run.redis, keys, 3600);
  const channels = [
    { platform: 'playground', workspaceId: 'local', channelId: 'general', volume: 9 },
    { platform: 'playground', workspaceId: 'local', channelId: 'dm', volume: 4 },
    // Another platform's channel, for the platform filter to leave out.
    { platform: 'slack', workspaceId: 'T0001', channelId: 'C0SUPPORT', volume: 3 },
  ];
  const folds: Array<Promise<unknown>> = [];
  for (let back = 29; back >= 1; back -= 1) {
    clock.now = Date.now() - back * DAY;
    for (const channel of channels) {
      for (let i = 0; i < channel.volume - (back % 3); i += 1) {
        // A mood that sours over the second week and recovers: a shape worth a chart.
        const score = Math.sin((back + i) / 3) * 0.6 - (back > 7 && back < 14 ? 0.35 : 0);
        const scope = channelScope(channel.platform, channel.workspaceId, channel.channelId);
        folds.push(sentiment.fold(scope, `history-${back}-${i}`, { score, classifier: 'lexicon' }, insights.channelFold(channel.platform, channel.workspaceId, channel.channelId)));
      }
    }
  }
  await Promise.all(folds);
}

describe.skipIf(!browserTests)('insights page in a real browser', () => {
  beforeAll(async () => {
    service = await startTestService({ PLAYGROUND_ENABLED: 'true', USER_RATE_LIMIT: '0', ADMIN_PASSWORD: PASSWORD, QUEUE_PREFIX: uniquePrefix('insights') });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('asks for the dashboard password, and is off without one', async () => {
    for (const path of ['/insights/', '/insights/api/negative', '/insights/api/channels', '/insights/vendor/uplot/uPlot.iife.min.js']) {
      expect((await fetch(`${service.baseUrl}${path}`)).status, path).toBe(401);
      const wrong = await fetch(`${service.baseUrl}${path}`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
      expect(wrong.status, path).toBe(401);
      expect((await fetch(`${service.baseUrl}${path}`, { headers: { authorization: auth } })).status, path).toBe(200);
    }
    const bare = await fetch(`${service.baseUrl}/insights`, { headers: { authorization: auth }, redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/insights/']);
    const bad = await fetch(`${service.baseUrl}/insights/api/channels?days=9999&platform=myspace`, { headers: { authorization: auth } });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as { error: string }).toMatchObject({ error: expect.stringMatching(/days.*platform/s) });

    const open = await startTestService({ PLAYGROUND_ENABLED: 'true', QUEUE_PREFIX: uniquePrefix('insights-off') });
    try {
      expect((await fetch(`${open.baseUrl}/insights/`)).status).toBe(404);
      expect((await fetch(`${open.baseUrl}/insights/api/negative`)).status).toBe(404);
    } finally {
      await open.stop();
    }
  });

  it('lists a thread the playground drove negative, with a working link, and charts today', async () => {
    await scriptHistory(service);
    const playground = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await playground.goto(`${service.baseUrl}/playground/`);
    await playground.waitForSelector('body[data-ready="true"]');
    await say(playground, '#composer-text', '@bot the deploy failed again, can you help?');
    const root = playground.locator('#messages li.user').last();
    const rootId = await root.getAttribute('data-id');
    await eventually(async () => (await root.locator('.tag').count()) === 1, 'the first tag');
    await root.locator('.thread-link').click();
    await playground.waitForSelector('#thread:not([hidden])');
    for (const complaint of ['this is broken and terrible', 'I hate this, it is awful and useless']) {
      await say(playground, '#thread-text', complaint);
      await playground.waitForTimeout(300);
    }
    await eventually(async () => (await root.locator('.tag').getAttribute('data-tag')) === 'negative', 'the negative tag', 15_000);
    await playground.close();

    // The JSON API, for people's own dashboards.
    const api = async <T>(path: string) => (await (await fetch(`${service.baseUrl}/insights/api/${path}`, { headers: { authorization: auth } })).json()) as T;
    const negative = await eventually(async () => {
      const body = await api<{ total: number; threads: Array<{ rootId: string; link?: string; messages: number; score: number }> }>('negative');
      return body.threads[0]?.link ? body : undefined;
    }, 'the negative thread with its link');
    expect(negative.total).toBe(1);
    expect(negative.threads[0]).toMatchObject({ rootId, link: `/playground/?thread=${rootId}` });
    expect(negative.threads[0]?.score).toBeLessThan(-0.25);
    const channels = await api<{ channels: Array<{ channelId: string; daily: Array<{ day: string; negative: number }> }> }>('channels?platform=playground');
    const general = channels.channels.find((channel) => channel.channelId === 'general');
    expect(general?.daily.at(-1)?.day).toBe(dayOf(Date.now()));
    expect(general?.daily.at(-1)?.negative).toBeGreaterThanOrEqual(2);
    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^hfbot_insights_negative_threads 1$/m);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, httpCredentials: { username: 'admin', password: PASSWORD } });
    const page = await context.newPage();
    await page.goto(`${service.baseUrl}/insights/`);
    await page.waitForSelector('body[data-ready="true"]');
    const row = page.locator('#negative tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').nth(0).innerText()).toBe('Playground');
    expect(await row.locator('td').nth(1).innerText()).toBe('general');
    expect(Number(await row.locator('td').nth(4).innerText())).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#now-count').innerText()).toBe('1');

    // Busiest channel first, drawn by uPlot, with today's numbers in its table.
    const charts = page.locator('#channels article');
    expect(await charts.first().getAttribute('data-channel')).toBe('playground:local:general');
    expect(await charts.first().locator('.uplot canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#answers-empty').innerText()).toBe('No feedback recorded yet.');
    const docs = await shot(page, '1-page');
    if (process.env.UPDATE_DOCS_SCREENSHOTS) copyFileSync(docs, DOCS_SCREENSHOT);

    // Keyboard only: the table view of the first chart, then the thread link.
    const toggle = charts.first().locator('button[aria-controls]');
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const today = charts.first().locator('tbody tr').last();
    expect(await today.locator('th').innerText()).toBe(dayOf(Date.now()));
    expect(await today.locator('td').nth(2).innerText()).toMatch(/^\d+% \([2-9]\d*\)$/);
    await shot(page, '2-table');

    // The platform filter.
    const shown = () => page.locator('#channels article').evaluateAll((articles) => articles.map((article) => article.getAttribute('data-channel')));
    expect(await shown()).toEqual(['playground:local:general', 'playground:local:dm', 'slack:T0001:C0SUPPORT']);
    await page.selectOption('#platform', 'playground');
    await eventually(async () => (await shown()).length === 2, 'the filtered page');
    expect(await shown()).toEqual(['playground:local:general', 'playground:local:dm']);

    // Feedback, once recorded, shows per day and per model.
    const recorder = new InsightsStore(service.redis, keyspace(service.config.redis.prefix), { retentionDays: 90, threadTtlSeconds: 3600 });
    await Promise.all([recorder.recordFeedback('demo-model', 'up'), recorder.recordFeedback('demo-model', 'down'), recorder.recordStopped('demo-model')]);
    // The sections load side by side; the channels answering last must not take the answers chart with them.
    await page.route('**/insights/api/channels*', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await route.continue();
    });
    await page.click('#refresh');
    await eventually(async () => (await page.locator('#answers-per-model').count()) === 1, 'the answers per model');
    await eventually(async () => (await page.locator('#status').innerText()).startsWith('Updated'), 'the whole refresh');
    await page.unroute('**/insights/api/channels*');
    expect(await page.locator('#answers-empty').isHidden()).toBe(true);
    expect(await page.locator('#answers-per-model tbody tr').innerText()).toMatch(/^demo-model\s+1\s+1\s+1$/);
    expect(await page.locator('#answers-content .uplot canvas').count()).toBeGreaterThan(0);
    await shot(page, '3-answers');

    const link = row.locator('a');
    expect(await link.getAttribute('href')).toBe(`/playground/?thread=${rootId}`);
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${service.baseUrl}/playground/?thread=${rootId}`);
    await page.waitForSelector('#thread:not([hidden])');
    await eventually(async () => (await page.locator('#thread-messages').innerText()).includes('I hate this, it is awful and useless'), 'the linked thread');
    await shot(page, '4-thread-link');
    await context.close();
  }, 60_000);
});
