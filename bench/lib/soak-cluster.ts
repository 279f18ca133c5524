/**
 * The soak's service: one gateway and N workers, each `bin/hfbot.ts` in its own process, as
 * deployed. Workers can be killed with SIGKILL and are replaced at once; any process that exits
 * without being asked to is a crash, counted and replaced so the run goes on.
 */
import { freePort, spawnHfbot, waitHealthy, type ManagedProcess } from './procs.ts';

export interface ClusterCrash {
  name: string;
  /** `code 1`, `signal SIGSEGV`… */
  exit: string;
  /** Seconds since the cluster started. */
  atSec: number;
  output: string;
}

export class SoakCluster {
  readonly crashes: ClusterCrash[] = [];
  kills = 0;
  readonly #env: Record<string, string>;
  readonly #workers: ManagedProcess[] = [];
  #gateway: ManagedProcess | undefined;
  #gatewayPort = 0;
  #spawned = 0;
  #stopping = false;
  #nextVictim = 0;
  readonly #startedAt = Date.now();

  constructor(env: Record<string, string>) {
    this.#env = env;
  }

  get eventsUrl(): string {
    return `http://127.0.0.1:${this.#gatewayPort}/slack/events`;
  }

  async start(workers: number): Promise<void> {
    this.#gatewayPort = await freePort();
    const started = [this.#startGateway(), ...Array.from({ length: workers }, () => this.#startWorker())];
    await Promise.all(started);
  }

  /** SIGKILLs the next worker in turn and starts its replacement (not awaited: it boots meanwhile). */
  async killWorker(): Promise<void> {
    if (this.#workers.length === 0) return;
    const index = this.#nextVictim % this.#workers.length;
    this.#nextVictim += 1;
    const [victim] = this.#workers.splice(index, 1);
    if (!victim) return;
    await victim.kill9();
    this.kills += 1;
    this.#startWorker().catch(() => undefined);
  }

  /** SIGKILLs the gateway (no replacement until `startGateway`): whatever it had not acknowledged is Slack's to send again. */
  async killGateway(): Promise<void> {
    await this.#gateway?.kill9();
  }

  /** Starts the gateway again on the same port. */
  async startGateway(): Promise<void> {
    await this.#startGateway();
  }

  /** Workers running now. */
  get workerCount(): number {
    return this.#workers.filter((worker) => worker.running).length;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#workers, ...(this.#gateway ? [this.#gateway] : [])].map((proc) => proc.stop()));
  }

  async #startGateway(): Promise<void> {
    const gateway = await spawnHfbot('gateway', { ...this.#env, PORT: String(this.#gatewayPort) }, { onCrash: (proc) => this.#onCrash(proc) });
    this.#gateway = gateway;
    await waitHealthy(gateway, this.#gatewayPort);
  }

  async #startWorker(): Promise<void> {
    this.#spawned += 1;
    const port = await freePort();
    const worker = await spawnHfbot('worker', { ...this.#env, PORT: String(port) }, {
      name: `worker-${this.#spawned}`,
      onCrash: (proc) => this.#onCrash(proc),
    });
    this.#workers.push(worker);
    await waitHealthy(worker, port);
  }

  #onCrash(proc: ManagedProcess): void {
    if (this.#stopping) return;
    this.crashes.push({ name: proc.name, exit: proc.exitReason ?? '?', atSec: (Date.now() - this.#startedAt) / 1000, output: proc.output() });
    // Keep the run going with a replacement, so one crash does not hide everything after it.
    // A replacement that fails to start is itself recorded as a crash, so failures here are not lost.
    if (proc === this.#gateway) this.#startGateway().catch(() => undefined);
    else {
      const index = this.#workers.indexOf(proc);
      if (index >= 0) this.#workers.splice(index, 1);
      this.#startWorker().catch(() => undefined);
    }
  }
}
