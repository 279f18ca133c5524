import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { slackUser } from '../support/slack-user.ts';
import { eventually, hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';
import { spawnWorker } from '../support/worker-process.ts';

const CHANNEL = 'C0SCALE';

let hf: HfFake;
let slack: SlackFake;
let gateway: RunningTestService;
let env: Record<string, string>;
const workers: Array<ReturnType<typeof spawnWorker>> = [];

const person = slackUser({ baseUrl: () => gateway.baseUrl, channel: CHANNEL, eventPrefix: 'EvProc' });

async function mention(text: string, ts: string) {
  const { response, jobId } = await person.mention(text, { ts, user: `U${ts.slice(-6, -3)}` });
  expect(response.status).toBe(200);
  return jobId;
}

const exited = (child: ReturnType<typeof spawnWorker>) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

beforeAll(async () => {
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken });
  env = {
    QUEUE_PREFIX: uniquePrefix('processes'),
    ...hfEnv(hf),
    ...slackEnv(slack),
    // The placeholder-and-edits path; test/e2e/slack-agent.test.ts resumes a native stream.
    SLACK_STREAMING: 'update',
    USER_RATE_LIMIT: '0',
    SHUTDOWN_GRACE_MS: '500',
  };
  gateway = await startTestService(env, ['gateway']);
});

afterAll(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await gateway?.stop();
  await Promise.all([slack?.close(), hf?.close()]);
});

describe('gateway and workers as separate processes', () => {
  it('one gateway and two worker processes answer every message exactly once', async () => {
    workers.push(spawnWorker(env), spawnWorker(env));
    await eventually(() => workers.every((worker) => worker.output().includes('"msg":"ready"')), 'both workers to start', 20_000);
    // Answers that take a moment, so both workers are busy at once.
    hf.setDefaultChat((request) => ({ kind: 'stream', text: `Echo: ${String(request.messages.at(-1)?.content)}`, tokenDelayMs: 50 }));
    const jobs: Array<{ job: string; ts: string; text: string }> = [];
    for (let i = 0; i < 20; i += 1) {
      const ts = `1700003000.${String(i).padStart(3, '0')}100`;
      jobs.push({ job: await mention(`question number ${i}`, ts), ts, text: `question number ${i}` });
    }
    for (const { job } of jobs) expect(await settled(gateway.queue, job, 20_000)).toBe('completed');
    for (const { ts, text } of jobs) expect(slack.botReplies(CHANNEL, ts).map((reply) => reply.text)).toEqual([`Echo: ${text}`]);
    // Both workers took a share.
    const answeredBy = workers.map((worker) => (worker.output().match(/"msg":"answered"/g) ?? []).length);
    expect(answeredBy.every((count) => count > 0)).toBe(true);
    expect(answeredBy.reduce((a, b) => a + b, 0)).toBe(20);
    hf.reset();
  }, 40_000);

  it('a worker sent SIGTERM mid-answer hands it back, exits cleanly, and another completes it in the same message', async () => {
    const [first, second] = workers;
    second!.kill('SIGTERM');
    expect(await exited(second!)).toBe(0);
    hf.enqueueChat({ kind: 'stream', text: 'an answer that outlives its worker '.repeat(5), tokenDelayMs: 100 });
    const ts = '1700003001.000100';
    const job = await mention('take your time', ts);
    await eventually(() => slack.botReplies(CHANNEL, ts)[0]?.text.startsWith('an answer'), 'the answer to start streaming', 15_000);

    const stoppedAt = Date.now();
    first!.kill('SIGTERM');
    expect(await exited(first!)).toBe(0);
    // Bounded: the grace period (0.5 s) plus closing connections.
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(first!.output()).toContain('handing the answer back to the queue');

    workers.push(spawnWorker(env));
    expect(await settled(gateway.queue, job, 20_000)).toBe('completed');
    expect(slack.botReplies(CHANNEL, ts).map((reply) => reply.text)).toEqual(['Echo: take your time']);
    expect(slack.callsTo('chat.postMessage').filter((call) => call.args.thread_ts === ts)).toHaveLength(1);
    expect((await gateway.queue.getJob(job))?.attemptsMade).toBe(1);
  }, 40_000);
});
