import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { eventually, secrets, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

/** Debian's Chromium (apt-get install chromium); `.ci/run` installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url);
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const message = `Browser tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`;
  // CI installs it, so there a missing browser is a failure; on a laptop the suite says so and goes on.
  if (process.env.CI) throw new Error(message);
  process.stderr.write(`${message} Skipping the playground browser tests.\n`);
}

let browser: Browser;
let hf: HfFake;
let live: RunningTestService;
let demo: RunningTestService;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`playground-${name}.png`, ARTIFACTS).pathname });
}

async function openPlayground(service: RunningTestService): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${service.baseUrl}/playground/`);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

/** Types into the focused composer and sends with Enter: keyboard only. */
async function say(page: Page, selector: string, text: string): Promise<void> {
  await page.focus(selector);
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

describe.skipIf(!haveChromium)('playground in a real browser', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    hf = await startHfFake();
    const common = { PLAYGROUND_ENABLED: 'true', USER_RATE_LIMIT: '0' };
    live = await startTestService({ ...common, QUEUE_PREFIX: uniquePrefix('playground'), HF_TOKEN: secrets.hfToken, HF_BASE_URL: hf.baseUrl, HF_INFERENCE_URL: hf.inferenceUrl });
    demo = await startTestService({ ...common, QUEUE_PREFIX: uniquePrefix('playground-demo') });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await live?.stop();
    await demo?.stop();
    await hf?.close();
  });

  it('streams an answer to a mention into its thread, growing across screenshots', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'A transformer is a neural network that reads a whole sequence at once, weighing every word against every other with attention. '.repeat(2), firstTokenDelayMs: 100, tokenDelayMs: 60 });
    const page = await openPlayground(live);
    expect(await page.locator('#messages').getAttribute('aria-live')).toBe('polite');
    await shot(page, '1-open');
    await say(page, '#composer-text', '@bot what is a transformer?');
    // Keyboard only: Tab from the composer reaches the thread link of the message just sent.
    const threadLink = page.locator('#messages li').last().locator('.thread-link');
    await eventually(async () => (await threadLink.innerText()).includes('1 reply'), 'the reply to appear');
    await threadLink.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#thread:not([hidden])');

    const lengths: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const answer = await text(page, '#thread-messages li.bot .body');
      lengths.push(answer.length);
      await shot(page, `2-streaming-${i}`);
      await page.waitForTimeout(700);
    }
    await eventually(async () => (await text(page, '#thread-messages li.bot .body')).endsWith('attention.'), 'the full answer', 20_000);
    await shot(page, '3-answered');
    expect(new Set(lengths).size).toBeGreaterThanOrEqual(3);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(await text(page, '#thread-messages li.user')).toContain('what is a transformer?');
    await page.close();
  }, 40_000);

  it('runs /ask typed in the composer', async () => {
    const page = await openPlayground(live);
    await say(page, '#composer-text', '/ask why is the sky blue?');
    const answer = page.locator('#messages li.bot').last();
    await eventually(async () => (await answer.innerText()).includes('Echo: why is the sky blue?'), 'the /ask answer');
    expect(await answer.innerText()).toContain('you asked: why is the sky blue?');
    await shot(page, '4-ask');
    await page.close();
  });

  it('shows the warming-up notice during a cold start, then the answer in the same message', async () => {
    hf.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 2 });
    const page = await openPlayground(live);
    await page.click('nav button[data-channel="dm"]');
    await say(page, '#composer-text', 'are you awake?');
    const reply = page.locator('#messages li.bot').last();
    await eventually(async () => (await reply.innerText()).includes('warming up'), 'the warming-up notice');
    await shot(page, '5-warming-up');
    const id = await reply.getAttribute('data-id');
    await eventually(async () => (await page.locator(`#messages li[data-id="${id}"]`).innerText()).includes('Echo: are you awake?'), 'the answer', 20_000);
    await page.close();
  }, 30_000);

  it('shows the thread’s sentiment tag, and the change when it turns negative', async () => {
    const page = await openPlayground(live);
    await say(page, '#composer-text', '@bot can you help me with the deploy?');
    const root = page.locator('#messages li.user').last();
    await eventually(async () => (await root.locator('.tag').count()) === 1, 'the first tag');
    expect(await root.locator('.tag').getAttribute('data-tag')).toBe('neutral');
    await root.locator('.thread-link').click();
    await page.waitForSelector('#thread:not([hidden])');
    for (const complaint of ['this is broken and terrible', 'I hate this, it is awful and useless']) {
      await say(page, '#thread-text', complaint);
      await page.waitForTimeout(300);
    }
    await eventually(async () => (await root.locator('.tag').getAttribute('data-tag')) === 'negative', 'the negative tag', 15_000);
    await shot(page, '6-sentiment');
    await say(page, '#thread-text', '/sentiment');
    await eventually(async () => (await text(page, '#thread-messages')).includes('negative in this thread'), '/sentiment in the thread');
    await page.close();
  }, 30_000);

  it('says plainly when there is no HF token, and labels the offline demo model’s answers', async () => {
    const page = await openPlayground(demo);
    expect(await text(page, '#model-status')).toContain('offline demo model');
    await say(page, '#composer-text', '@bot hello');
    const link = page.locator('#messages li.user').last().locator('.thread-link');
    await eventually(async () => (await link.innerText()).includes('1 reply'), 'the demo reply');
    await link.click();
    const answer = page.locator('#thread-messages li.bot').last();
    await eventually(async () => (await answer.innerText()).trim().endsWith('instead.'), 'the whole demo answer', 20_000);
    expect(await answer.locator('.badge.demo').innerText()).toBe('demo model');
    expect(await answer.locator('.author').innerText()).toContain('offline demo model');
    await shot(page, '7-demo');
    await page.close();
  }, 40_000);
});
