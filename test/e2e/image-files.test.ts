import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, uniquePrefix } from '../support/service.ts';
import { spawnHfbot, type HfbotProcess } from '../support/worker-process.ts';

/**
 * The Docker image's file set, without Docker: the runtime stage's COPY lines of the Dockerfile,
 * copied into a temp dir, started with no HF_TOKEN so the playground answers with the offline demo
 * model (the HF fake, run in-process). A file the code needs that the Dockerfile does not copy
 * makes a process die with "Cannot find module" and this test fail.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** `[source, destination]` of each COPY in the runtime stage that copies from the build context. */
function runtimeCopies(dockerfile: string): Array<[string, string]> {
  const stages = dockerfile.split(/^FROM\s+/im);
  const runtime = stages.find((stage) => /^\S+\s+AS\s+runtime\b/i.test(stage));
  if (!runtime) throw new Error('Dockerfile: no `FROM … AS runtime` stage');
  const copies: Array<[string, string]> = [];
  for (const line of runtime.split('\n')) {
    const match = /^COPY\s+(.*)$/i.exec(line.trim());
    if (!match?.[1]) continue;
    const words = match[1].split(/\s+/);
    // Copies from another stage (node_modules from `deps`) are stood in for below.
    if (words.some((word) => word.startsWith('--from='))) continue;
    const paths = words.filter((word) => !word.startsWith('--'));
    const destination = paths.pop();
    if (!destination || paths.length === 0) throw new Error(`Dockerfile: cannot read "${line}"`);
    for (const source of paths) copies.push([source, paths.length > 1 || destination.endsWith('/') ? join(destination, source) : destination]);
  }
  return copies;
}

/**
 * Production dependencies as `npm ci --omit=dev --omit=optional` installs them: the top-level
 * packages of package-lock.json that are neither dev nor optional. Each is a symlink to the repo's
 * installed copy (its nested node_modules come with it), so a module only a devDependency brings
 * is missing here as it is in the image.
 */
function linkProductionModules(into: string): number {
  const lock = z
    .object({ packages: z.record(z.string(), z.object({ dev: z.boolean().optional(), optional: z.boolean().optional(), devOptional: z.boolean().optional() })) })
    .parse(JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')));
  let linked = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    const name = path.startsWith('node_modules/') ? path.slice('node_modules/'.length) : undefined;
    if (!name || name.includes('/node_modules/') || entry.dev || entry.optional || entry.devOptional) continue;
    mkdirSync(dirname(join(into, 'node_modules', name)), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', name), join(into, 'node_modules', name), 'dir');
    linked += 1;
  }
  return linked;
}

const playgroundMessages = z.object({
  messages: z.array(z.object({ id: z.string(), author: z.enum(['user', 'bot']), text: z.string(), demo: z.boolean().optional() })),
});

let imageDir: string;
const processes: HfbotProcess[] = [];

function start(roles: string[], prefix: string): HfbotProcess {
  // The image's environment: NODE_ENV=production, no HF_TOKEN, the playground on.
  const child = spawnHfbot(roles, { NODE_ENV: 'production', PLAYGROUND_ENABLED: 'true', QUEUE_PREFIX: prefix, USER_RATE_LIMIT: '0' }, join(imageDir, 'bin/hfbot.ts'));
  processes.push(child);
  return child;
}

/** The port from the process's `ready` log line, or a failure with what it printed when it died. */
async function readyPort(child: HfbotProcess): Promise<number> {
  return eventually(() => {
    if (child.exitCode !== null) throw new Error(`hfbot exited with ${child.exitCode}:\n${child.output()}`);
    const ready = child.output().split('\n').find((line) => line.includes('"msg":"ready"'));
    return ready ? z.object({ port: z.number() }).parse(JSON.parse(ready)).port : undefined;
  }, 'the ready log line', 30_000);
}

/** Sends a DM through the playground's JSON API (as its page does) and returns the demo model's final answer. */
async function askPlayground(port: number, text: string): Promise<string> {
  const api = `http://127.0.0.1:${port}/playground/api`;
  const posted = await fetch(`${api}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'dm', text }) });
  expect(posted.status).toBe(201);
  const answer = await eventually(async () => {
    const { messages } = playgroundMessages.parse(await (await fetch(`${api}/messages?channel=dm`)).json());
    // The demo answer's last line, once the stream has written it all.
    return messages.find((message) => message.author === 'bot' && message.demo === true && message.text.includes('restart to talk to a Hugging Face model instead'));
  }, 'the demo model to answer', 40_000);
  return answer.text;
}

function expectNoMissingModule(child: HfbotProcess): void {
  expect(child.output()).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
  expect(child.exitCode).toBeNull();
}

beforeAll(() => {
  imageDir = mkdtempSync(join(tmpdir(), 'hfbot-image-'));
  const copies = runtimeCopies(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
  expect(copies.length).toBeGreaterThan(0);
  for (const [source, destination] of copies) cpSync(join(REPO, source), join(imageDir, destination), { recursive: true });
  expect(linkProductionModules(imageDir)).toBeGreaterThan(0);
});

afterAll(async () => {
  await Promise.all(
    processes.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  if (imageDir) rmSync(imageDir, { recursive: true, force: true });
});

describe('the Docker image file set', () => {
  it('runs gateway and worker in one process (the default) and the playground answers with the demo model', async () => {
    const both = start([], uniquePrefix('image-both'));
    const answer = await askPlayground(await readyPort(both), 'hello from the image');
    expect(answer).toContain('offline demo model');
    expect(answer).toContain('hello from the image');
    expectNoMissingModule(both);
  }, 60_000);

  it('runs a worker-only process that answers what a gateway-only process takes in', async () => {
    const prefix = uniquePrefix('image-roles');
    const worker = start(['worker'], prefix);
    const gateway = start(['gateway'], prefix);
    await readyPort(worker);
    const answer = await askPlayground(await readyPort(gateway), 'who answers?');
    expect(answer).toContain('who answers?');
    // The worker process ran the demo model and wrote the answer (it logs so just after the last edit).
    await eventually(() => worker.output().includes('"msg":"answered"'), 'the worker to log its answer');
    expectNoMissingModule(worker);
    expectNoMissingModule(gateway);
  }, 60_000);
});
