/**
 * REST plumbing: body parsing (JSON and multipart uploads), routing, bot-token checks, per-route
 * rate-limit buckets and headers, injected failures, and the request log.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http.ts';
import type { RecordedRequest, FailMatch, FailResponse } from './types.ts';
import { API_PREFIX } from './protocol.ts';
import { type PendingFailure, type ParsedFile, type RestResult, type Route, ApiError, safeDecode } from './internal.ts';
import type { DiscordState } from './state.ts';

export class Rest {
  readonly #state: DiscordState;
  readonly #routes: Route[];
  readonly requests: RecordedRequest[] = [];
  readonly #failures: PendingFailure[] = [];
  readonly #buckets = new Map<string, { count: number; resetAt: number }>();

  constructor(state: DiscordState, routes: Route[]) {
    this.#state = state;
    this.#routes = routes;
  }

  async #handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.#state.url);
    const raw = await readBody(req);
    // @discordjs/rest percent-encodes path segments (`%40original`, emoji, `:` in custom emoji):
    // record and route on the decoded segments.
    const rawPath = url.pathname.startsWith(`${API_PREFIX}/`) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const path = rawPath.split('/').map(safeDecode).join('/');
    const record: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: null,
      files: [],
      authorized: req.headers.authorization === `Bot ${this.#state.token}`,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);

    // Route first, so even errors carry the right bucket's headers.
    let route: Route | undefined;
    let params: Record<string, string> = {};
    let methodMismatch = false;
    if (url.pathname.startsWith(`${API_PREFIX}/`)) {
      for (const candidate of this.#routes) {
        const m = candidate.pattern.exec(path);
        if (!m) continue;
        if (candidate.method !== method) {
          methodMismatch = true;
          continue;
        }
        route = candidate;
        params = { ...m.groups };
        break;
      }
    }
    const rl = this.#rateLimitHeaders(method, route?.template ?? 'unknown', params);

    let result: RestResult;
    try {
      const parsed = await this.#parseBody(req, raw);
      record.body = parsed.body;
      record.files = parsed.files.map(({ index: _index, ...file }) => file);
      const failure = this.#takeFailure(method, path);
      if (failure) {
        result = this.#failureResult(failure);
      } else if (!route) {
        result = methodMismatch
          ? { status: 405, body: { message: '405: Method Not Allowed', code: 0 } }
          : { status: 404, body: { message: '404: Not Found', code: 0 } };
      } else if (route.auth && !record.authorized) {
        result = { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      } else if (rl.exceeded) {
        const retryAfter = Number(rl.headers['X-RateLimit-Reset-After']);
        result = {
          status: 429,
          body: { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
          headers: { 'Retry-After': String(retryAfter), 'X-RateLimit-Scope': 'user' },
        };
      } else {
        result = route.handler({ method, path, params, query: url.searchParams, body: parsed.body, files: parsed.files });
      }
    } catch (err) {
      if (err instanceof ApiError) {
        const body: Record<string, unknown> = { message: err.message, code: err.code };
        if (err.errors !== undefined) body.errors = err.errors;
        result = { status: err.status, body };
      } else {
        // A bug in the fake: answer like Discord's 500 and keep the cause visible in the body.
        result = { status: 500, body: { message: `500: Internal Server Error (${String(err)})`, code: 0 } };
      }
    }
    record.status = result.status;
    this.#send(res, result, rl.headers);
  }

  #send(res: ServerResponse, result: RestResult, rateLimitHeaders: Record<string, string>): void {
    const headers: Record<string, string> = { ...rateLimitHeaders, ...result.headers };
    if (result.status === 204 || result.body === undefined) {
      res.writeHead(result.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(result.body);
    res.writeHead(result.status, {
      ...headers,
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  /** JSON, or multipart with `payload_json` + `files[N]` (as discord.js sends uploads). */
  async #parseBody(req: IncomingMessage, raw: Buffer): Promise<{ body: unknown; files: ParsedFile[] }> {
    if (raw.length === 0) return { body: null, files: [] };
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const request = new Request('http://fake.local/', { method: 'POST', headers: { 'content-type': type }, body: raw });
      const form = await request.formData();
      let body: unknown = null;
      const files: ParsedFile[] = [];
      for (const [field, value] of form.entries()) {
        if (typeof value === 'string') {
          if (field === 'payload_json') body = this.#parseJson(value);
          continue;
        }
        files.push({
          field,
          index: /^files\[(\d+)\]$/.exec(field)?.[1] ?? String(files.length),
          filename: value.name,
          size: value.size,
          contentType: value.type || 'application/octet-stream',
        });
      }
      return { body, files };
    }
    return { body: this.#parseJson(raw.toString('utf8')), files: [] };
  }

  #parseJson(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
    }
  }

  #takeFailure(method: string, path: string): PendingFailure | undefined {
    const index = this.#failures.findIndex(
      (f) => (f.match.method === undefined || f.match.method.toUpperCase() === method) && f.match.route.test(path),
    );
    if (index === -1) return undefined;
    const failure = this.#failures[index];
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.#failures.splice(index, 1);
    return failure;
  }

  #failureResult(failure: PendingFailure): RestResult {
    const { status, body, retryAfterSec, global, headers } = failure.response;
    if (status !== 429) {
      return { status, body: body ?? { message: `${status}: Injected failure`, code: 0 }, headers: headers ?? {} };
    }
    const retryAfter = retryAfterSec ?? 0.05;
    const extra: Record<string, string> = {
      'Retry-After': String(retryAfter),
      'X-RateLimit-Scope': global ? 'global' : 'user',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset-After': String(retryAfter),
      'X-RateLimit-Reset': ((Date.now() + retryAfter * 1000) / 1000).toFixed(3),
    };
    if (global) extra['X-RateLimit-Global'] = 'true';
    return {
      status,
      body: body ?? { message: 'You are being rate limited.', retry_after: retryAfter, global: global ?? false },
      headers: { ...extra, ...headers },
    };
  }

  /**
   * Counts the request against its bucket (route template + major parameter) and builds the
   * `X-RateLimit-*` headers Discord sends.
   */
  #rateLimitHeaders(
    method: string,
    template: string,
    params: Record<string, string>,
  ): { headers: Record<string, string>; exceeded: boolean } {
    const { limit, windowMs } = this.#state.opts.rateLimit;
    const hash = createHash('sha1').update(`${method} ${template}`).digest('hex').slice(0, 32);
    const major =
      params.channel_id ??
      params.guild_id ??
      (params.token ? `${params.application_id ?? params.interaction_id ?? ''}/${params.token}` : undefined) ??
      'none';
    const key = `${hash}:${major}`;
    const now = Date.now();
    let bucket = this.#buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { count: 0, resetAt: now + windowMs };
      this.#buckets.set(key, bucket);
    }
    bucket.count += 1;
    const exceeded = this.#state.opts.rateLimit.enforce && bucket.count > limit;
    return {
      exceeded,
      headers: {
        'X-RateLimit-Limit': String(limit),
        'X-RateLimit-Remaining': String(Math.max(0, limit - bucket.count)),
        'X-RateLimit-Reset': (bucket.resetAt / 1000).toFixed(3),
        'X-RateLimit-Reset-After': ((bucket.resetAt - now) / 1000).toFixed(3),
        'X-RateLimit-Bucket': hash,
      },
    };
  }

  failNext(match: FailMatch, response: FailResponse, times = 1): void {
    this.#failures.push({ match, response, remaining: times });
  }

  /** The HTTP server's request handler. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) this.#send(res, { status: 500, body: { message: String(err), code: 0 } }, {});
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.#failures.length = 0;
    this.#buckets.clear();
  }
}
