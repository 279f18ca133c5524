import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Application, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { InsightsStore } from './store.ts';

export const INSIGHTS_PATH = '/insights';
// From the parent directory, so the path also holds in the build, where every chunk is in dist/bin/.
const PAGE_DIR = fileURLToPath(new URL('../insights/page/', import.meta.url));
/** uPlot's browser build, served as it was installed: no build step. */
const UPLOT_DIR = `${dirname(fileURLToPath(import.meta.resolve('uplot')))}/`;

const MAX_CHANNELS = 100;
const MAX_NEGATIVE = 500;

export interface InsightsRoutesOptions {
  /** The operator pages' basic auth (ADMIN_PASSWORD), shared with the queue dashboard. */
  auth: RequestHandler;
  store: InsightsStore;
  /** Platforms this deployment runs, for the page's filter. */
  platforms: string[];
  sentimentEnabled: boolean;
  logger: Logger;
}

const daysQuery = (max: number) => z.coerce.number().int().min(1).max(max).default(Math.min(30, max));

/**
 * The insights page and its JSON API at /insights, behind the dashboard's basic auth. Every API
 * call is one Redis call, whatever the history holds.
 */
export function mountInsights(http: Application, options: InsightsRoutesOptions): void {
  const { store } = options;
  const platform = z
    .string()
    .refine((name) => options.platforms.includes(name), `one of ${options.platforms.join(', ')}`)
    .optional();
  const channelsQuery = z.object({
    days: daysQuery(store.retentionDays),
    platform,
    limit: z.coerce.number().int().min(1).max(MAX_CHANNELS).default(10),
  });
  const negativeQuery = z.object({ limit: z.coerce.number().int().min(1).max(MAX_NEGATIVE).default(100), platform });
  const answersQuery = z.object({ days: daysQuery(store.retentionDays) });

  /** Validates the query, runs the read, answers JSON; a bad query is a 400 naming the problem. */
  const api =
    <T extends z.ZodType>(schema: T, read: (query: z.infer<T>) => Promise<unknown>) =>
    (req: Request, res: Response) => {
      const parsed = schema.safeParse(req.query);
      if (!parsed.success) {
        res.status(400).json({ error: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; ') });
        return;
      }
      read(parsed.data).then(
        (body) => res.set('cache-control', 'no-store').json(body),
        (err: unknown) => {
          options.logger.error({ err }, 'insights read failed');
          res.status(500).json({ error: 'the insights could not be read' });
        },
      );
    };

  const router = express.Router();
  router.use(options.auth);
  // The page's links are relative: /insights must be /insights/.
  router.get('/', (req, res, next) => {
    if (req.originalUrl.split('?')[0]?.endsWith('/')) return next();
    res.redirect(301, `${INSIGHTS_PATH}/`);
  });
  router.get('/api/info', (_req, res) => {
    res.json({ platforms: options.platforms, retentionDays: store.retentionDays, sentimentEnabled: options.sentimentEnabled });
  });
  router.get('/api/negative', api(negativeQuery, (query) => store.negativeNow(query.limit, query.platform)));
  router.get('/api/channels', api(channelsQuery, (query) => store.channels(query)));
  router.get('/api/answers', api(answersQuery, (query) => store.answers(query)));
  router.use('/vendor/uplot', express.static(UPLOT_DIR, { maxAge: '1d' }));
  router.use(express.static(PAGE_DIR, { index: 'index.html', maxAge: 0 }));
  http.use(INSIGHTS_PATH, router);
}
