/**
 * Child processes for the bench and the soak: the service's own entry point, built as `npm start`
 * builds it, run as a gateway or a worker, exactly as deployed, plus helpers to read what a process
 * cost from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildService, SERVICE_ENTRY } from '../../scripts/build.ts';
import { sleep } from './clock.ts';

interface BuiltEntries {
  hfbot: string;
  baseline: string;
}
let built: { outDir: string; entries: Promise<BuiltEntries> } | undefined;

/**
 * The service's entry point and the bench's baseline server as JavaScript, bundled once per run
 * (one build, so they share their chunks) into a dir of the repo's own (where its node_modules and
 * package.json apply; removed at exit), so both are measured as production runs them.
 * `removeBuiltEntries` ends the run's use of them.
 */
export function builtEntries(): Promise<BuiltEntries> {
  if (!built) {
    const outDir = mkdtempSync(fileURLToPath(new URL('../../.bench-build-', import.meta.url)));
    const entries = buildService({ entries: [SERVICE_ENTRY, 'bench/lib/baseline-server.ts'], outDir }).then(() => ({
      hfbot: join(outDir, 'bin/hfbot.js'),
      baseline: join(outDir, 'bench/lib/baseline-server.js'),
    }));
    built = { outDir, entries };
  }
  return built.entries;
}

/** Removes what `builtEntries` compiled, once no process of the run uses it. */
export function removeBuiltEntries(): void {
  if (built) rmSync(built.outDir, { recursive: true, force: true });
  built = undefined;
}
/**
 * The V8 flags in a command that runs the service (`node <flags> … dist/bin/hfbot.js`): the
 * `--` options before the entry point, Node's own file options left out.
 */
export function serviceNodeFlags(command: string): string[] {
  const words = command.slice(command.lastIndexOf('node ')).split(/\s+/);
  const entry = words.findIndex((word) => word.endsWith('hfbot.js'));
  return words.slice(1, entry).filter((word) => word.startsWith('--') && !word.startsWith('--env-file'));
}

/**
 * The Node flags the service runs with, read from `npm start` (the Dockerfile's ENTRYPOINT carries
 * the same; test/e2e/image-files.test.ts checks): V8's young generation capped at 2 × 8 MB (by
 * default it grows to 2 × 64 MB under load and stays), a major collection once the old generation
 * doubles (by default V8 lets it reach 4× what is live), and WebAssembly (undici's HTTP parser)
 * left as Liftoff compiles it (optimizing it kept ~11 MB in an idle worker).
 */
export const SERVICE_NODE_FLAGS = serviceNodeFlags(
  (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } }).scripts.start,
);
/** Kernel clock ticks per second (`getconf CLK_TCK`): 100 on every Linux the bench targets. */
const CLOCK_TICKS = 100;
/** How much of a child's output is kept, for the report when it dies unexpectedly. */
const OUTPUT_TAIL_CHARS = 8_000;

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<string>;
  /** True once the process has ended without `stop()` or `kill9()` asking it to. */
  readonly crashed: boolean;
  /** How it ended: `code 1`, `signal SIGKILL`; undefined while running. */
  readonly exitReason: string | undefined;
  readonly running: boolean;
  /** The last few kB the process wrote to stdout and stderr. */
  output(): string;
  /** SIGKILL, expected: not counted as a crash. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** Runs `node <nodeArgs> <args>`; with `command`, runs that program instead of node. */
  nodeArgs?: string[];
  command?: string;
  /** Called when the process ends on its own (a crash). */
  onCrash?: (proc: ManagedProcess) => void;
}

/** The processes spawned and still running. */
const running = new Set<ChildProcess>();

/**
 * For the bench's and the soak's command lines: no process of the run outlives it. Stopped with
 * SIGTERM or SIGINT, or ending without its own clean-up, a run would otherwise leave its gateways,
 * workers and redis-server running, and their load would fall on whatever is measured next.
 */
export function endChildrenWithTheRun(): void {
  const killRunning = () => {
    for (const child of running) child.kill('SIGKILL');
    removeBuiltEntries();
  };
  process.once('exit', killRunning);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      killRunning();
      process.exit(code);
    });
  }
}

/** Spawns a process whose unexpected exit is recorded as a crash. */
export function spawnManaged(options: SpawnOptions): ManagedProcess {
  const command = options.command ?? process.execPath;
  const args = options.command ? options.args : [...(options.nodeArgs ?? []), ...options.args];
  const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let expected = false;
  let ended = false;
  let crashed = false;
  let exitReason: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = true;
      exitReason = signal ? `signal ${signal}` : `code ${code}`;
      if (!expected) crashed = true;
      resolve(signal ?? String(code));
    });
  });
  const managed: ManagedProcess = {
    name: options.name,
    child,
    pid: child.pid ?? -1,
    exited,
    get crashed() {
      return crashed;
    },
    get running() {
      return !ended;
    },
    get exitReason() {
      return exitReason;
    },
    output: () => tail,
    async kill9() {
      expected = true;
      if (!ended) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      expected = true;
      if (ended) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  if (options.onCrash) void exited.then(() => crashed && options.onCrash?.(managed));
  return managed;
}

/** `node dist/bin/hfbot.js --role <role>` with `env` (and PATH), as a deployment runs it. */
export async function spawnHfbot(
  role: 'gateway' | 'worker',
  env: Record<string, string>,
  extra: { name?: string; nodeArgs?: string[]; onCrash?: (proc: ManagedProcess) => void } = {},
): Promise<ManagedProcess> {
  return spawnManaged({
    name: extra.name ?? role,
    args: [(await builtEntries()).hfbot, '--role', role],
    env: { PATH: process.env.PATH ?? '', ...env },
    nodeArgs: [...SERVICE_NODE_FLAGS, ...(extra.nodeArgs ?? [])],
    ...(extra.onCrash ? { onCrash: extra.onCrash } : {}),
  });
}

/** Waits until `GET http://127.0.0.1:<port>/healthz` answers 200; throws with the output if not. */
export async function waitHealthy(proc: ManagedProcess, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${proc.name} exited while starting:\n${proc.output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${proc.name} did not answer /healthz within ${timeoutMs} ms:\n${proc.output()}`);
}

export interface ProcSample {
  /** User + system CPU time so far, in seconds. */
  cpuSec: number;
  /** Resident set size now and its peak (VmHWM) since start or the last `resetPeakRss`, in MB. */
  rssMb: number;
  peakRssMb: number;
}

/** CPU and memory of a live process from /proc; undefined once it is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { cpuSec: ticks / CLOCK_TICKS, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets a process's peak RSS to its current RSS (Linux: `5` into clear_refs); false if not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
