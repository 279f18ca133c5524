import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import type { Application, RequestHandler } from 'express';
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

/** A route of the operator's endpoints, in Node's own request and response, which express also passes. */
type OperatorRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

/** GET /metrics: Prometheus text; with a token, only for `Authorization: Bearer <token>`. */
function metricsRoute(metrics: Metrics, token: string | undefined): OperatorRoute {
  return async (req, res) => {
    const [scheme, given] = (req.headers.authorization ?? '').split(' ');
    if (token !== undefined && !(scheme === 'Bearer' && sameSecret(given ?? '', token))) {
      send(res, 401, 'text/plain; charset=utf-8', 'Authentication required', { 'www-authenticate': 'Bearer realm="hfbot metrics"' });
      return;
    }
    send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
  };
}

/**
 * A server for the given GET routes and nothing else, on Node's HTTP alone: a worker without the
 * dashboard serves no more than these, and loading express for them would cost it ~2.5 MB.
 */
function routesServer(routes: Map<string, OperatorRoute>): Server {
  return createServer((req, res) => {
    const route = req.method === 'GET' || req.method === 'HEAD' ? routes.get(new URL(req.url ?? '/', 'http://localhost').pathname) : undefined;
    if (!route) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found');
      return;
    }
    Promise.resolve(route(req, res)).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error');
      else res.destroy(err instanceof Error ? err : undefined);
    });
  });
}

/** The second listener (METRICS_PORT): /metrics and nothing else. */
export function createMetricsServer(metrics: Metrics, token: string | undefined): Server {
  return routesServer(new Map([['/metrics', metricsRoute(metrics, token)]]));
}

export interface HttpAppOptions {
  readiness: Readiness;
  metrics: Metrics;
  /** `separatePort`: /metrics is served by createMetricsServer on METRICS_PORT, not here. */
  metricsAccess: { token: string | undefined; separatePort: boolean };
  /** The dashboard is mounted only when a password is set; `auth` is the operator pages' basic auth. */
  admin: { auth: RequestHandler; queues: Queue[] } | undefined;
  /** Shown at `/`. */
  landing: Omit<LandingInfo, 'dashboardPath' | 'metricsPath'>;
}

/** The operator's endpoints on every role: the landing page, liveness, readiness, Prometheus metrics. */
function operatorRoutes(options: HttpAppOptions): Map<string, OperatorRoute> {
  const landing = landingPage({
    ...options.landing,
    dashboardPath: options.admin ? ADMIN_PATH : undefined,
    metricsPath: options.metricsAccess.separatePort ? undefined : '/metrics',
  });
  const routes = new Map<string, OperatorRoute>([
    ['/', (_req, res) => send(res, 200, 'text/html; charset=utf-8', landing)],
    ['/healthz', (_req, res) => sendJson(res, 200, { ok: true })],
    [
      '/readyz',
      async (_req, res) => {
        const report = await options.readiness.report();
        sendJson(res, report.ready ? 200 : 503, report);
      },
    ],
  ]);
  if (!options.metricsAccess.separatePort) routes.set('/metrics', metricsRoute(options.metrics, options.metricsAccess.token));
  return routes;
}

/**
 * The operator's endpoints as an express app, with the Bull Board queue dashboard behind basic auth
 * when a password is set. Gateways mount their webhooks on it, and the insights page goes beside
 * the dashboard.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<Application> {
  const { default: express } = await import('express');
  const http = express();
  http.disable('x-powered-by');
  for (const [path, route] of operatorRoutes(options)) http.get(path, route);
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

/** The operator's endpoints alone, for a process with nothing else to serve (a worker without the dashboard). */
export function createOperatorServer(options: HttpAppOptions): Server {
  return routesServer(operatorRoutes(options));
}
