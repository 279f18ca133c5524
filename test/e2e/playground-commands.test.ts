import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { secrets, startTestService, uniquePrefix, type RunningTestService } from '../support/service.ts';

/** The playground's commands through its HTTP API, as the page's composer sends them (no browser). */
let service: RunningTestService;

const listed = z.object({ messages: z.array(z.object({ text: z.string(), author: z.string(), ephemeral: z.boolean().optional() })) });

async function run(channel: 'general' | 'dm', text: string): Promise<string> {
  const before = await notices(channel);
  const res = await fetch(`${service.baseUrl}/playground/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, text }),
  });
  expect(res.status).toBe(202);
  const after = await notices(channel);
  expect(after).toHaveLength(before.length + 1);
  return after.at(-1) ?? '';
}

async function notices(channel: string): Promise<string[]> {
  const res = await fetch(`${service.baseUrl}/playground/api/messages?channel=${channel}`);
  return listed.parse(await res.json()).messages.filter((message) => message.ephemeral).map((message) => message.text);
}

beforeAll(async () => {
  // Worker-less: commands are answered by the gateway alone.
  service = await startTestService({ PLAYGROUND_ENABLED: 'true', QUEUE_PREFIX: uniquePrefix('playground-commands'), HF_TOKEN: secrets.hfToken, HF_CHAT_MODEL: 'org/default' }, ['gateway']);
});

afterAll(async () => {
  await service?.stop();
});

describe('playground commands', () => {
  it('/model and /prompt show and change #general’s settings', async () => {
    expect(await run('general', '/model')).toMatch(/Model: `org\/default` \(the default\)/);
    expect(await run('general', '/model Qwen/Qwen2.5-72B-Instruct')).toMatch(/^This channel now uses `Qwen\/Qwen2\.5-72B-Instruct`/);
    expect(await run('general', '/prompt Answer like a pirate.')).toMatch(/^System prompt updated\.[\s\S]*> Answer like a pirate\./);
    // The DM is another channel: still on the defaults.
    expect(await run('dm', '/model')).toMatch(/Model: `org\/default` \(the default\)/);
  });

  it('/reset says what it did where it was typed', async () => {
    const inChannel = await run('general', '/reset');
    expect(inChannel).not.toMatch(/forgotten our DM conversation/);
    expect(inChannel).toMatch(/own conversation/);
    expect(await run('dm', '/reset')).toMatch(/forgotten our conversation/);
  });

  it('names the commands there are when one is not', async () => {
    expect(await run('general', '/frobnicate now')).toBe('There is no /frobnicate here. Try /ask, /reset, /sentiment, /model or /prompt.');
  });
});
