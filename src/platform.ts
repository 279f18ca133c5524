import type { Application } from 'express';
import type { ChannelSettingsStore } from './channels/settings.ts';
import type { Config } from './config.ts';
import type { ConversationHistory } from './conversation/history.ts';
import type { ReplyIndex } from './conversation/reply-index.ts';
import type { Intake } from './intake.ts';
import type { Logger } from './logger.ts';
import type { Keyspace, RedisConnection } from './queue/redis.ts';
import type { SentimentStore } from './sentiment/store.ts';
import type { Surface } from './surface.ts';

/** What every adapter may use, gateway or surface. */
export interface AdapterContext {
  config: Config;
  logger: Logger;
  /** The service's Redis, for adapters that keep state of their own (the playground). */
  redis: RedisConnection;
  keys: Keyspace;
}

export interface GatewayContext extends AdapterContext {
  intake: Intake;
  history: ConversationHistory;
  /** Which conversation an answer message belongs to (reply chains). */
  replies: ReplyIndex;
  /** Running sentiment, for `/sentiment`. */
  sentiment: SentimentStore;
  /** Per-channel model, prompt and mention policy, for `/model` and `/prompt`. */
  channelSettings: ChannelSettingsStore;
  /** The service's HTTP app, for adapters that receive webhooks (mounted before it listens). */
  http: Application;
}

export interface RunningGateway {
  /** Connected to the platform (or, for webhooks, listening) and taking events. */
  ready(): boolean;
  /** Stop taking events; in-flight acks finish. */
  stop(): Promise<void>;
}

/**
 * What a platform plugs into the core: an inbound gateway (events in, jobs out) and an outbound
 * surface (replies). The core only knows this shape; adapters/ holds the implementations.
 */
export interface PlatformAdapter {
  readonly platform: string;
  /** Whether the config carries this platform's credentials. */
  enabled(config: Config): boolean;
  createSurface(context: AdapterContext): Surface;
  startGateway(context: GatewayContext, surface: Surface): Promise<RunningGateway>;
}
