import type { Keyspace, RedisConnection } from '../queue/redis.ts';

/** How long a stop mark outlives the request: longer than any job waits for a cold start. */
const STOP_MARK_TTL_SECONDS = 3600;

/**
 * Stops travel by message, not by call. A gateway that hears "stop" (a stop button, a command)
 * marks the job and publishes its id; every worker listens, and the one holding the job aborts it
 * through BullMQ's per-job AbortSignal (`worker.cancelJob`). The mark covers a job that is not
 * running yet (waiting its turn, or delayed by a cold start): it is never started.
 */
export class StopRequests {
  readonly #redis: RedisConnection;
  readonly #keys: Keyspace;

  constructor(redis: RedisConnection, keys: Keyspace) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Marks the job stopped, then tells every worker (the mark first: a worker starting it now sees it). */
  async request(jobId: string): Promise<void> {
    await this.#redis.set(this.#keys.stopped(jobId), '1', 'EX', STOP_MARK_TTL_SECONDS);
    await this.#redis.publish(this.#keys.stopChannel, jobId);
  }

  async isRequested(jobId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.stopped(jobId))) === 1;
  }

  /**
   * Calls `onStop` with every job id asked to stop, from any process, until the returned function
   * is called. `subscriber` is a connection of its own: a subscribed connection can do nothing else.
   */
  async listen(subscriber: RedisConnection, onStop: (jobId: string) => void): Promise<() => Promise<void>> {
    const channel = this.#keys.stopChannel;
    const onMessage = (from: string, jobId: string) => {
      if (from === channel) onStop(jobId);
    };
    subscriber.on('message', onMessage);
    await subscriber.subscribe(channel);
    return async () => {
      subscriber.off('message', onMessage);
      await subscriber.unsubscribe(channel);
    };
  }
}
