import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { slackUser } from '../support/slack-user.ts';
import { eventually, hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

const ADMIN_PASSWORD = 'admin-password-do-not-log';

let hf: HfFake;
let slack: SlackFake;
let bot: RunningTestService;

/** One metric's value from Prometheus text, e.g. sample(text, 'hfbot_jobs_total{queue="chat",outcome="answered"}'). */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((row) => row.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : undefined;
}

const person = slackUser({ baseUrl: () => bot.baseUrl, channel: 'C0OPS', eventPrefix: 'EvOps', firstTsSec: 1_700_002_000 });

/** Mentions the bot; returns the job id and the thread the answer goes to. */
const mention = (text: string) => person.mention(text, { user: 'U0OPS' });

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken });
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('ops'),
    ...hfEnv(hf),
    ...slackEnv(slack),
    ADMIN_PASSWORD,
    SHUTDOWN_GRACE_MS: '300',
  });
});

afterAll(async () => {
  await bot?.stop().catch(() => undefined);
  await Promise.all([slack?.close(), hf?.close()]);
});

describe('operations endpoints', () => {
  it('reports liveness and readiness with each check', async () => {
    expect((await fetch(`${bot.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${bot.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    // A `warnings` field may say the shared test Redis does not persist (see redis-persistence.test.ts).
    const report = (await ready.json()) as { ready: boolean; checks: Record<string, boolean> };
    expect(report.ready).toBe(true);
    expect(report.checks).toEqual({ accepting: true, redis: true, 'slack-credentials': true, 'slack-gateway': true });
  });

  it('exposes metrics that move when messages are answered, without user or channel ids', async () => {
    hf.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 1 });
    const jobs = [];
    for (let i = 0; i < 3; i += 1) jobs.push((await mention(`question ${i}`)).jobId);
    for (const job of jobs) expect(await settled(bot.queue, job, 20_000)).toBe('completed');
    const text = await (await fetch(`${bot.baseUrl}/metrics`)).text();
    expect(sample(text, 'hfbot_jobs_total{queue="chat",outcome="answered"}')).toBe(3);
    expect(sample(text, 'hfbot_jobs_total{queue="chat",outcome="delayed_loading"}')).toBe(1);
    expect(sample(text, 'hfbot_model_waits_total{reason="loading"}')).toBe(1);
    expect(sample(text, 'hfbot_model_wait_seconds_total{reason="loading"}')).toBeGreaterThanOrEqual(1.6);
    expect(sample(text, 'hfbot_hf_errors_total{status="503",kind="loading"}')).toBe(1);
    expect(sample(text, 'hfbot_event_to_first_text_seconds_count{platform="slack"}')).toBe(3);
    expect(sample(text, 'hfbot_event_to_final_text_seconds_count{platform="slack"}')).toBe(3);
    expect(sample(text, 'hfbot_model_time_to_first_token_seconds_count')).toBe(3);
    expect(sample(text, 'hfbot_edits_per_reply_count{platform="slack"}')).toBe(3);
    expect(sample(text, 'hfbot_platform_api_calls_per_reply_sum{platform="slack"}')).toBeGreaterThanOrEqual(6);
    expect(sample(text, 'hfbot_queue_chat_jobs{state="waiting"}')).toBe(0);
    await eventually(async () => sample(await (await fetch(`${bot.baseUrl}/metrics`)).text(), 'hfbot_sentiment_classifications_total{classifier="hf"}') === 3, 'classifications');
    expect(text).not.toMatch(/U0OPS|C0OPS|slack-ev-/);
  }, 30_000);

  it('serves the queue dashboard only with the admin password', async () => {
    expect((await fetch(`${bot.baseUrl}/admin/queues`)).status).toBe(401);
    const wrong = Buffer.from('admin:nope').toString('base64');
    expect((await fetch(`${bot.baseUrl}/admin/queues`, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(401);
    const right = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
    const page = await fetch(`${bot.baseUrl}/admin/queues`, { headers: { authorization: `Basic ${right}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const api = await fetch(`${bot.baseUrl}/admin/queues/api/queues`, { headers: { authorization: `Basic ${right}` } });
    expect(JSON.stringify(await api.json())).toContain('"name":"chat"');
  });

  it('turns unready while stopping, and hands an unfinished answer back to the queue', async () => {
    hf.enqueueChat({ kind: 'stream', text: 'a slow answer '.repeat(20), tokenDelayMs: 100 });
    const { jobId: job, thread } = await mention('something slow');
    await eventually(() => slack.botReplies('C0OPS', thread)[0]?.text.startsWith('a slow'), 'streaming');
    const stopping = bot.service.stop();
    await eventually(async () => (await fetch(`${bot.baseUrl}/readyz`).catch(() => undefined))?.status === 503, 'readiness to turn false');
    await stopping;
    // Not finished, not failed: back in the queue for another worker, with its message kept.
    expect(await bot.queue.getJobState(job)).toBe('waiting');
    const saved = await bot.queue.getJob(job);
    expect(saved?.data.progress.messageIds).toHaveLength(1);
    expect(saved?.attemptsMade).toBe(0);
  });
});
