import { copyFileSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { ARTIFACTS, haveChromium, launchChromium } from '../support/browser.ts';
import { eventually, secrets, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

/** The README's picture: `UPDATE_SCREENSHOTS=1 npx vitest run test/e2e/playground.test.ts` refreshes it. */
const README_SCREENSHOT = new URL('../../docs/playground.png', import.meta.url);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const browserTests = haveChromium('playground');

let browser: Browser;
let hf: HfFake;
let live: RunningTestService;
let demo: RunningTestService;

async function shot(page: Page, name: string): Promise<string> {
  const path = new URL(`playground-${name}.png`, ARTIFACTS).pathname;
  await page.screenshot({ path });
  return path;
}

async function openPlayground(service: RunningTestService, viewport = DESKTOP): Promise<Page> {
  const page = await browser.newPage({ viewport });
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

/** A message the person sent to the channel, found by its text (unique within this file). */
const sent = (page: Page, body: string): Locator => page.locator('#messages li.user', { hasText: body });


type Box = { x: number; y: number; width: number; height: number };
const overlapArea = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

/** Whether a locator's whole box lies inside the window. */
async function inView(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const { width, height } = page.viewportSize() ?? DESKTOP;
  return box !== null && box.x >= 0 && box.y >= 0 && box.x + box.width <= width + 0.5 && box.y + box.height <= height + 0.5;
}

/**
 * The page's layout as a person sees it: which panes show, that none covers another, that each
 * visible composer (box and button) is inside the window, and that nothing scrolls sideways.
 */
async function expectLayout(page: Page, panes: { main: boolean; thread: boolean }): Promise<void> {
  const visible: Array<[string, Box]> = [];
  for (const selector of ['nav', 'main', '#thread']) {
    const box = (await page.locator(selector).isVisible()) ? await page.locator(selector).boundingBox() : null;
    if (box) visible.push([selector, box]);
  }
  expect(visible.map(([selector]) => selector)).toEqual(['nav', ...(panes.main ? ['main'] : []), ...(panes.thread ? ['#thread'] : [])]);
  for (const [i, [first, a]] of visible.entries()) {
    for (const [second, b] of visible.slice(i + 1)) expect(overlapArea(a, b), `${first} overlaps ${second}`).toBeLessThan(1);
  }
  expect(await page.evaluate("getComputedStyle(document.getElementById('thread')).display")).toBe(panes.thread ? 'flex' : 'none');
  for (const [shown, form] of [[panes.main, '#composer'], [panes.thread, '#thread-composer']] as const) {
    if (!shown) continue;
    expect(await inView(page, page.locator(`${form} textarea`)), `${form} box in view`).toBe(true);
    expect(await inView(page, page.locator(`${form} button[type="submit"]`)), `${form} button in view`).toBe(true);
  }
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling').toBe(true);
}

/** Sends a whole text at once (no keystrokes: thousands of them would only be slow). */
async function paste(page: Page, selector: string, value: string): Promise<void> {
  await page.fill(selector, value);
  await page.focus(selector);
  await page.keyboard.press('Enter');
}

describe.skipIf(!browserTests)('playground in a real browser', () => {
  beforeAll(async () => {
    hf = await startHfFake();
    const common = { PLAYGROUND_ENABLED: 'true', USER_RATE_LIMIT: '0' };
    live = await startTestService({ ...common, QUEUE_PREFIX: uniquePrefix('playground'), HF_TOKEN: secrets.hfToken, HF_BASE_URL: hf.baseUrl, HF_INFERENCE_URL: hf.inferenceUrl });
    demo = await startTestService({ ...common, QUEUE_PREFIX: uniquePrefix('playground-demo') });
    browser = await launchChromium();
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
    const threadLink = sent(page, '@bot what is a transformer?').locator('.thread-link');
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

  it('keeps the keyboard on a thread link while the message it belongs to is re-rendered', async () => {
    const page = await openPlayground(demo);
    await say(page, '#composer-text', 'a note for a thread, no mention');
    const root = sent(page, 'a note for a thread, no mention');
    await root.locator('.thread-link').focus();
    const rootId = await root.getAttribute('data-id');
    // Someone else replies in the thread: the root's reply count changes and it is drawn again.
    const reply = await fetch(`${demo.baseUrl}/playground/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'general', threadId: rootId, text: 'a reply from elsewhere' }),
    });
    expect(reply.status).toBe(201);
    await eventually(async () => (await root.locator('.thread-link').innerText()).includes('1 reply'), 'the reply to be counted');
    const focused = "document.activeElement.closest('li')?.getAttribute('data-id') + ' ' + document.activeElement.className";
    expect(await page.evaluate(focused)).toBe(`${rootId} thread-link`);
    await page.close();
  });

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

  it('stops an answer mid-stream with its Stop button: the text stays with a mark, the model is cut off, the next message is answered', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'Once upon a time there was a queue that never lost a message. '.repeat(8), firstTokenDelayMs: 50, tokenDelayMs: 80 });
    const page = await openPlayground(live);
    await page.click('nav button[data-channel="dm"]');
    await say(page, '#composer-text', 'tell me a long story');
    const reply = page.locator('#messages li.bot').last();
    const stop = reply.locator('button.stop');
    await eventually(async () => (await reply.locator('.body').innerText()).includes('Once upon a time') && (await stop.count()) === 1, 'the answer to stream with a Stop button');
    await shot(page, '6-before-stop');
    await stop.focus();
    await page.keyboard.press('Enter');
    await eventually(async () => (await reply.locator('.body').innerText()).endsWith('⏹ Stopped.'), 'the stopped mark');
    expect(await stop.count()).toBe(0);
    const stoppedAt = await reply.locator('.body').innerText();
    await page.waitForTimeout(800);
    expect(await reply.locator('.body').innerText()).toBe(stoppedAt);
    expect(stoppedAt.length).toBeLessThan('Once upon a time there was a queue that never lost a message. '.repeat(8).length);
    await eventually(() => hf.activeStreams === 0, 'the model request to be closed');
    await shot(page, '7-stopped');

    await say(page, '#composer-text', 'and now a short one');
    await eventually(async () => (await page.locator('#messages li.bot').last().innerText()).includes('Echo: and now a short one'), 'the next answer');
    await page.close();
  }, 30_000);

  it('shows the thread’s sentiment tag, and the change when it turns negative', async () => {
    const page = await openPlayground(live);
    await say(page, '#composer-text', '@bot can you help me with the deploy?');
    // Pinned to this message: the channel's last message may still be an earlier thread's root, already tagged.
    const root = sent(page, '@bot can you help me with the deploy?');
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

  for (const viewport of [DESKTOP, PHONE]) {
    const size = `${viewport.width}px`;
    it(`at ${size}: panes never overlap, the composer stays in view, long words wrap, a closed thread stays closed`, async () => {
      const page = await openPlayground(live, viewport);
      await expectLayout(page, { main: true, thread: false });
      await shot(page, `layout-${size}-1-open`);

      // A long unbroken word wraps inside its message; a long code line scrolls inside its block.
      const word = `${size}-${'y'.repeat(5000)}`;
      await paste(page, '#composer-text', word);
      await eventually(async () => (await sent(page, word).count()) === 1, 'the long word');
      const code = `code-${size}: \`${'z'.repeat(300)}\`\n\`\`\`\n${'const x = 1; '.repeat(60)}\n\`\`\``;
      await paste(page, '#composer-text', code);
      const block = sent(page, `code-${size}`).locator('pre');
      await eventually(async () => (await block.count()) === 1, 'the code block');
      await expectLayout(page, { main: true, thread: false });
      const mainBox = await page.locator('main').boundingBox();
      for (const part of [sent(page, word).locator('.body'), block, sent(page, `code-${size}`).locator('p code')]) {
        const box = await part.boundingBox();
        expect(box && mainBox && box.x + box.width <= mainBox.x + mainBox.width + 0.5).toBe(true);
      }
      expect(await block.evaluate((element) => element.scrollWidth > element.clientWidth)).toBe(true);
      await shot(page, `layout-${size}-2-long-words`);

      // A thread opens beside the channel on a wide window, and instead of it on a phone.
      const question = `@bot which layout is this? ${size}`;
      await say(page, '#composer-text', question);
      const link = sent(page, question).locator('.thread-link');
      await eventually(async () => (await link.innerText()).includes('1 reply'), 'the answer');
      await link.click();
      await page.waitForSelector('#thread-messages li.bot');
      const wide = viewport.width > 900;
      await expectLayout(page, { main: wide, thread: true });
      await shot(page, `layout-${size}-3-thread`);

      await page.click('#close-thread');
      await expectLayout(page, { main: true, thread: false });
      await shot(page, `layout-${size}-4-closed`);

      // Closed after a reload, too.
      await link.click();
      await page.waitForSelector('#thread-messages li.bot');
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      await expectLayout(page, { main: true, thread: false });
      expect(await sent(page, question).locator('.thread-link').innerText()).toContain('1 reply');

      // The DM never shows #general's thread, and its hidden box cannot post into the DM.
      await sent(page, question).locator('.thread-link').click();
      await page.waitForSelector('#thread-messages li.bot');
      await page.click('nav button[data-channel="dm"]');
      await expectLayout(page, { main: true, thread: false });
      expect(await page.locator('#thread-messages li').count()).toBe(0);
      await page.evaluate("const box = document.getElementById('thread-text'); box.value = 'stray text from a closed thread'; box.form.requestSubmit();");
      await say(page, '#composer-text', `dm after the thread ${size}`);
      await eventually(async () => (await text(page, '#messages')).includes(`dm after the thread ${size}`), 'the DM message');
      expect(await text(page, '#messages')).not.toContain('stray text');
      await shot(page, `layout-${size}-5-dm`);
      await page.close();
    }, 30_000);
  }

  it('takes one input limit, MAX_INPUT_CHARS, answered politely; an error clears when the box is edited', async () => {
    const page = await openPlayground(live);
    const { maxInputChars } = live.config.limits;
    // Past the limit, well past it too: the bot says so, like on every platform, and nothing is red.
    for (const length of [maxInputChars + 1, 9_000]) {
      await paste(page, '#composer-text', `@bot ${'w'.repeat(length)}`);
      await eventually(async () => (await page.locator('#messages li.ephemeral', { hasText: `That message is ${length.toLocaleString('en')} characters` }).count()) === 1, `the notice for ${length}`);
      expect(await text(page, '#messages li.ephemeral >> nth=-1')).toContain(`I can take up to ${maxInputChars.toLocaleString('en')}`);
      expect(await text(page, '#composer-error')).toBe('');
    }
    // Only what no platform would carry is refused by the page's API; the text stays, the error goes with an edit.
    await paste(page, '#composer-text', 'v'.repeat(40_001));
    await eventually(async () => (await text(page, '#composer-error')).includes('at most 40,000 characters'), 'the error');
    expect((await page.inputValue('#composer-text')).length).toBe(40_001);
    await shot(page, '8-too-long');
    await page.fill('#composer-text', '');
    expect(await text(page, '#composer-error')).toBe('');
    await page.close();
  });

  it('counts replies as the platforms do: notices only you can see are not replies', async () => {
    const page = await openPlayground(live);
    const question = '@bot how many replies is this?';
    await say(page, '#composer-text', question);
    const link = sent(page, question).locator('.thread-link');
    await eventually(async () => (await link.innerText()).includes('1 reply'), 'the answer');
    await link.click();
    await page.waitForSelector('#thread-messages li.bot');
    for (const command of ['/sentiment', '/model']) {
      await say(page, '#thread-text', command);
      // Each command's answer shows in the thread, only to you.
      await eventually(async () => (await page.locator('#thread-messages li.ephemeral').count()) === (command === '/sentiment' ? 1 : 2), `${command}'s answer`);
    }
    expect(await text(page, '#thread-messages li.ephemeral >> nth=-1')).toMatch(/model/i);
    expect(await link.innerText()).toBe('1 reply: open thread');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await sent(page, question).locator('.thread-link').innerText()).toBe('1 reply: open thread');
    await page.close();
  });

  it('says plainly when there is no HF token, and labels the offline demo model’s answers', async () => {
    const page = await openPlayground(demo);
    expect(await text(page, '#model-status')).toContain('offline demo model');
    await say(page, '#composer-text', '@bot hello');
    const link = sent(page, '@bot hello').locator('.thread-link');
    await eventually(async () => (await link.innerText()).includes('1 reply'), 'the demo reply');
    await link.click();
    const answer = page.locator('#thread-messages li.bot').last();
    await eventually(async () => (await answer.innerText()).trim().endsWith('instead.'), 'the whole demo answer', 20_000);
    expect(await answer.locator('.badge.demo').innerText()).toBe('demo model');
    expect(await answer.locator('.author').innerText()).toContain('offline demo model');
    const picture = await shot(page, '7-demo');
    if (process.env.UPDATE_SCREENSHOTS) copyFileSync(picture, README_SCREENSHOT);
    await page.close();
  }, 40_000);
});
