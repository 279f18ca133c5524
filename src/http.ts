import { createHash, timingSafeEqual } from 'node:crypto';
import type { Queue } from 'bullmq';
import express, { type Application, type RequestHandler } from 'express';
import { landingPage, type LandingInfo } from './landing.ts';
import { LoginThrottle } from './login-throttle.ts';
import type { Metrics } from './metrics.ts';
import type { Readiness } from './readiness.ts';

export const ADMIN_PATH = '/admin/queues';
const ADMIN_USER = 'admin';

/** Compares digests, so neither the content nor the length of the secret shows in the timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * HTTP basic auth for the operator's pages (queue dashboard, insights): user `admin`, password
 * ADMIN_PASSWORD. Wrong credentials are counted per client address (the socket's: behind a proxy,
 * the proxy's) and slow that address down; a request without credentials (a browser's first) is
 * not a failure. One handler serves every page, so they share one count.
 */
export function basicAuth(password: string, throttle = new LoginThrottle()): RequestHandler {
  return (req, res, next) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const waitMs = throttle.waitMs(address);
    if (waitMs > 0) {
      res.set('retry-after', String(Math.ceil(waitMs / 1000))).status(429).send('Too many failed logins; retry later');
      return;
    }
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64').toString().split(':');
    if (scheme === 'Basic' && user === ADMIN_USER && sameSecret(rest.join(':'), password)) {
      throttle.succeeded(address);
      return next();
    }
    if (req.headers.authorization) throttle.failed(address);
    res.set('www-authenticate', 'Basic realm="hfbot admin", charset="UTF-8"').status(401).send('Authentication required');
  };
}

/** GET /metrics: Prometheus text; with a token, only for `Authorization: Bearer <token>`. */
function metricsHandler(metrics: Metrics, token: string | undefined): RequestHandler {
  return async (req, res) => {
    const [scheme, given] = (req.headers.authorization ?? '').split(' ');
    if (token !== undefined && !(scheme === 'Bearer' && sameSecret(given ?? '', token))) {
      res.set('www-authenticate', 'Bearer realm="hfbot metrics"').status(401).send('Authentication required');
      return;
    }
    res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/** The second listener's app (METRICS_PORT): /metrics and nothing else. */
export function createMetricsApp(metrics: Metrics, token: string | undefined): Application {
  const http = express();
  http.disable('x-powered-by');
  http.get('/metrics', metricsHandler(metrics, token));
  return http;
}

export interface HttpAppOptions {
  readiness: Readiness;
  metrics: Metrics;
  /** `separatePort`: /metrics is served by createMetricsApp on METRICS_PORT, not here. */
  metricsAccess: { token: string | undefined; separatePort: boolean };
  /** The dashboard is mounted only when a password is set; `auth` is the operator pages' basic auth. */
  admin: { auth: RequestHandler; queues: Queue[] } | undefined;
  /** Shown at `/`. */
  landing: Omit<LandingInfo, 'dashboardPath' | 'metricsPath'>;
}

/**
 * The operator's endpoints, on every role: liveness, readiness, Prometheus metrics, and the Bull
 * Board queue dashboard behind basic auth. Gateways mount their webhooks on the same app.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<Application> {
  const http = express();
  http.disable('x-powered-by');
  http.get('/', (_req, res) => {
    res.type('html').send(
      landingPage({
        ...options.landing,
        dashboardPath: options.admin ? ADMIN_PATH : undefined,
        metricsPath: options.metricsAccess.separatePort ? undefined : '/metrics',
      }),
    );
  });
  http.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  http.get('/readyz', async (_req, res) => {
    const report = await options.readiness.report();
    res.status(report.ready ? 200 : 503).json(report);
  });
  if (!options.metricsAccess.separatePort) http.get('/metrics', metricsHandler(options.metrics, options.metricsAccess.token));
  if (options.admin) {
    // Loaded only where a password switches the dashboard on.
    const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/express'),
    ]);
    const board = new ExpressAdapter();
    board.setBasePath(ADMIN_PATH);
    createBullBoard({ queues: options.admin.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: board });
    http.use(ADMIN_PATH, options.admin.auth, board.getRouter() as RequestHandler);
  }
  return http;
}
