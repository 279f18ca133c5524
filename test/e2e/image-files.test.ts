import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SERVICE_NODE_FLAGS, serviceNodeFlags } from '../../bench/lib/procs.ts';
import { eventually, uniquePrefix } from '../support/service.ts';
import { spawnHfbot, type HfbotProcess } from '../support/worker-process.ts';

/**
 * The Docker image's file set, without Docker. The build stage is replayed in a temp dir (its COPY
 * lines from the build context, the repo's node_modules, its `RUN npm run build`), then the runtime
 * stage's COPY lines fill another temp dir from the context and from that build, which is started
 * with no HF_TOKEN so the playground answers with the offline demo model (the HF fake, run
 * in-process). A file the code needs that either stage does not copy makes the build or a process
 * fail ("Cannot find module") and this test with it.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The image's WORKDIR, where the build stage's paths are rooted. */
const WORKDIR = '/app';

interface Copy {
  /** `context` for the build context, else the stage named by `--from=`. */
  from: string;
  source: string;
  destination: string;
}

/** The COPY lines of the stage `FROM … AS <name>`. */
function stageCopies(dockerfile: string, name: string): Copy[] {
  const stage = dockerfile.split(/^FROM\s+/im).find((text) => new RegExp(`^\\S+\\s+AS\\s+${name}\\b`, 'i').test(text));
  if (!stage) throw new Error(`Dockerfile: no \`FROM … AS ${name}\` stage`);
  const copies: Copy[] = [];
  for (const line of stage.split('\n')) {
    const match = /^COPY\s+(.*)$/i.exec(line.trim());
    if (!match?.[1]) continue;
    const words = match[1].split(/\s+/);
    const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length) ?? 'context';
    const paths = words.filter((word) => !word.startsWith('--'));
    const destination = paths.pop();
    if (!destination || paths.length === 0) throw new Error(`Dockerfile: cannot read "${line}"`);
    for (const source of paths) copies.push({ from, source, destination: paths.length > 1 || destination.endsWith('/') ? join(destination, source) : destination });
  }
  return copies;
}

/** The build stage's work: its files copied into `dir`, then `npm run build` there (the same script). */
function replayBuildStage(dockerfile: string, dir: string): void {
  expect(dockerfile).toMatch(/^RUN npm run build$/m);
  for (const copy of stageCopies(dockerfile, 'build')) {
    if (copy.from !== 'context') throw new Error(`Dockerfile: the build stage copies from ${copy.from}`);
    cpSync(join(REPO, copy.source), join(dir, copy.destination), { recursive: true });
  }
  // The stage's own `npm ci`: every dependency, the compiler included.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const built = spawnSync(process.execPath, [join(dir, 'scripts/build.ts')], { cwd: dir, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed in the build stage:\n${built.stdout}${built.stderr}`);
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

let buildDir: string;
let imageDir: string;
/** The script of the image's ENTRYPOINT, relative to its WORKDIR. */
let imageEntry: string;
const processes: HfbotProcess[] = [];

function start(roles: string[], prefix: string): HfbotProcess {
  // The image's environment: NODE_ENV=production, no HF_TOKEN, the playground on.
  const child = spawnHfbot(roles, { NODE_ENV: 'production', PLAYGROUND_ENABLED: 'true', QUEUE_PREFIX: prefix, USER_RATE_LIMIT: '0' }, join(imageDir, imageEntry));
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
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  buildDir = mkdtempSync(join(tmpdir(), 'hfbot-image-build-'));
  replayBuildStage(dockerfile, buildDir);
  imageDir = mkdtempSync(join(tmpdir(), 'hfbot-image-'));
  for (const { from, source, destination } of stageCopies(dockerfile, 'runtime')) {
    if (from === 'context') cpSync(join(REPO, source), join(imageDir, destination), { recursive: true });
    else if (from === 'build') cpSync(join(buildDir, relative(WORKDIR, source)), join(imageDir, destination), { recursive: true });
    // node_modules from `deps` is stood in for by linkProductionModules.
    else if (from !== 'deps') throw new Error(`Dockerfile: the runtime stage copies from ${from}`);
  }
  expect(linkProductionModules(imageDir)).toBeGreaterThan(0);
  const entrypoint = z.array(z.string()).parse(JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? 'null'));
  imageEntry = entrypoint.find((word) => /\.[cm]?[jt]s$/.test(word)) ?? '';
  // The image runs with the flags `npm start` (and so the bench) runs with.
  expect(serviceNodeFlags(entrypoint.join(' ')), "the ENTRYPOINT's Node flags").toEqual(SERVICE_NODE_FLAGS);
  expect(imageEntry !== '' && existsSync(join(imageDir, imageEntry)), `the ENTRYPOINT's script (${imageEntry}) is in the image`).toBe(true);
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
  for (const dir of [imageDir, buildDir]) if (dir) rmSync(dir, { recursive: true, force: true });
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
