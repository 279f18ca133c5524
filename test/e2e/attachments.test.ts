import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDiscordFake, type DiscordFake } from '../../fakes/discord/server.ts';
import { startHfFake, type HfFake } from '../../fakes/hf/server.ts';
import { startSlackFake, type SlackFake } from '../../fakes/slack/server.ts';
import { slackUser } from '../support/slack-user.ts';
import { hfEnv, secrets, settled, slackEnv, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
const FILES: Record<string, { type: string; body: Buffer }> = {
  'deploy.log': { type: 'text/plain', body: Buffer.from('ERROR: OOMKilled (exit code 137) at step 3') },
  'chart.png': { type: 'image/png', body: PNG },
  'report.pdf': { type: 'application/pdf', body: Buffer.from('%PDF-1.7') },
};

let files: Server;
let filesUrl: string;
const fileRequests: Array<{ path: string; authorization: string | undefined }> = [];
let hf: HfFake;
let slack: SlackFake;
let discord: DiscordFake;
let bot: RunningTestService;

/** Serves the test files; like Slack's url_private, only to the bot token (Discord's CDN to anyone). */
function startFileServer(): Promise<void> {
  files = createServer((req, res) => {
    const [, scope, name = ''] = (req.url ?? '').split('/');
    fileRequests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const file = FILES[name];
    if (!file || (scope === 'slack' && req.headers.authorization !== `Bearer ${secrets.slackBotToken}`)) {
      res.writeHead(scope === 'slack' ? 403 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
  });
  return new Promise((resolve) =>
    files.listen(0, '127.0.0.1', () => {
      filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}`;
      resolve();
    }),
  );
}

const slackFile = (name: string) => ({ name, mimetype: FILES[name]!.type, size: FILES[name]!.body.length, url_private_download: `${filesUrl}/slack/${name}` });

const filer = slackUser({ baseUrl: () => bot.baseUrl, channel: 'C0FILES', eventPrefix: 'EvFile', firstTsSec: 1_700_006_000 });

/** A mention with files attached, as Slack sends a `file_share` message that mentions the bot. */
const mentionWithFiles = (text: string, names: string[], channel = 'C0FILES') =>
  filer.mention(text, { channel, user: 'U0FILER', extra: { subtype: 'file_share', files: names.map(slackFile) } });

beforeAll(async () => {
  await startFileServer();
  hf = await startHfFake();
  slack = await startSlackFake({ botToken: secrets.slackBotToken });
  discord = await startDiscordFake();
  bot = await startTestService({
    QUEUE_PREFIX: uniquePrefix('attachments'),
    ...hfEnv(hf),
    ...slackEnv(slack),
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.api,
    ADMIN_USER_IDS: 'slack:U0ADMIN',
    USER_RATE_LIMIT: '0',
    SENTIMENT_ENABLED: 'false',
  });
  await discord.ready();
});

afterAll(async () => {
  await bot?.stop();
  await Promise.all([slack?.close(), discord?.close(), hf?.close()]);
  files?.close();
});

beforeEach(() => hf.reset());

describe('attachments', () => {
  it('inlines a text file, and names what a text-only model could not read', async () => {
    const { jobId: job, ts } = await mentionWithFiles('why did the deploy fail?', ['deploy.log', 'chart.png', 'report.pdf']);
    expect(await settled(bot.queue, job)).toBe('completed');
    const user = hf.chatRequests[0]!.messages.at(-1)!;
    expect(user.content).toEqual(expect.stringContaining('why did the deploy fail?'));
    expect(user.content).toEqual(expect.stringContaining('deploy.log:\n```log\nERROR: OOMKilled (exit code 137) at step 3\n```'));
    // Downloaded with the bot token; the image was not even fetched for a text-only model.
    expect(fileRequests.filter((request) => request.path === '/slack/deploy.log').map((request) => request.authorization)).toEqual([`Bearer ${secrets.slackBotToken}`]);
    expect(fileRequests.some((request) => request.path.endsWith('chart.png'))).toBe(false);
    const answer = slack.botReplies('C0FILES', ts)[0]!.text.replaceAll('\u200B', '');
    expect(answer).toContain('The image was ignored: `meta-llama/Llama-3.1-8B-Instruct` reads text only.');
    expect(answer).toContain('Not read (only text files and images are): report.pdf (application/pdf).');
  });

  it('sends images to a vision model as image_url parts', async () => {
    await filer.command('/model', 'Qwen/Qwen2.5-VL-7B-Instruct', { user: 'U0ADMIN', channel: 'C0VISION', teamId: 'T0FAKE', responseUrl: slack.responseUrl('m') });
    const { jobId: job } = await mentionWithFiles('what does this chart show?', ['chart.png'], 'C0VISION');
    expect(await settled(bot.queue, job)).toBe('completed');
    const request = hf.chatRequests[0]!;
    expect(request.model).toBe('Qwen/Qwen2.5-VL-7B-Instruct');
    expect(request.messages.at(-1)!.content).toEqual([
      { type: 'text', text: 'what does this chart show?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
    ]);
  });

  it('reads a Discord attachment from the CDN URL', async () => {
    const message = discord.messageCreate({
      channelId: '300000000000000001',
      authorId: '400000000000000321',
      content: `<@${discord.botUser.id}> what went wrong?`,
      mentionsBot: true,
      extra: { attachments: [{ id: '900000000000000001', filename: 'deploy.log', size: FILES['deploy.log']!.body.length, url: `${filesUrl}/cdn/deploy.log`, proxy_url: `${filesUrl}/cdn/deploy.log`, content_type: 'text/plain' }] },
    });
    expect(await settled(bot.queue, `discord-msg-${message.id}`)).toBe('completed');
    expect(hf.chatRequests[0]!.messages.at(-1)!.content).toEqual(expect.stringContaining('ERROR: OOMKilled (exit code 137) at step 3'));
  });
});
