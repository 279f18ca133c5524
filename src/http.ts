import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Application, type RequestHandler } from 'express';
import { landingPage, type LandingInfo } from './landing.ts';
import type { Metrics } from './metrics.ts';
import type { Readiness } from './readiness.ts';

export const ADMIN_PATH = '/admin/queues';
const ADMIN_USER = 'admin';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HTTP basic auth for the dashboard: user `admin`, password ADMIN_PASSWORD. */
function basicAuth(password: string): RequestHandler {
  return (req, res, next) => {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64').toString().split(':');
    if (scheme === 'Basic' && user === ADMIN_USER && sameSecret(rest.join(':'), password)) return next();
    res.set('www-authenticate', 'Basic realm="hfbot admin", charset="UTF-8"').status(401).send('Authentication required');
  };
}

export interface HttpAppOptions {
  readiness: Readiness;
  metrics: Metrics;
  /** The dashboard is mounted only when a password is set. */
  admin: { password: string; queues: Queue[] } | undefined;
  /** Shown at `/`. */
  landing: Omit<LandingInfo, 'dashboardPath'>;
}

/**
 * The operator's endpoints, on every role: liveness, readiness, Prometheus metrics, and the Bull
 * Board queue dashboard behind basic auth. Gateways mount their webhooks on the same app.
 */
export function createHttpApp(options: HttpAppOptions): Application {
  const http = express();
  http.disable('x-powered-by');
  http.get('/', (_req, res) => {
    res.type('html').send(landingPage({ ...options.landing, dashboardPath: options.admin ? ADMIN_PATH : undefined }));
  });
  http.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  http.get('/readyz', async (_req, res) => {
    const report = await options.readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  });
  http.get('/metrics', async (_req, res) => {
    res.set('content-type', options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  if (options.admin) {
    const board = new ExpressAdapter();
    board.setBasePath(ADMIN_PATH);
    createBullBoard({ queues: options.admin.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: board });
    http.use(ADMIN_PATH, basicAuth(options.admin.password), board.getRouter() as RequestHandler);
  }
  return http;
}
