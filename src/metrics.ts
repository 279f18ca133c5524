import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets (seconds) from a fast first token to a long answer. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 60, 120];
const COUNT_BUCKETS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55];

export type JobOutcome =
  | 'answered'
  | 'failed'
  | 'retried'
  | 'delayed_loading'
  | 'delayed_rate_limit'
  | 'waiting_turn'
  | 'handed_back'
  /** Stopped by a person (a stop button): an outcome of its own, not a failure. */
  | 'stopped'
  | 'classified'
  | 'classified_fallback';

/** What the worker reports about one answered message. */
export interface AnswerTimings {
  platform: string;
  /** Event received → first model text visible on the platform. */
  firstTextSeconds: number | undefined;
  /** Event received → the final text visible. */
  finalSeconds: number;
  /** Model request → first token. */
  timeToFirstTokenSeconds: number | undefined;
  edits: number;
  apiCalls: number;
}

/**
 * The service's Prometheus metrics. Labels stay low-cardinality: queue, outcome, platform, status
 * class and failure kind; never a user, channel or job id.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #jobs = new Counter({ name: 'hfbot_jobs_total', help: 'Jobs processed, by queue and outcome', labelNames: ['queue', 'outcome'], registers: [this.registry] });
  readonly #firstText = new Histogram({
    name: 'hfbot_event_to_first_text_seconds',
    help: 'Time from a platform event to the first answer text being visible',
    labelNames: ['platform'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #finalText = new Histogram({
    name: 'hfbot_event_to_final_text_seconds',
    help: 'Time from a platform event to the complete answer being visible',
    labelNames: ['platform'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #ttft = new Histogram({
    name: 'hfbot_model_time_to_first_token_seconds',
    help: 'Time from the model request to its first token',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #hfErrors = new Counter({
    name: 'hfbot_hf_errors_total',
    help: 'Hugging Face errors, by HTTP status ("stream" for errors inside a stream, "network") and kind',
    labelNames: ['status', 'kind'],
    registers: [this.registry],
  });
  readonly #waits = new Counter({
    name: 'hfbot_model_waits_total',
    help: 'Jobs delayed for a model cold start or rate limit (no attempt spent)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly #waitSeconds = new Counter({
    name: 'hfbot_model_wait_seconds_total',
    help: 'Total time jobs were delayed for model cold starts or rate limits',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly #edits = new Histogram({
    name: 'hfbot_edits_per_reply',
    help: 'Edits of platform messages per answered reply',
    labelNames: ['platform'],
    buckets: COUNT_BUCKETS,
    registers: [this.registry],
  });
  readonly #apiCalls = new Histogram({
    name: 'hfbot_platform_api_calls_per_reply',
    help: 'Platform API calls (post, edit, delete) per answered reply',
    labelNames: ['platform'],
    buckets: COUNT_BUCKETS,
    registers: [this.registry],
  });
  readonly #feedback = new Counter({
    name: 'hfbot_feedback_total',
    help: 'Feedback on answers (thumbs up or down), once per user and answer, by platform and rating',
    labelNames: ['platform', 'rating'],
    registers: [this.registry],
  });
  readonly #classifications = new Counter({
    name: 'hfbot_sentiment_classifications_total',
    help: 'Messages classified, by classifier (hf or lexicon)',
    labelNames: ['classifier'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hfbot_' });
  }

  /** Reports each queue's job counts at scrape time. */
  watchQueue(queue: string, counts: () => Promise<Record<string, number>>): void {
    new Gauge({
      name: `hfbot_queue_${queue}_jobs`,
      help: `Jobs in the ${queue} queue, by state`,
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        for (const [state, count] of Object.entries(await counts())) this.set({ state }, count);
      },
    });
  }

  /** Reports how many threads are negative now (the insights page's list) at scrape time. */
  watchNegativeThreads(count: () => Promise<number>): void {
    new Gauge({
      name: 'hfbot_insights_negative_threads',
      help: 'Threads whose running sentiment is negative now',
      registers: [this.registry],
      async collect() {
        this.set(await count());
      },
    });
  }

  feedback(platform: string, rating: 'up' | 'down'): void {
    this.#feedback.inc({ platform, rating });
  }

  job(queue: 'chat' | 'sentiment', outcome: JobOutcome): void {
    this.#jobs.inc({ queue, outcome });
  }

  answered(timings: AnswerTimings): void {
    const platform = { platform: timings.platform };
    this.job('chat', 'answered');
    if (timings.firstTextSeconds !== undefined) this.#firstText.observe(platform, timings.firstTextSeconds);
    this.#finalText.observe(platform, timings.finalSeconds);
    if (timings.timeToFirstTokenSeconds !== undefined) this.#ttft.observe(timings.timeToFirstTokenSeconds);
    this.#edits.observe(platform, timings.edits);
    this.#apiCalls.observe(platform, timings.apiCalls);
  }

  hfError(status: number | undefined, kind: string): void {
    this.#hfErrors.inc({ status: status === undefined ? 'none' : String(status), kind });
  }

  modelWait(reason: 'loading' | 'rate_limited', ms: number): void {
    this.#waits.inc({ reason });
    this.#waitSeconds.inc({ reason }, ms / 1000);
  }

  classified(classifier: string): void {
    this.#classifications.inc({ classifier: classifier.startsWith('hf:') ? 'hf' : classifier });
  }
}
