/** The bench's handle on its fakes' host process (fakes-host.ts): start, configure, reset, listen. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModelProfile } from './model-profile.ts';
import type { HostCommand, HostMessage, ReplyRecord } from './fakes-protocol.ts';

const HOST_ENTRY = fileURLToPath(new URL('./fakes-host.ts', import.meta.url));

export interface FakesHost {
  readonly pid: number;
  readonly hfBaseUrl: string;
  readonly slackApiUrl: string;
  readonly botUserId: string;
  readonly botToken: string;
  configure(profile: ModelProfile): Promise<void>;
  /** Forgets every message, call and request (between runs, when nothing is in flight). */
  reset(): Promise<void>;
  /** Called with each batch of finished replies. */
  onReplies(listener: (replies: ReplyRecord[]) => void): void;
  stop(): Promise<void>;
}

export async function startFakesHost(botToken = 'xoxb-bench-bot-token'): Promise<FakesHost> {
  const child: ChildProcess = fork(HOST_ENTRY, [], {
    env: { PATH: process.env.PATH ?? '', BENCH_SLACK_BOT_TOKEN: botToken },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listeners: Array<(replies: ReplyRecord[]) => void> = [];
  const pending = new Map<number, () => void>();
  let nextId = 1;

  const ready = new Promise<Extract<HostMessage, { op: 'ready' }>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fakes' host exited with ${code} while starting`)));
    child.on('message', (message: HostMessage) => {
      if (message.op === 'ready') resolve(message);
      else if (message.op === 'done') {
        pending.get(message.id)?.();
        pending.delete(message.id);
      } else for (const listener of listeners) listener(message.replies);
    });
  });
  const info = await ready;

  /** Sends a command and resolves once the host has carried it out. */
  const command = (make: (id: number) => HostCommand): Promise<void> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send(make(id));
    });

  return {
    pid: child.pid ?? -1,
    hfBaseUrl: info.hfBaseUrl,
    slackApiUrl: info.slackApiUrl,
    botUserId: info.botUserId,
    botToken,
    configure: (profile) => command((id) => ({ id, op: 'configure', profile })),
    reset: () => command((id) => ({ id, op: 'reset' })),
    onReplies: (listener) => {
      listeners.push(listener);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
